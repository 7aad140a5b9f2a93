package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

func TestAPIURLRefusesEscapes(t *testing.T) {
	t.Parallel()
	p := &oauth.Provider{ID: "hub", APIBaseURL: "https://api.example.com/v3/"}
	bad := []string{
		"http://evil.example/x", "https:evil.example", "//evil.example/x", "/etc/passwd",
		"..", "a/../../x", "a/%2e%2e/x", "%2E%2e/x", ".%2E/x", "./x", "a/%2f/x", "a%2Fb", "a%5cb", `a\b`,
		"@evil.example/x", "user:pw@evil.example", "%40evil.example", "a/%00", "a\x00b", "a/%0d%0aHost:x", "a b",
		"a//b", "%zz", "a/%", "é",
	}
	for _, path := range bad {
		if u, err := oauth.APIURL(p, path, ""); !errors.Is(err, oauth.ErrInvalidPath) {
			t.Errorf("APIURL(%q) = %v, %v; want ErrInvalidPath", path, u, err)
		}
	}
	if _, err := oauth.APIURL(&oauth.Provider{ID: "sso"}, "x", ""); !errors.Is(err, oauth.ErrNoAPI) {
		t.Errorf("provider without an API: %v", err)
	}
	for _, q := range []string{"a=1\r\nX: y", "a b", "a=1#frag"} {
		if _, err := oauth.APIURL(p, "x", q); !errors.Is(err, oauth.ErrInvalidPath) {
			t.Errorf("query %q accepted", q)
		}
	}
	good := map[string]string{
		"":                     "https://api.example.com/v3/",
		"user/repos":           "https://api.example.com/v3/user/repos",
		"repos/a/b/":           "https://api.example.com/v3/repos/a/b/",
		"files/%E2%9C%93%20x":  "https://api.example.com/v3/files/%E2%9C%93%20x",
		"a/b@c/d:e":            "https://api.example.com/v3/a/b@c/d:e",
		"a..b/.x/x.":           "https://api.example.com/v3/a..b/.x/x.",
		"search?never-a-query": "",
	}
	for path, want := range good {
		u, err := oauth.APIURL(p, path, "q=a+b&q=%20&x")
		if want == "" {
			if err == nil {
				t.Errorf("APIURL(%q) accepted a '?' in the path", path)
			}
			continue
		}
		if err != nil || u.String() != want+"?q=a+b&q=%20&x" {
			t.Errorf("APIURL(%q) = %v, %v; want %s", path, u, err, want)
		}
	}
}

func TestRequestAndResponseHeaders(t *testing.T) {
	t.Parallel()
	in := http.Header{
		"Authorization": {"Bearer mine"}, "Cookie": {"s=1"}, "X-Csrf-Token": {"t"}, "Connection": {"close, X-Hop"},
		"X-Hop": {"1"}, "Keep-Alive": {"5"}, "X-Forwarded-For": {"10.0.0.1"}, "Accept": {"application/json"},
		"If-None-Match": {`"v1"`}, "X-Github-Api-Version": {"2022-11-28"}, "Sec-Fetch-Site": {"none"},
	}
	out := oauth.RequestHeader(in)
	for _, k := range []string{"Authorization", "Cookie", "X-Csrf-Token", "Connection", "X-Hop", "Keep-Alive", "X-Forwarded-For", "Sec-Fetch-Site"} {
		if out.Get(k) != "" {
			t.Errorf("request header %s forwarded", k)
		}
	}
	for _, k := range []string{"Accept", "If-None-Match", "X-Github-Api-Version"} {
		if out.Get(k) != in.Get(k) {
			t.Errorf("request header %s dropped", k)
		}
	}
	back := oauth.ResponseHeader(http.Header{"Set-Cookie": {"a=b"}, "Etag": {`"x"`}, "X-Ratelimit-Used": {"1"},
		"Ratelimit-Policy": {"10;w=1"}, "Server": {"nginx"}, "Transfer-Encoding": {"chunked"}})
	if back.Get("Set-Cookie") != "" || back.Get("Server") != "" || back.Get("Transfer-Encoding") != "" ||
		back.Get("Etag") == "" || back.Get("X-Ratelimit-Used") == "" || back.Get("Ratelimit-Policy") == "" {
		t.Errorf("response headers = %v", back)
	}
}

func callEcho(t *testing.T, c *oauth.Client, p *oauth.Provider, tok oauth.Token, r oauth.APIRequest) (int, oauthtest.Echo) {
	t.Helper()
	resp, err := c.CallAPI(context.Background(), p, tok, r)
	if err != nil {
		t.Fatalf("CallAPI: %v", err)
	}
	defer resp.Body.Close()
	var e oauthtest.Echo
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &e); err != nil && resp.StatusCode != 401 {
		t.Fatalf("echo %d: %s", resp.StatusCode, body)
	}
	return resp.StatusCode, e
}

