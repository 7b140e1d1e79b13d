module github.com/asc-auth/action

go 1.26.8

require (
	github.com/golang-jwt/jwt/v5 v5.3.0
	github.com/sethvargo/go-githubactions v1.4.0
	golang.org/x/crypto v0.45.0
)
