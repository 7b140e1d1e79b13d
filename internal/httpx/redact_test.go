package httpx

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://bucket.s3.amazonaws.com/upload/part1?X-Amz-Signature=abc&X-Amz-Credential=def", "https://bucket.s3.amazonaws.com/upload/part1"},
		{"https://user:pass@api.example.com/v1/apps#frag", "https://api.example.com/v1/apps"},
		{"/v1/apps?cursor=abc", "/v1/apps"},
		{"https://api.example.com/v1/apps/a%2Fb?x=1", "https://api.example.com/v1/apps/a%2Fb"},
		{"https://h.example/a b", "https://h.example/a%20b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := RedactURL(u); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := RedactURL(nil); got != "" {
		t.Errorf("RedactURL(nil) = %q", got)
	}
}

func TestRedactURLString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://up.example/p?X-Amz-Signature=secret", "https://up.example/p"},
		{"http://[bad/x?sig=secret", "http://[bad/x"},
		{"http://[bad/x#secret", "http://[bad/x"},
		{"http://user:secret@[bad/x", "http://[bad/x"},
		{"user:secret@[bad/x?q", "user:"}, // parses: the scheme "user" and an opaque rest
		{"http://[bad/a\n\t b", "http://[bad/a b"},
		{"http://[bad/\xff\xfe", "http://[bad/\uFFFD"},
		{"%zz\r\nInjected: line", "%zz Injected: line"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := RedactURLString(tt.in); got != tt.want {
				t.Errorf("RedactURLString(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, msg, want string
	}{
		{"raw query", "https://up.example/p?X-Amz-Signature=a%2Bb", `Put "https://up.example/p?X-Amz-Signature=a%2Bb": EOF`, `Put "https://up.example/p?[redacted]": EOF`},
		{"unescaped query", "https://up.example/p?X-Amz-Signature=a%2Bb", "bad signature X-Amz-Signature=a+b", "bad signature [redacted]"},
		{"password", "https://user:hunter2@up.example/p", "refused hunter2", "refused [redacted]"},
		{"nothing to hide", "https://up.example/p", "refused", "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := Scrub(tt.msg, u); got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q", tt.msg, got, tt.want)
			}
		})
	}
}

func TestRedactHeader(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Authorization":        {"Bearer eyJ.secret"},
		"X-Amz-Security-Token": {"FwoG-secret"},
		"Cookie":               {"a=secret", "b=secret"},
		"X-Custom-Token":       {"secret"},
		"Content-Type":         {"application/octet-stream"},
		"Content-Length":       {"42"},
	}
	got := RedactHeader(h)
	tests := []struct {
		name string
		want []string
	}{
		{"Authorization", []string{"[redacted]"}},
		{"X-Amz-Security-Token", []string{"[redacted]"}},
		{"Cookie", []string{"[redacted]", "[redacted]"}},
		{"X-Custom-Token", []string{"[redacted]"}},
		{"Content-Type", []string{"application/octet-stream"}},
		{"Content-Length", []string{"42"}},
	}
	for _, tt := range tests {
		if !slices.Equal(got[tt.name], tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got[tt.name], tt.want)
		}
	}
	got["Content-Type"][0] = "changed"
	if h.Get("Content-Type") != "application/octet-stream" || h.Get("Authorization") != "Bearer eyJ.secret" {
		t.Error("RedactHeader changed its argument")
	}
}

func TestURLSecrets(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("https://user:pw-12345@s3.example/part?X-Amz-Signature=abc123&X-Amz-Credential=AKIA%2F20260101&X-Amz-Security-Token=tok&X-Amz-Date=20260101T000000Z&partNumber=3")
	if err != nil {
		t.Fatal(err)
	}
	got := URLSecrets(u)
	slices.Sort(got)
	want := []string{"AKIA/20260101", "abc123", "pw-12345", "tok"}
	if !slices.Equal(got, want) {
		t.Errorf("URLSecrets = %q, want %q", got, want)
	}
}