// OAuth 1 calls are signed over every parameter, repeated ones and a form
// body with a charset included; the fake checks by RFC 5849.
func TestCallAPISignsOAuth1(t *testing.T) {
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
			c := oauth.NewClient(oauth.ClientOptions{})
			tok, _ := mustDance(t, c, srv, p)
			form := "b=2&a=1&a=0&s=hello+world+%26+%7E*"
			status, e := callEcho(t, c, p, tok, oauth.APIRequest{Method: "POST", Path: "1.1/statuses/update.json",
				RawQuery: "q=%E2%9C%93&q=x&q=a+b&y=&z", Body: strings.NewReader(form), ContentLength: int64(len(form)),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}})
			if status != 200 || e.Auth != "OAuth" || e.Body != form || e.Query != "q=%E2%9C%93&q=x&q=a+b&y=&z" {
				t.Fatalf("status %d, echo %+v", status, e)
			}
			status, e = callEcho(t, c, p, tok, oauth.APIRequest{Method: "DELETE", Path: "items/%E2%9C%93%20x", RawQuery: "a=%2B"})
			if status != 200 || e.Method != "DELETE" || e.Path != "/items/✓ x" || e.Query != "a=%2B" {
				t.Fatalf("status %d, echo %+v", status, e)
			}
		})
	}
}

func TestCallAPIOAuth1RefusesUnsignableQuery(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth1Provider("bird")
	_, err := oauth.NewClient(oauth.ClientOptions{}).CallAPI(context.Background(), p, oauth.Token{AccessToken: "a"},
		oauth.APIRequest{Method: "GET", Path: "x", RawQuery: "a=1;b"})
	if !errors.Is(err, oauth.ErrInvalidQuery) {
		t.Fatalf("err = %v", err)
	}
}

func TestCallAPIBearerAndTokenParam(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("hub")
	c := oauth.NewClient(oauth.ClientOptions{})
	tok, _ := mustDance(t, c, srv, p)
	status, e := callEcho(t, c, p, tok, oauth.APIRequest{Method: "GET", Path: "user", Header: http.Header{"Accept": {"x/y"}}})
	if status != 200 || e.Auth != "Bearer" || e.Header.Get("Authorization") != "Bearer "+tok.AccessToken || e.Header.Get("Accept") != "x/y" {
		t.Fatalf("status %d, echo %+v", status, e)
	}
	// A provider that wants the token in the query (the fake accepts only
	// the header, so it answers 401 and the echo is the query we check).
	q := *p
	q.TokenParam, q.APIHeaders = "access_token", map[string]string{"Client-Id": "{client_id}"}
	seen := make(chan *http.Request, 1)
	spy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen <- r }))
	defer spy.Close()
	q.APIBaseURL = spy.URL + "/v2/"
	resp, err := c.CallAPI(context.Background(), &q, tok, oauth.APIRequest{Method: "GET", Path: "me", RawQuery: "a=1"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := <-seen
	if r.URL.RawQuery != "a=1&access_token="+tok.AccessToken || r.Header.Get("Authorization") != "" || r.Header.Get("Client-Id") != p.ClientID {
		t.Fatalf("sent %s %v", r.URL, r.Header)
	}
}

func TestCallAPINeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer elsewhere.Close()
	srv := oauthtest.NewServer(t)
	p := srv.OAuth2Provider("hub")
	c := oauth.NewClient(oauth.ClientOptions{})
	tok, _ := mustDance(t, c, srv, p)
	for _, to := range []string{elsewhere.URL + "/steal", srv.APIBaseURL() + "user"} {
		resp, err := c.CallAPI(context.Background(), p, tok, oauth.APIRequest{Method: "GET", Path: "redirect", RawQuery: "to=" + to})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != to {
			t.Fatalf("redirect to %s: %d %v", to, resp.StatusCode, resp.Header)
		}
	}
	if hits.Load() != 0 || srv.Counts().APICalls != 2 {
		t.Fatalf("redirect followed: elsewhere %d, api %d", hits.Load(), srv.Counts().APICalls)
	}
}

func TestCallAPIUnreachableAndSlow(t *testing.T) {
	t.Parallel()
	srv := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{APIDelay: 5 * time.Second}))
	p := srv.OAuth2Provider("hub")
	p.Timeout = 100 * time.Millisecond
	c := oauth.NewClient(oauth.ClientOptions{})
	_, err := c.CallAPI(context.Background(), p, oauth.Token{AccessToken: "a"}, oauth.APIRequest{Method: "GET", Path: "x"})
	if !errors.Is(err, oauth.ErrTimeout) || !errors.Is(err, oauth.ErrUnreachable) {
		t.Fatalf("slow provider: %v", err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	p.APIBaseURL = down.URL + "/"
	_, err = c.CallAPI(context.Background(), p, oauth.Token{AccessToken: "a"}, oauth.APIRequest{Method: "GET", Path: "x"})
	if errors.Is(err, oauth.ErrTimeout) || !errors.Is(err, oauth.ErrUnreachable) {
		t.Fatalf("down provider: %v", err)
	}
}
