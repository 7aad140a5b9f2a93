package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// countingTransport counts requests per path, to see what was fetched.
type countingTransport struct {
	discovery, jwks atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/openid-configuration"):
		c.discovery.Add(1)
	case strings.HasSuffix(r.URL.Path, "/jwks"):
		c.jwks.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestOIDCDance(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OIDCProvider("sso")
	counting := &countingTransport{}
	c := oauth.NewClient(oauth.ClientOptions{HTTPClient: &http.Client{Transport: counting}})

	authURL, pending, err := c.Begin(context.Background(), p, callbackFor(p), []string{"groups"})
	if err != nil {
		t.Fatal(err)
	}
	q := mustParse(t, authURL).Query()
	if !strings.HasPrefix(authURL, srv.AuthURL()+"?") || q.Get("scope") != "openid profile email groups" ||
		q.Get("nonce") != pending.Nonce || pending.Nonce == "" || q.Get("code_challenge") == "" {
		t.Fatalf("authorization URL %s, pending %+v", authURL, pending)
	}
	tok, prof, err := c.Finish(context.Background(), p, callbackFor(p), pending, srv.Authorize(t, authURL).Query())
	if err != nil {
		t.Fatal(err)
	}
	if tok.IDToken == "" || tok.AccessToken == "" || !slices.Equal(tok.Scopes, []string{"openid", "profile", "email", "groups"}) {
		t.Errorf("token = %+v", tok)
	}
	if prof != octo(srv) {
		t.Errorf("profile = %+v, want %+v", prof, octo(srv))
	}
	if n := srv.Counts().Userinfo; n != 0 {
		t.Errorf("userinfo called %d times for a complete ID token", n)
	}
	// A second dance reuses the discovery document and the keys.
	if _, _, err := dance(t, c, srv, p, nil); err != nil {
		t.Fatal(err)
	}
	if d, j := counting.discovery.Load(), counting.jwks.Load(); d != 1 || j != 1 {
		t.Errorf("discovery fetched %d times, JWKS %d times; want once each", d, j)
	}
}

func TestOIDCMergesUserinfo(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{IDTokenClaims: func(c map[string]any) {
		delete(c, "name")
		delete(c, "picture")
		delete(c, "email")
		delete(c, "email_verified")
	}}))
	_, prof, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, srv.OIDCProvider("sso"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if prof != octo(srv) || srv.Counts().Userinfo != 1 {
		t.Errorf("profile = %+v (userinfo calls %d), want %+v", prof, srv.Counts().Userinfo, octo(srv))
	}
}

func TestOIDCFailures(t *testing.T) {
	t.Parallel()
	claims := func(f func(map[string]any)) oauthtest.Option {
		return oauthtest.WithKnobs(oauthtest.Knobs{IDTokenClaims: f})
	}
	tests := []struct {
		name    string
		opts    []oauthtest.Option
		edit    func(url.Values)
		wantErr error  // a sentinel, or nil for a ProviderError at step
		step    string // when wantErr is nil
	}{
		{name: "wrong nonce", opts: []oauthtest.Option{claims(func(c map[string]any) { c["nonce"] = "replayed" })}, wantErr: oauth.ErrBadCallback},
		{name: "no nonce", opts: []oauthtest.Option{claims(func(c map[string]any) { delete(c, "nonce") })}, wantErr: oauth.ErrBadCallback},
		{name: "wrong audience", opts: []oauthtest.Option{claims(func(c map[string]any) { c["aud"] = "someone-else" })}, step: "id_token"},
		{name: "expired", opts: []oauthtest.Option{claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })}, step: "id_token"},
		{name: "other issuer in the ID token", opts: []oauthtest.Option{claims(func(c map[string]any) { c["iss"] = "https://evil.example" })}, step: "id_token"},
		{name: "at_hash of another token", opts: []oauthtest.Option{claims(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" })}, step: "id_token"},
		{name: "iss mismatch on the callback", opts: []oauthtest.Option{oauthtest.WithIssuerParam()},
			edit: func(v url.Values) { v.Set("iss", "https://evil.example") }, wantErr: oauth.ErrBadCallback},
		{name: "iss missing though the provider promises it", opts: []oauthtest.Option{oauthtest.WithIssuerParam()},
			edit: func(v url.Values) { v.Del("iss") }, wantErr: oauth.ErrBadCallback},
		{name: "iss mismatch from a provider that does not promise it",
			edit: func(v url.Values) { v.Set("iss", "https://evil.example") }, wantErr: oauth.ErrBadCallback},
		{name: "denied", opts: []oauthtest.Option{oauthtest.WithKnobs(oauthtest.Knobs{Deny: true})}, wantErr: oauth.ErrDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t, tt.opts...)
			_, _, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, srv.OIDCProvider("sso"), tt.edit)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			wantProviderError(t, err, tt.step, "", 0)
		})
	}
}

func TestOIDCIssuerParamAccepted(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithIssuerParam())
	if _, _, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, srv.OIDCProvider("sso"), func(v url.Values) {
		if v.Get("iss") != srv.Issuer() {
			t.Errorf("callback iss = %q, want %q", v.Get("iss"), srv.Issuer())
		}
	}); err != nil {
		t.Fatal(err)
	}
}

func TestOIDCDiscoveryFailure(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	c := oauth.NewClient(oauth.ClientOptions{})

	p := srv.OIDCProvider("sso")
	p.Issuer = srv.URL + "/nowhere"
	_, _, err := c.Begin(context.Background(), p, callbackFor(p), nil)
	wantProviderError(t, err, "discovery", "", 0)

	srv.Close()
	_, _, err = c.Begin(context.Background(), srv.OIDCProvider("sso"), callbackFor(p), nil)
	if !errors.Is(err, oauth.ErrUnreachable) {
		t.Fatalf("error = %v, want ErrUnreachable", err)
	}
}
