package main

import (
	"net/http"
	"strconv"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// userHeader names the provider account a virtual user consents as. The
// driver's browser sends it to the fake's authorize endpoint only.
const userHeader = "X-Bench-User"

// fake is the fast fake provider, served from the driver process.
type fake = benchkit.Fake

// startFake serves the fake provider. Consent is automatic; the account is
// the one named by userHeader, so every virtual user has its own provider
// identity (and, in sign-up mode, every dance).
func startFake() (*fake, error) {
	return benchkit.StartFake(oauthtest.WithAuthorize(func(_ http.ResponseWriter, r *http.Request, _ oauthtest.AuthRequest) oauthtest.Decision {
		return oauthtest.Decision{User: benchUser(r.Header.Get(userHeader))}
	}))
}

// benchUser is the provider account called name (a number as a string).
func benchUser(name string) oauthtest.User {
	if _, err := strconv.ParseUint(name, 10, 64); err != nil {
		name = "1"
	}
	return oauthtest.User{
		ID:            name,
		Login:         "bench" + name,
		Name:          "Bench User " + name,
		Email:         "bench" + name + "@example.test",
		EmailVerified: true,
		AvatarURL:     "http://127.0.0.1/none.png",
		ProfileURL:    "https://example.test/bench" + name,
	}
}
