package keys_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/asc-auth/action/internal/keys"
)

func ExampleParse() {
	// A throwaway key, as a user would paste it into a secret: one line,
	// with the newlines written as \n.
	text := `-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgp41qL5GVBmhXgu7r\n` +
		`6Pz75Z8YscYQ5rndj5iO1C2vdfyhRANCAAR58ahqBJ8WigCO0+07EJ4splqR/Dvf\n` +
		`nUdnRYPVOGJpLbuTziI3HHWUyFBCMZshVZHdHUB8Lox4FB3UL9fj0jEy\n-----END PRIVATE KEY-----\n`

	// Mask every form of the value before anything can print it.
	for range keys.SecretForms(text, nil) {
		// e.g. githubactions.AddMask(form)
	}

	k, err := keys.Parse(text)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(k.Form, k.Private.Curve.Params().Name)
	// Output: PKCS#8 PEM P-256
}

func ExampleParse_refused() {
	cert, err := os.ReadFile("../../testdata/keys/certificate.pem")
	if err != nil {
		panic(err)
	}
	_, err = keys.Parse(string(cert))

	var e *keys.Error
	if errors.As(err, &e) {
		fmt.Println(e)
		fmt.Println("hint:", e.Hint())
	}
	// Output:
	// keys: the value is an X.509 certificate, not a private key
	// hint: a certificate holds no private key; paste the whole .p8 file downloaded from App Store Connect > Users and Access > Integrations; a key downloads only once, so if the file is lost, revoke the key and generate a new one
}
