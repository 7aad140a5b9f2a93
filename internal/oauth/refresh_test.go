package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

func TestRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		knobs       oauthtest.Knobs
		oidc        bool
		wantRotated bool
	}{
		{name: "rotation", knobs: oauthtest.Knobs{RotateRefresh: true}, wantRotated: true},
		{name: "same refresh token repeated"},
		{name: "no refresh token in the response keeps the old", knobs: oauthtest.Knobs{OmitRefreshToken: true}},
		{name: "scope not restated keeps the old", knobs: oauthtest.Knobs{OmitRefreshToken: true, OmitScope: true}},
		{name: "form-encoded", knobs: oauthtest.Knobs{FormEncoded: true, RotateRefresh: true}, wantRotated: true},
		{name: "OpenID Connect, endpoints from discovery", oidc: true, knobs: oauthtest.Knobs{RotateRefresh: true}, wantRotated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t, oauthtest.WithKnobs(tt.knobs))
			p := srv.OAuth2Provider("hub")
			if tt.oidc {
				p = srv.OIDCProvider("sso")
			}
			c := oauth.NewClient(oauth.ClientOptions{})
			old, _ := mustDance(t, c, srv, p)
			srv.UpdateKnobs(func(k *oauthtest.Knobs) { k.ExpiresIn = 30 * time.Second })
			tok, err := c.Refresh(context.Background(), p, old)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.AccessToken == old.AccessToken || tok.IDToken != old.IDToken {
				t.Errorf("refreshed token = %+v, old %+v", tok, old)
			}
			if (tok.RefreshToken != old.RefreshToken) != tt.wantRotated || tok.RefreshToken == "" {
				t.Errorf("refresh token %q -> %q, want rotated %v", old.RefreshToken, tok.RefreshToken, tt.wantRotated)
			}
			if !slices.Equal(tok.Scopes, old.Scopes) {
				t.Errorf("scopes %q -> %q", old.Scopes, tok.Scopes)
			}
			if until := time.Until(tok.Expiry); until < 25*time.Second || until > 30*time.Second {
				t.Errorf("expires in %v, want 30s", until)
			}
			// A rotated-out refresh token is dead; a kept one still works.
			_, err = c.Refresh(context.Background(), p, old)
			if tt.wantRotated {
				wantProviderError(t, err, "refresh", "invalid_grant", 400)
			} else if err != nil {
				t.Errorf("second refresh with the kept token: %v", err)
			}
			if _, err := c.Refresh(context.Background(), p, tok); err != nil {
				t.Errorf("refresh with the new token: %v", err)
			}
		})
	}
}

func TestRefreshFailures(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("hub")
	c := oauth.NewClient(oauth.ClientOptions{})
	tok, _ := mustDance(t, c, srv, p)

	srv.UpdateKnobs(func(k *oauthtest.Knobs) { k.RefreshError = "invalid_grant" })
	_, err := c.Refresh(context.Background(), p, tok)
	wantProviderError(t, err, "refresh", "invalid_grant", 400)
	noSecrets(t, err, tok.RefreshToken, tok.AccessToken, srv.ClientSecret())

	srv.SetKnobs(oauthtest.Knobs{TokenStatus: 503})
	_, err = c.Refresh(context.Background(), p, tok)
	wantProviderError(t, err, "refresh", "", 503)

	tok.RefreshToken = ""
	if _, err := c.Refresh(context.Background(), p, tok); !errors.Is(err, oauth.ErrNoRefreshToken) {
		t.Errorf("Refresh without a refresh token = %v", err)
	}
	if _, err := c.Refresh(context.Background(), srv.OAuth1Provider("bird"), oauth.Token{AccessToken: "a"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Refresh for OAuth 1 = %v", err)
	}
}

// A refresh the dev provider's consent page asked to fail.
func TestRefreshFailsPerGrant(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithAuthorize(func(_ http.ResponseWriter, _ *http.Request, req oauthtest.AuthRequest) oauthtest.Decision {
		return oauthtest.Decision{User: oauthtest.User{ID: "7", Login: "dev"}, FailRefresh: true, ExpiresIn: 5 * time.Second}
	}))
	p := srv.OAuth2Provider("hub")
	c := oauth.NewClient(oauth.ClientOptions{})
	tok, prof := mustDance(t, c, srv, p)
	if prof.ID != "7" || time.Until(tok.Expiry) > 5*time.Second {
		t.Fatalf("token %+v, profile %+v", tok, prof)
	}
	_, err := c.Refresh(context.Background(), p, tok)
	wantProviderError(t, err, "refresh", "invalid_grant", 400)
}
