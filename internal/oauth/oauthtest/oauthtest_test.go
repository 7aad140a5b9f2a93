package oauthtest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
	"github.com/dghubble/oauth1"
)

// oauth1Client runs a dance and returns an HTTP client that signs requests
// with the access token, as the API proxy will.
func oauth1Client(t *testing.T, srv *oauthtest.Server, p *oauth.Provider) *http.Client {
	t.Helper()
	c := oauth.NewClient(oauth.ClientOptions{})
	authURL, pending, err := c.Begin(context.Background(), p, "https://dancecard.example/cb", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := c.Finish(context.Background(), p, "https://dancecard.example/cb", pending, srv.Authorize(t, authURL).Query())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth1.Config{ConsumerKey: p.ConsumerKey, ConsumerSecret: p.ConsumerSecret}
	if p.PrivateKey != nil {
		cfg.Signer = &oauth1.RSASigner{PrivateKey: p.PrivateKey}
	}
	return cfg.Client(context.Background(), oauth1.NewToken(tok.AccessToken, tok.TokenSecret))
}

type echo struct {
	Method, Path, Query, Body, User, Auth string
	ContentType                           string `json:"content_type"`
}

func call(t *testing.T, hc *http.Client, req *http.Request) (int, echo) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e echo
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &e)
	return resp.StatusCode, e
}

func TestSignedAPICalls(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"HMAC-SHA1", "RSA-SHA1"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t)
			p := srv.OAuth1Provider("bird")
			if method == "RSA-SHA1" {
				p = srv.OAuth1RSAProvider("jira", key)
			}
			hc := oauth1Client(t, srv, p)
			// No repeated parameter names: dghubble/oauth1 signs only the
			// first value of each (RFC 5849 3.4.1.3 wants them all), and
			// the fake, checking by the RFC, would rightly refuse it.
			form := url.Values{"status": {"hello world & more ~*"}, "tag": {"b"}}
			req, _ := http.NewRequest("POST", srv.APIBaseURL()+"1.1/statuses/update.json?q=%E2%9C%93&x=1&y=", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			status, e := call(t, hc, req)
			if status != 200 || e.User != "42" || e.Auth != "OAuth" || e.Path != "/1.1/statuses/update.json" || e.Body != form.Encode() {
				t.Fatalf("status %d, echo %+v", status, e)
			}
			req, _ = http.NewRequest("PUT", srv.APIBaseURL()+"items/1?echo_status=201", strings.NewReader(`{"a":1}`))
			req.Header.Set("Content-Type", "application/json")
			if status, e := call(t, hc, req); status != 201 || e.Body != `{"a":1}` || e.Method != "PUT" {
				t.Fatalf("status %d, echo %+v", status, e)
			}
		})
	}
}

// tamper changes a request after it was signed; the fake must notice.
type tamper struct {
	base http.RoundTripper
	edit func(*http.Request)
}

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	t.edit(r)
	return t.base.RoundTrip(r)
}

func TestSignatureChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*http.Request)
	}{
		{"query changed", func(r *http.Request) { r.URL.RawQuery = "q=2" }},
		{"path changed", func(r *http.Request) { r.URL.Path = "/api/other" }},
		{"method changed", func(r *http.Request) { r.Method = "DELETE" }},
		{"replayed nonce", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := oauthtest.NewServer(t)
			hc := oauth1Client(t, srv, srv.OAuth1Provider("bird"))
			if tt.edit == nil { // send the very same signed request twice
				var sent *http.Request
				hc.Transport = tamper{base: hc.Transport, edit: func(r *http.Request) { sent = r }}
				req, _ := http.NewRequest("GET", srv.APIBaseURL()+"me?q=1", nil)
				if status, _ := call(t, hc, req); status != 200 {
					t.Fatalf("first request: %d", status)
				}
				status, _ := call(t, http.DefaultClient, sent)
				if status != 401 {
					t.Fatalf("replay answered %d", status)
				}
				return
			}
			hc.Transport = chain(hc.Transport, tt.edit)
			req, _ := http.NewRequest("GET", srv.APIBaseURL()+"me?q=1", nil)
			if status, _ := call(t, hc, req); status != 401 {
				t.Fatalf("tampered request answered %d", status)
			}
		})
	}
}

// chain signs with signer, then edits the signed request before sending it.
func chain(signer http.RoundTripper, edit func(*http.Request)) http.RoundTripper {
	ot := signer.(*oauth1.Transport)
	ot.Base = tamper{base: http.DefaultTransport, edit: edit}
	return ot
}

func TestBearerAPIAndRevokedUser(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("hub")
	c := oauth.NewClient(oauth.ClientOptions{})
	authURL, pending, _ := c.Begin(context.Background(), p, "https://dancecard.example/cb", nil)
	tok, _, err := c.Finish(context.Background(), p, "https://dancecard.example/cb", pending, srv.Authorize(t, authURL).Query())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.APIBaseURL()+"repos", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if status, e := call(t, http.DefaultClient, req); status != 200 || e.Auth != "Bearer" || e.User != "42" {
		t.Fatalf("status %d, echo %+v", status, e)
	}
	srv.RevokeUser("42")
	if status, _ := call(t, http.DefaultClient, req.Clone(context.Background())); status != 401 {
		t.Fatalf("after RevokeUser: %d", status)
	}
	if _, err := c.Refresh(context.Background(), p, tok); err == nil {
		t.Fatal("refresh after RevokeUser succeeded")
	}
}

// The dev provider mounts the engine under a prefix and shows a consent
// page; the dance must work through real HTTP that way.
func TestMountedWithConsentPage(t *testing.T) {
	t.Parallel()
	engine := oauthtest.NewHandler(oauthtest.WithAuthorize(func(w http.ResponseWriter, r *http.Request, req oauthtest.AuthRequest) oauthtest.Decision {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, "<form method=post><input name=login></form>")
			return oauthtest.Decision{Handled: true}
		}
		if r.FormValue("login") == "" {
			return oauthtest.Decision{Deny: true}
		}
		return oauthtest.Decision{User: oauthtest.User{ID: "u-" + r.FormValue("login"), Login: r.FormValue("login")}}
	}))
	mux := http.NewServeMux()
	mux.Handle("/dev/provider/", http.StripPrefix("/dev/provider", engine))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	engine.SetBaseURL(ts.URL + "/dev/provider")

	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := oauth.NewClient(oauth.ClientOptions{})
	for _, p := range []*oauth.Provider{engine.OAuth2Provider("devhub"), engine.OAuth1Provider("devbird"), engine.OIDCProvider("devsso")} {
		authURL, pending, err := c.Begin(context.Background(), p, "https://dancecard.example/cb", nil)
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		page, err := noRedirects.Get(authURL)
		if err != nil || page.StatusCode != 200 {
			t.Fatalf("%s: consent page: %v %v", p.ID, page, err)
		}
		page.Body.Close()
		resp, err := noRedirects.PostForm(authURL, url.Values{"login": {"ada"}})
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("%s: consent: %v %v", p.ID, resp, err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		_, prof, err := c.Finish(context.Background(), p, "https://dancecard.example/cb", pending, loc.Query())
		if err != nil || prof.ID != "u-ada" || prof.Username != "ada" {
			t.Fatalf("%s: Finish = %+v, %v", p.ID, prof, err)
		}
	}
}
