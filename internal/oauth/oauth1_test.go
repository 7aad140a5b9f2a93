package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOAuth1Dance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider func(*oauthtest.Server) *oauth.Provider
	}{
		{"HMAC-SHA1", func(s *oauthtest.Server) *oauth.Provider { return s.OAuth1Provider("bird") }},
		{"RSA-SHA1", func(s *oauthtest.Server) *oauth.Provider { return s.OAuth1RSAProvider("jira", rsaKey(t)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t)
			p := tt.provider(srv)
			p.Scopes = []string{"read"}
			c := oauth.NewClient(oauth.ClientOptions{})
			authURL, pending, err := c.Begin(context.Background(), p, callbackFor(p), []string{"write"})
			if err != nil {
				t.Fatal(err)
			}
			if pending.RequestToken == "" || pending.RequestSecret == "" || pending.State != "" ||
				mustParse(t, authURL).Query().Get("oauth_token") != pending.RequestToken {
				t.Fatalf("authorization URL %s, pending %+v", authURL, pending)
			}
			tok, prof, err := c.Finish(context.Background(), p, callbackFor(p), pending, srv.Authorize(t, authURL).Query())
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.TokenSecret == "" || !slices.Equal(tok.Scopes, []string{"read", "write"}) {
				t.Errorf("token = %+v", tok)
			}
			if prof != octo(srv) {
				t.Errorf("profile = %+v, want %+v", prof, octo(srv))
			}
			if n := srv.Counts(); n.RequestTokens != 1 || n.AccessTokens != 1 || n.Userinfo != 1 {
				t.Errorf("counts = %+v", n)
			}
			// The request token is single use.
			_, _, err = c.Finish(context.Background(), p, callbackFor(p), pending, url.Values{
				"oauth_token": {pending.RequestToken}, "oauth_verifier": {"again"}})
			wantProviderError(t, err, "access_token", "token_rejected", 401)
		})
	}
}

func TestOAuth1Failures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		knobs   oauthtest.Knobs
		setup   func(*oauthtest.Server, *oauth.Provider)
		edit    func(url.Values)
		wantErr error
		step    string
		code    string
		status  int
	}{
		{name: "oauth_callback_confirmed missing", knobs: oauthtest.Knobs{NoCallbackConfirmed: true}, step: "request_token", status: 200},
		{name: "wrong consumer secret", setup: func(_ *oauthtest.Server, p *oauth.Provider) { p.ConsumerSecret = "wrong" },
			step: "request_token", code: "signature_invalid", status: 401},
		{name: "RSA key the provider does not know", setup: func(s *oauthtest.Server, p *oauth.Provider) {
			*p = *s.OAuth1RSAProvider(p.ID, rsaKey(t))
			s.SetRSAPublicKey(&rsaKey(t).PublicKey)
		}, step: "request_token", code: "signature_invalid", status: 401},
		{name: "request token endpoint down", knobs: oauthtest.Knobs{TokenStatus: 503}, step: "request_token", status: 503},
		{name: "request token endpoint talks nonsense", knobs: oauthtest.Knobs{TokenMalformed: true}, step: "request_token", status: 200},
		{name: "wrong oauth_token on the callback", edit: func(v url.Values) { v.Set("oauth_token", "forged") }, wantErr: oauth.ErrBadCallback},
		{name: "no oauth_verifier", edit: func(v url.Values) { v.Del("oauth_verifier") }, wantErr: oauth.ErrBadCallback},
		{name: "wrong oauth_verifier", edit: func(v url.Values) { v.Set("oauth_verifier", "guess") }, step: "access_token", code: "verifier_invalid", status: 401},
		{name: "denied", knobs: oauthtest.Knobs{Deny: true}, wantErr: oauth.ErrDenied},
		{name: "user_refused problem", edit: func(v url.Values) { v.Set("oauth_problem", "user_refused") }, wantErr: oauth.ErrDenied},
		{name: "other problem", edit: func(v url.Values) { v.Set("oauth_problem", "consumer_key_rejected") }, step: "authorize", code: "consumer_key_rejected"},
		{name: "profile without an id", knobs: oauthtest.Knobs{UserinfoMissingID: true}, wantErr: oauth.ErrNoProfileID},
		{name: "profile endpoint down", knobs: oauthtest.Knobs{UserinfoStatus: 500}, step: "profile", status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t, oauthtest.WithKnobs(tt.knobs))
			p := srv.OAuth1Provider("bird")
			if tt.setup != nil {
				tt.setup(srv, p)
			}
			_, _, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, p, tt.edit)
			noSecrets(t, err, srv.ConsumerSecret())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			wantProviderError(t, err, tt.step, tt.code, tt.status)
		})
	}
}

// A failure after the request token was issued: the access token request.
func TestOAuth1AccessTokenFailure(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth1Provider("bird")
	c := oauth.NewClient(oauth.ClientOptions{})
	authURL, pending, err := c.Begin(context.Background(), p, callbackFor(p), nil)
	if err != nil {
		t.Fatal(err)
	}
	params := srv.Authorize(t, authURL).Query()
	srv.UpdateKnobs(func(k *oauthtest.Knobs) { k.TokenError = "permission_unknown" })
	_, _, err = c.Finish(context.Background(), p, callbackFor(p), pending, params)
	wantProviderError(t, err, "access_token", "permission_unknown", 401)
	noSecrets(t, err, pending.RequestSecret, pending.RequestToken)
}

func TestOAuth1Misconfigured(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	for _, edit := range []func(*oauth.Provider){
		func(p *oauth.Provider) { p.SignatureMethod = "RSA-SHA1" },
		func(p *oauth.Provider) { p.SignatureMethod = "PLAINTEXT" },
		func(p *oauth.Provider) { p.RequestTokenURL = "" },
	} {
		p := srv.OAuth1Provider("bird")
		edit(p)
		if _, _, err := oauth.NewClient(oauth.ClientOptions{}).Begin(context.Background(), p, callbackFor(p), nil); !errors.Is(err, oauth.ErrMisconfigured) {
			t.Errorf("Begin = %v, want ErrMisconfigured", err)
		}
	}
}
