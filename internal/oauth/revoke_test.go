package oauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

func TestRevoke(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []oauthtest.Option
		provider func(*oauthtest.Server) *oauth.Provider
		requests int64
	}{
		{name: "OAuth 2, basic", provider: func(s *oauthtest.Server) *oauth.Provider { return s.OAuth2Provider("hub") }, requests: 1},
		{name: "OAuth 2, post as detected at the token endpoint", opts: []oauthtest.Option{oauthtest.WithClientAuth(oauthtest.ClientAuthPost)},
			provider: func(s *oauthtest.Server) *oauth.Provider { return s.OAuth2Provider("hub") }, requests: 1},
		{name: "OpenID Connect, endpoint from discovery", provider: func(s *oauthtest.Server) *oauth.Provider { return s.OIDCProvider("sso") }, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t, tt.opts...)
			p := tt.provider(srv)
			c := oauth.NewClient(oauth.ClientOptions{})
			tok, _ := mustDance(t, c, srv, p)
			if err := c.Revoke(context.Background(), p, tok); err != nil {
				t.Fatal(err)
			}
			if n := srv.Counts().Revocations; n != tt.requests {
				t.Errorf("%d revocation requests, want %d", n, tt.requests)
			}
			// Revoking the refresh token ended the grant.
			_, err := c.Refresh(context.Background(), p, tok)
			wantProviderError(t, err, "refresh", "invalid_grant", 400)
		})
	}
}

func TestRevokeFailures(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{RevokeStatus: 503}))
	c := oauth.NewClient(oauth.ClientOptions{})
	p := srv.OAuth2Provider("hub")
	tok := oauth.Token{AccessToken: "access", RefreshToken: "refresh"}
	err := c.Revoke(context.Background(), p, tok)
	wantProviderError(t, err, "revoke", "", 503)
	noSecrets(t, err, "access", "refresh", srv.ClientSecret())

	// Nothing detected yet: basic, then post when the client is rejected.
	post := oauthtest.NewServer(t, oauthtest.WithClientAuth(oauthtest.ClientAuthPost))
	if err := c.Revoke(context.Background(), post.OAuth2Provider("hub"), tok); err != nil || post.Counts().Revocations != 2 {
		t.Errorf("Revoke = %v after %d requests, want success after 2", err, post.Counts().Revocations)
	}

	p.RevokeURL = ""
	if err := c.Revoke(context.Background(), p, tok); !errors.Is(err, oauth.ErrRevokeUnsupported) {
		t.Errorf("Revoke without an endpoint = %v", err)
	}
	if err := c.Revoke(context.Background(), srv.OAuth1Provider("bird"), tok); !errors.Is(err, oauth.ErrRevokeUnsupported) {
		t.Errorf("Revoke for OAuth 1 = %v", err)
	}
	p.RevokeURL = closedURL(t)
	if err := c.Revoke(context.Background(), p, tok); !errors.Is(err, oauth.ErrUnreachable) {
		t.Errorf("Revoke at a closed port = %v", err)
	}
}
