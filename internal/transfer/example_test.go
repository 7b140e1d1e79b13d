package transfer_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/asc-auth/action/internal/transfer"
)

// A file sent in two parts to presigned URLs, reading the ETag of each
// answer as an S3 multipart upload needs.
func ExampleSend() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", fmt.Sprintf(`"%s-%d"`, strings.TrimPrefix(r.URL.Path, "/"), n))
	}))
	defer srv.Close()

	file := strings.NewReader("hello, parts") // an *os.File in real use
	var parts []transfer.Part
	for i, r := range [][2]int64{{0, 7}, {7, 5}} {
		u, _ := url.Parse(fmt.Sprintf("%s/part%d?X-Amz-Signature=secret", srv.URL, i+1))
		parts = append(parts, transfer.Part{Method: http.MethodPut, URL: u, Offset: r[0], Length: r[1]})
	}
	res, err := transfer.Send(context.Background(), file, file.Size(), parts, transfer.Options{
		Response: func(resp *http.Response, _ transfer.Part) (string, error) { return resp.Header.Get("ETag"), nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Responses)
	// Output: ["part1-7" "part2-5"]
}
