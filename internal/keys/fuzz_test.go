package keys

import (
	"bytes"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that every key it accepts is a
// P-256 key that survives PKCS8PEM and Parse again unchanged, and that every
// refusal is an *Error carrying one of the fixed templates, so that no input
// byte can reach a log through an error.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("../../testdata/keys/*")
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, demoPath)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		f.Add(base64.StdEncoding.EncodeToString(b))
	}
	for _, in := range acceptedInputs(f) {
		f.Add(in.text)
	}

	templates := make(map[Error]bool)
	for r := rOK + 1; r < numReasons; r++ {
		templates[*r.err()] = true
	}

	f.Fuzz(func(t *testing.T, text string) {
		checkForms(t, SecretForms(text, nil))
		k, err := Parse(text)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if !templates[*e] {
				t.Fatalf("error %q is not a fixed template", err)
			}
			return
		}
		if k.Private == nil || k.Private.Curve != elliptic.P256() {
			t.Fatal("accepted a key that is not P-256")
		}
		if k.Form < FormPKCS8PEM || k.Form > FormBase64SEC1 {
			t.Fatalf("Form %d out of range", k.Form)
		}
		checkForms(t, SecretForms(text, k))
		canonical := k.PKCS8PEM()
		again, err := Parse(string(canonical))
		if err != nil {
			t.Fatalf("Parse(PKCS8PEM()) = %v", err)
		}
		if again.Form != FormPKCS8PEM {
			t.Errorf("Parse(PKCS8PEM()).Form = %v", again.Form)
		}
		d1, err1 := k.Private.Bytes()
		d2, err2 := again.Private.Bytes()
		if err1 != nil || err2 != nil || !bytes.Equal(d1, d2) {
			t.Fatal("private scalar changed through PKCS8PEM")
		}
		if !bytes.Equal(again.PKCS8PEM(), canonical) {
			t.Fatal("PKCS8PEM is not stable")
		}
	})
}
