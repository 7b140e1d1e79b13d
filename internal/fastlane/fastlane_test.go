package fastlane

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"

func TestParseAPIKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		json    string
		want    APIKey
		wantErr string
	}{
		{
			name: "every field",
			json: `{"key_id":"DEMOKEY001","issuer_id":"69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1","key":"k","in_house":true,"duration":600,"is_key_content_base64":true}`,
			want: APIKey{KeyID: "DEMOKEY001", IssuerID: "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1", Key: "k", InHouse: true, Duration: 600, IsKeyContentBase64: true},
		},
		{
			name: "individual key without issuer and unknown fields ignored",
			json: `{"key_id":"DEMOKEY001","key":"k","issuer_id":null,"note":"x"}`,
			want: APIKey{KeyID: "DEMOKEY001", Key: "k"},
		},
		{name: "invalid JSON", json: `{"key_id":`, wantErr: "not a JSON object"},
		{name: "an array", json: `["key_id"]`, wantErr: "not a JSON object"},
		{name: "null", json: `null`, wantErr: "not a JSON object"},
		{name: "missing key and key_id", json: `{"issuer_id":"x"}`, wantErr: "fastlane: the API key JSON is missing key_id and key"},
		{name: "missing key", json: `{"key_id":"DEMOKEY001"}`, wantErr: "fastlane: the API key JSON is missing key"},
		{name: "in_house as a string", json: `{"key_id":"A","key":"k","in_house":"yes"}`, wantErr: `"in_house" of the API key JSON must be true or false`},
		{name: "fractional duration", json: `{"key_id":"A","key":"k","duration":1.5}`, wantErr: `"duration"`},
		{name: "negative duration", json: `{"key_id":"A","key":"k","duration":-1}`, wantErr: "negative"},
		{name: "key as a number", json: `{"key_id":"A","key":5}`, wantErr: `"key" of the API key JSON must be a string`},
		{name: "too large", json: `{"key":"` + strings.Repeat("a", maxAPIKeySize) + `"}`, wantErr: "over 64 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAPIKey([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseAPIKey = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestWriteAPIKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new", "dir", "api_key.json")
	want := APIKey{KeyID: "DEMOKEY001", IssuerID: "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1", Key: pem, Duration: 840}
	if err := WriteAPIKeyFile(path, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"key_id", "issuer_id", "key", "in_house", "duration", "is_key_content_base64"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("written JSON lacks %q: %s", f, data)
		}
	}
	got, err := ParseAPIKey(data)
	if err != nil || got != want {
		t.Fatalf("read back %+v, %v; want %+v", got, err, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the key file", len(entries))
	}

	if err := WriteAPIKeyFile(t.TempDir(), want); err == nil {
		t.Error("writing over a folder succeeded")
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	team := APIKey{KeyID: "DEMOKEY001", IssuerID: "69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1", Key: pem, Duration: 840}
	got := map[string]string{}
	for _, e := range Env(team, "/tmp/k.json") {
		got[e.Name] = e.Value
	}
	want := map[string]string{
		"APP_STORE_CONNECT_API_KEY_PATH":                  "/tmp/k.json",
		"APP_STORE_CONNECT_API_KEY_KEY_ID":                "DEMOKEY001",
		"APP_STORE_CONNECT_API_KEY_ISSUER_ID":             team.IssuerID,
		"APP_STORE_CONNECT_API_KEY_KEY":                   pem,
		"APP_STORE_CONNECT_API_KEY_IS_KEY_CONTENT_BASE64": "false",
		"APP_STORE_CONNECT_API_KEY_IN_HOUSE":              "false",
		"APP_STORE_CONNECT_API_KEY_DURATION":              "840",
		"SPACESHIP_CONNECT_API_KEY_ID":                    "DEMOKEY001",
		"SPACESHIP_CONNECT_API_ISSUER_ID":                 team.IssuerID,
		"SPACESHIP_CONNECT_API_KEY":                       pem,
		"SPACESHIP_CONNECT_API_IN_HOUSE":                  "false",
		"SPACESHIP_CONNECT_API_TOKEN_DURATION":            "840",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Env(team) = %v\nwant %v", got, want)
	}

	individual := Env(APIKey{KeyID: "DEMOKEY001", Key: pem}, "")
	for _, e := range individual {
		if strings.Contains(e.Name, "ISSUER") || strings.Contains(e.Name, "PATH") || strings.Contains(e.Name, "DURATION") {
			t.Errorf("Env(individual, no path) sets %s", e.Name)
		}
	}
}

func TestDurationFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lifetime time.Duration
		want     int
	}{
		{20 * time.Minute, 1140},
		{15 * time.Minute, 840},
		{time.Minute, 60},
	} {
		if got := DurationFor(tc.lifetime); got != tc.want {
			t.Errorf("DurationFor(%v) = %d, want %d", tc.lifetime, got, tc.want)
		}
	}
}

func FuzzParseAPIKey(f *testing.F) {
	f.Add([]byte(`{"key_id":"DEMOKEY001","issuer_id":"69a6de7e-1b2c-47e3-a053-5b8c7c11a4d1","key":"k","in_house":true,"duration":600}`))
	f.Add([]byte(`{"key_id":"A","key":"` + strings.ReplaceAll(pem, "\n", `\n`) + `"}`))
	f.Add([]byte(`{"key_id":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseAPIKey(data)
		if err != nil {
			return
		}
		// What was read writes back and reads again to the same key.
		again, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParseAPIKey(again)
		if err != nil || k2 != k {
			t.Fatalf("round trip: %+v, %v; want %+v", k2, err, k)
		}
	})
}

func TestLifetimeForInvertsDurationFor(t *testing.T) {
	t.Parallel()
	for _, lifetime := range []time.Duration{2 * time.Minute, 15 * time.Minute, 20 * time.Minute} {
		if got := LifetimeFor(DurationFor(lifetime)); got != lifetime {
			t.Errorf("LifetimeFor(DurationFor(%v)) = %v", lifetime, got)
		}
	}
}

// TestParseAPIKeyErrorShape checks that several faults make one line, found
// by the Problem/Hint interface every input error shares, with the
// "fastlane: " prefix only on Error().
func TestParseAPIKeyErrorShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json, problem string
	}{
		{`{"issuer_id":"x"}`, "the API key JSON is missing key_id and key"},
		{`{"key":"k"}`, "the API key JSON is missing key_id"},
		{`{"key_id":"A"}`, "the API key JSON is missing key"},
		{`{"key_id":"A","in_house":"yes","duration":-5}`,
			`field "in_house" of the API key JSON must be true or false; the API key JSON is missing key; field "duration" of the API key JSON is negative`},
		{`[]`, "the API key JSON is not a JSON object"},
	}
	for _, tc := range tests {
		_, err := ParseAPIKey([]byte(tc.json))
		var a interface {
			Problem() string
			Hint() string
		}
		if !errors.As(fmt.Errorf("config: %w", err), &a) {
			t.Fatalf("ParseAPIKey(%s) error %T %v is not a Problem/Hint error", tc.json, err, err)
		}
		if a.Problem() != tc.problem || a.Hint() == "" {
			t.Errorf("ParseAPIKey(%s): problem %q, hint %q; want problem %q", tc.json, a.Problem(), a.Hint(), tc.problem)
		}
		if err.Error() != "fastlane: "+tc.problem {
			t.Errorf("ParseAPIKey(%s): Error() = %q", tc.json, err)
		}
	}
}
