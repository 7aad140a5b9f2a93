package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// Every way an OAuth 2 provider can fail a dance, and what Finish says.
func TestOAuth2Failures(t *testing.T) {
	t.Parallel()
	slow := func(p *oauth.Provider) { p.Timeout = 100 * time.Millisecond }
	tests := []struct {
		name    string
		knobs   oauthtest.Knobs
		setup   func(*oauth.Provider)
		edit    func(url.Values)
		wantErr error
		step    string
		code    string
		status  int
	}{
		{name: "access_denied", knobs: oauthtest.Knobs{Deny: true}, wantErr: oauth.ErrDenied},
		{name: "another error on the callback", edit: func(v url.Values) {
			v.Del("code")
			v.Set("error", "temporarily_unavailable")
			v.Set("error_description", "try later")
		}, step: "authorize", code: "temporarily_unavailable"},
		{name: "no code", edit: func(v url.Values) { v.Del("code") }, wantErr: oauth.ErrBadCallback},
		{name: "wrong state", edit: func(v url.Values) { v.Set("state", "forged") }, wantErr: oauth.ErrBadCallback},
		{name: "code of another dance", edit: func(v url.Values) { v.Set("code", "stolen") }, step: "token", code: "invalid_grant", status: 400},
		{name: "token error code", knobs: oauthtest.Knobs{TokenError: "invalid_client"}, step: "token", code: "invalid_client", status: 400},
		{name: "token endpoint 500", knobs: oauthtest.Knobs{TokenStatus: 500}, step: "token", status: 500},
		{name: "token endpoint 502", knobs: oauthtest.Knobs{TokenStatus: 502}, step: "token", status: 502},
		{name: "malformed token JSON", knobs: oauthtest.Knobs{TokenMalformed: true}, step: "token"},
		{name: "token endpoint too slow", knobs: oauthtest.Knobs{TokenDelay: 5 * time.Second}, setup: slow, wantErr: oauth.ErrUnreachable},
		{name: "token endpoint refuses connections", setup: func(p *oauth.Provider) { p.TokenURL = closedURL(t) }, wantErr: oauth.ErrUnreachable},
		{name: "userinfo 500", knobs: oauthtest.Knobs{UserinfoStatus: 500}, step: "profile", status: 500},
		{name: "userinfo garbage", knobs: oauthtest.Knobs{UserinfoGarbage: true}, step: "profile"},
		{name: "userinfo without id", knobs: oauthtest.Knobs{UserinfoMissingID: true}, wantErr: oauth.ErrNoProfileID},
		{name: "userinfo too slow", knobs: oauthtest.Knobs{UserinfoDelay: 5 * time.Second}, setup: slow, wantErr: oauth.ErrUnreachable},
		{name: "userinfo redirects off the host", setup: func(p *oauth.Provider) { p.UserinfoURL = redirector(t, "https://evil.example/") },
			step: "profile", status: http.StatusFound},
		{name: "no userinfo URL", setup: func(p *oauth.Provider) { p.UserinfoURL = "" }, wantErr: oauth.ErrMisconfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t, oauthtest.WithKnobs(tt.knobs))
			p := srv.OAuth2Provider("hub")
			p.TokenAuth = oauth.TokenAuthBasic // no auto-detection retry doubling the timeout
			if tt.setup != nil {
				tt.setup(p)
			}
			start := time.Now()
			_, _, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, p, tt.edit)
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v: the timeout did not hold", time.Since(start))
			}
			noSecrets(t, err, srv.ClientSecret(), `"access_token"`)
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

func TestOAuth1Timeouts(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{TokenDelay: 5 * time.Second}))
	p := srv.OAuth1Provider("bird")
	p.Timeout = 100 * time.Millisecond
	_, _, err := oauth.NewClient(oauth.ClientOptions{}).Begin(context.Background(), p, callbackFor(p), nil)
	if !errors.Is(err, oauth.ErrUnreachable) {
		t.Fatalf("Begin = %v, want ErrUnreachable", err)
	}
}

func TestCallerCancellationIsNotUnreachable(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{TokenDelay: 5 * time.Second}))
	p := srv.OAuth1Provider("bird")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := oauth.NewClient(oauth.ClientOptions{}).Begin(ctx, p, callbackFor(p), nil)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, oauth.ErrUnreachable) {
		t.Fatalf("Begin = %v, want the caller's deadline", err)
	}
}

func TestProfileBodyCap(t *testing.T) {
	t.Parallel()
	big := `{"id": 1, "name": "` + strings.Repeat("a", 1<<20) + `"}`
	srv := oauthtest.NewServer(t, oauthtest.WithUser(oauthtest.User{ID: "1", Userinfo: []byte(big)}))
	_, _, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, srv.OAuth2Provider("hub"), nil)
	wantProviderError(t, err, "profile", "", 200)
}

func TestProfileShapes(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithUser(oauthtest.User{ID: "1", Userinfo: []byte(
		`{"data": {"id": 1234567890123456789, "screen_name": "bird", "image": "javascript:alert(1)"}}`)}))
	p := srv.OAuth2Provider("hub")
	p.Profile = oauth.ProfileMap{ID: "data.id", Username: "data.screen_name", AvatarURL: "data.image"}
	_, prof, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if prof != (oauth.Profile{ID: "1234567890123456789", Username: "bird"}) {
		t.Fatalf("profile = %+v", prof)
	}
}

// closedURL is a URL nothing listens on any more.
func closedURL(t *testing.T) string {
	ts := httptest.NewServer(http.NotFoundHandler())
	ts.Close()
	return ts.URL + "/token"
}

// redirector is a server that redirects every request to target.
func redirector(t *testing.T, target string) string {
	ts := httptest.NewServer(http.RedirectHandler(target, http.StatusFound))
	t.Cleanup(ts.Close)
	return ts.URL + "/user"
}
