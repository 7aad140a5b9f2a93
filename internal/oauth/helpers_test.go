package oauth_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// These tests live outside the package because oauthtest imports oauth.

func callbackFor(p *oauth.Provider) string {
	return "https://dancecard.example/auth/" + p.ID + "/callback"
}

// dance runs Begin, the provider's consent and Finish, with edit (if not
// nil) tampering with the callback parameters on the way.
func dance(t *testing.T, c *oauth.Client, srv *oauthtest.Server, p *oauth.Provider, edit func(url.Values)) (oauth.Token, oauth.Profile, error) {
	t.Helper()
	ctx := context.Background()
	authURL, pending, err := c.Begin(ctx, p, callbackFor(p), nil)
	if err != nil {
		return oauth.Token{}, oauth.Profile{}, err
	}
	params := srv.Authorize(t, authURL).Query()
	if edit != nil {
		edit(params)
	}
	return c.Finish(ctx, p, callbackFor(p), pending, params)
}

// mustDance is dance for tests that expect success.
func mustDance(t *testing.T, c *oauth.Client, srv *oauthtest.Server, p *oauth.Provider) (oauth.Token, oauth.Profile) {
	t.Helper()
	tok, prof, err := dance(t, c, srv, p, nil)
	if err != nil {
		t.Fatalf("dance: %v", err)
	}
	return tok, prof
}

// octo is the profile the fake's default user maps to.
func octo(srv *oauthtest.Server) oauth.Profile {
	return oauth.Profile{ID: "42", Username: "octo", Name: "Octo Cat", Email: "octo@example.com",
		EmailVerified: true, AvatarURL: srv.BaseURL() + "/avatars/octo.svg", ProfileURL: "https://example.com/octo"}
}

// wantProviderError fails unless err is a *ProviderError at step with code
// (when code is not "") and status (when not 0).
func wantProviderError(t *testing.T, err error, step, code string, status int) *oauth.ProviderError {
	t.Helper()
	var pe *oauth.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want a *ProviderError", err, err)
	}
	if pe.Step != step || (code != "" && pe.Code != code) || (status != 0 && pe.Status != status) {
		t.Fatalf("ProviderError = %+v, want step %q code %q status %d", *pe, step, code, status)
	}
	return pe
}

// noSecrets fails when err's text carries any of the secrets.
func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error %q contains a secret", err)
		}
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
