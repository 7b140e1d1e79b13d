package sigv4_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

func signWith(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}
