package ascsim_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/asc-auth/action/internal/ascsim"
	"github.com/asc-auth/action/internal/token"
)

// A test stands up the simulator, registers a key, seeds an app and its
// builds, and points its client at the returned URL.
func Example() {
	srv, err := ascsim.New()
	if err != nil {
		log.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	const kid, iss = "ABCDE12345", "69a6de70-03db-47e3-e053-5b8c7c11a4d1"
	srv.RegisterKey(kid, iss, false, &key.PublicKey)
	appID := srv.AddApp("com.example.app", "Example")
	srv.AddBuild(appID, "IOS", "1.0", "41", "VALID", time.Now().Add(-time.Hour))
	srv.AddBuild(appID, "IOS", "1.0", "42", "PROCESSING", time.Now())

	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	m, err := token.NewMinter(key, token.Config{KeyID: kid, IssuerID: iss})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := m.Mint()
	if err != nil {
		log.Fatal(err)
	}
	req, err := http.NewRequest("GET", url+"/v1/builds?filter[app]="+appID+"&sort=-uploadedDate&limit=1", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Value)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Data []struct {
			Attributes struct{ Version, ProcessingState string }
		}
		Meta struct{ Paging struct{ Total, Limit int } }
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StatusCode, res.Header.Get("X-Rate-Limit"))
	fmt.Println(body.Data[0].Attributes.Version, body.Data[0].Attributes.ProcessingState, body.Meta.Paging.Total)
	// Output:
	// 200 user-hour-lim:3600;user-hour-rem:3599;
	// 42 PROCESSING 2
}

// Faults make the next matching requests fail as Apple's sometimes do.
func ExampleServer_Inject() {
	srv, err := ascsim.New()
	if err != nil {
		log.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.Inject(ascsim.Fault{Kind: ascsim.FaultRateLimit, PathPrefix: "/v1/builds", RetryAfter: 5 * time.Second, Times: 1})

	for range 2 {
		res, err := http.Get(url + "/v1/builds")
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Output:
	// 429 5
	// 401
}
