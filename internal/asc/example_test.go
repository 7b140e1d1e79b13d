package asc_test

import (
	"errors"
	"fmt"

	"github.com/asc-auth/action/internal/asc"
)

func ExampleParseRateLimit() {
	rl, ok := asc.ParseRateLimit("user-hour-lim:3600;user-hour-rem:3599;")
	fmt.Println(rl.Limit, rl.Remaining, ok)
	// Output: 3600 3599 true
}

func ExampleAPIError() {
	var err error = &asc.APIError{
		Method:     "GET",
		Path:       "/v1/apps/999",
		StatusCode: 404,
		Errors: []asc.ErrorItem{{
			Status: "404",
			Code:   "NOT_FOUND",
			Title:  "The specified resource does not exist",
			Detail: "There is no resource of type 'apps' with id '999'",
		}},
	}
	fmt.Println(err)
	fmt.Println(errors.Is(err, asc.ErrNotFound))
	// Output:
	// asc: GET /v1/apps/999: 404 NOT_FOUND: The specified resource does not exist: There is no resource of type 'apps' with id '999'
	// true
}
