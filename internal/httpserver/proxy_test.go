package httpserver_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// proxyEnv is a server with a fake OAuth 2 provider "hub", a user connected
// to it and a proxy-scope token of theirs.
type proxyEnv struct {
	ts    *testServer
	hub   *oauthtest.Server
	b     *browser
	token string
}

func newProxyEnv(t *testing.T, knobs oauthtest.Knobs) *proxyEnv {
	t.Helper()
	hub := oauthtest.NewServer(t, oauthtest.WithKnobs(knobs))
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("proxy@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	return &proxyEnv{ts: ts, hub: hub, b: b, token: b.newToken("proxy", "proxy").Token}
}

// send makes a raw request: target is sent on the request line exactly as
// written (no client-side cleaning or re-escaping).
func send(t *testing.T, base, method, target, bearer string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base, body)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = target
	for k, vs := range header {
		req.Header[k] = vs
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading: %v", method, target, err)
	}
	return res, out
}

func (e *proxyEnv) call(t *testing.T, method, target string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	return send(t, e.ts.URL, method, target, e.token, body, header)
}

func echoOf(t *testing.T, res *http.Response, body []byte) oauthtest.Echo {
	t.Helper()
	var e oauthtest.Echo
	if res.StatusCode >= 300 || json.Unmarshal(body, &e) != nil {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	return e
}

func asResponse(res *http.Response, body []byte) response {
	return response{Status: res.StatusCode, Header: res.Header, Body: string(body)}
}

func TestProxyPassesCallsThrough(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{})
	const api = "/api/v1/providers/hub/api/"
	queries := []string{"", "a=1&a=2&a=1", "q=a+b", "q=a%20b", "q=%E2%9C%93&u=%C3%A9", "empty=&flag&=x", "x=%2F..%2F", "q=a%2Bb&&z=1"}
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		for _, q := range queries {
			target := api + "repos/o%20o/r%E2%9C%93/issues"
			if q != "" {
				target += "?" + q
			}
			body := `{"method":"` + method + `"}`
			res, out := e.call(t, method, target, strings.NewReader(body), http.Header{"Content-Type": {"application/vnd.api+json"}})
			got := echoOf(t, res, out)
			if got.Method != method || got.Path != "/repos/o o/r✓/issues" || got.Query != q || got.Body != body ||
				got.ContentType != "application/vnd.api+json" || got.Auth != "Bearer" || got.User != "42" {
				t.Fatalf("%s ?%s: echo %+v", method, q, got)
			}
		}
	}
	// HEAD: the status and headers, no body.
	if res, out := e.call(t, "HEAD", api+"status/200", nil, nil); res.StatusCode != 200 || len(out) != 0 || res.Header.Get("Etag") != `"v1"` {
		t.Fatalf("HEAD: %d %q %v", res.StatusCode, out, res.Header)
	}

	// A binary body larger than what is kept for a retry, byte for byte.
	bin := make([]byte, 300<<10)
	_, _ = rand.Read(bin)
	res, out := e.call(t, "PUT", api+"raw/blob?x=%00", bytes.NewReader(bin), http.Header{"Content-Type": {"application/octet-stream"}})
	if res.StatusCode != 200 || !bytes.Equal(out, bin) || res.Header.Get("Content-Type") != "application/octet-stream" ||
		res.Header.Get("X-Echo-Method") != "" {
		t.Fatalf("binary: %d, %d bytes back, headers %v", res.StatusCode, len(out), res.Header)
	}

	// Statuses and bodies come back as the provider sent them, garbage too.
	for _, code := range []string{"200", "201", "202", "204", "304", "400", "404", "418", "429", "500", "503"} {
		res, out := e.call(t, "GET", api+"status/"+code, nil, nil)
		want := "status " + code
		if code == "204" || code == "304" {
			want = ""
		}
		if res.Status[:3] != code || string(out) != want {
			t.Fatalf("status %s: got %s %q", code, res.Status, out)
		}
	}
	res, out = e.call(t, "GET", api+"garbage", nil, nil)
	if res.StatusCode != 200 || string(out) != `<html><body>Oops {"not": json` || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("garbage: %d %q", res.StatusCode, out)
	}
}

func TestProxyFiltersHeadersBothWays(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{})
	res, out := e.call(t, "GET", "/api/v1/providers/hub/api/headers", nil, http.Header{
		"Cookie": {"dancecard_session=stolen"}, "X-Csrf-Token": {"mine"}, "Connection": {"X-Hop"}, "X-Hop": {"1"},
		"X-Forwarded-For": {"10.1.2.3"}, "Accept": {"application/vnd.github+json"}, "If-None-Match": {`"v0"`},
		"X-Github-Api-Version": {"2022-11-28"}, "Proxy-Authorization": {"Basic eA=="},
	})
	got := echoOf(t, res, out)
	for _, k := range []string{"Cookie", "X-Csrf-Token", "X-Hop", "X-Forwarded-For", "Proxy-Authorization"} {
		if v := got.Header.Get(k); v != "" {
			t.Errorf("%s went upstream: %q", k, v)
		}
	}
	if a := got.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ") || strings.Contains(a, e.token) {
		t.Errorf("upstream Authorization = %q, want the provider's token, never the caller's", a)
	}
	for k, v := range map[string]string{"Accept": "application/vnd.github+json", "If-None-Match": `"v0"`, "X-Github-Api-Version": "2022-11-28"} {
		if got.Header.Get(k) != v {
			t.Errorf("%s = %q upstream, want %q", k, got.Header.Get(k), v)
		}
	}
	// A session caller's cookie and CSRF token stay here too.
	r := e.b.api(apiCall{method: "POST", path: "/api/v1/providers/hub/api/session", csrf: true, body: `{}`})
	var se oauthtest.Echo
	if err := json.Unmarshal([]byte(r.Body), &se); err != nil || r.Status != 200 || se.Header.Get("Cookie") != "" || se.Header.Get("X-Csrf-Token") != "" {
		t.Fatalf("session call: %d %s", r.Status, r.Body)
	}

	res, _ = e.call(t, "GET", "/api/v1/providers/hub/api/status/200", nil, nil)
	for k, v := range map[string]string{"Etag": `"v1"`, "Last-Modified": "Mon, 02 Jan 2006 15:04:05 GMT", "Cache-Control": "private, max-age=60",
		"Link": `<https://api.example.com/items?page=2>; rel="next"`, "X-Ratelimit-Remaining": "4999", "Ratelimit-Limit": "5000",
		"Retry-After": "30", "Content-Type": "text/plain; charset=utf-8"} {
		if res.Header.Get(k) != v {
			t.Errorf("response %s = %q, want %q", k, res.Header.Get(k), v)
		}
	}
	if res.Header.Get("Set-Cookie") != "" || res.Header.Get("X-Provider-Internal") != "" {
		t.Errorf("provider-only headers came back: %v", res.Header)
	}
	// Whatever the provider sends runs nowhere on this origin.
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("proxied response not confined: CSP %q", csp)
	}
}

func TestProxyRefusesPathsThatLeaveTheAPI(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{})
	var elsewhere atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer evil.Close()
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	const api = "/api/v1/providers/hub/api/"
	before := e.hub.Counts().APICalls
	for _, p := range []string{
		"..", "../userinfo", "a/../../../oauth2/token", "%2e%2e/userinfo", "%2E%2E/%2e%2e/x", ".%2e/x", "a/./b",
		"a%2fb", "a%2F..%2F..%2Fuserinfo", "a%5c..%5cx", `a\..\x`, "//" + evilHost + "/x", "http:%2F%2F" + evilHost,
		"http://" + evilHost + "/x", "@" + evilHost + "/x", "user:pw@" + evilHost, "%40" + evilHost, "a/%00/b", "a%0d%0aX:1",
		"a//b",
	} {
		res, out := e.call(t, "GET", api+p, nil, nil)
		wantProblem(t, asResponse(res, out), http.StatusBadRequest, "invalid_path")
	}
	if n := e.hub.Counts().APICalls - before; n != 0 || elsewhere.Load() != 0 {
		t.Fatalf("refused paths still reached a server: api %d, elsewhere %d", n, elsewhere.Load())
	}
	// Redirects are never followed, on the host or off it: the 3xx comes
	// back to the caller, and the credentials go nowhere. A Location into
	// the provider's API is pointed back at the proxy; any other is left
	// as it came.
	for to, want := range map[string]string{
		evil.URL + "/steal":         evil.URL + "/steal",
		e.hub.APIBaseURL() + "user": e.ts.URL + api + "user",
	} {
		res, _ := e.call(t, "GET", api+"redirect?to="+url.QueryEscape(to), nil, nil)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Fatalf("redirect to %s: %d %v", to, res.StatusCode, res.Header)
		}
	}
	if elsewhere.Load() != 0 || e.hub.Counts().APICalls-before != 2 {
		t.Fatalf("a redirect was followed: elsewhere %d, api %d", elsewhere.Load(), e.hub.Counts().APICalls-before)
	}
}

func TestProxyBodyCap(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{})
	before := e.hub.Counts().APICalls
	big := bytes.Repeat([]byte("x"), 10<<20+1)
	res, out := e.call(t, "POST", "/api/v1/providers/hub/api/raw/up", bytes.NewReader(big), http.Header{"Content-Type": {"text/plain"}})
	wantProblem(t, asResponse(res, out), http.StatusRequestEntityTooLarge, "request_entity_too_large")
	if e.hub.Counts().APICalls != before {
		t.Fatal("a body over the cap with a Content-Length was sent upstream")
	}
	// Without a Content-Length the cap is found while streaming.
	res, out = e.call(t, "POST", "/api/v1/providers/hub/api/raw/up", io.MultiReader(bytes.NewReader(big)), http.Header{"Content-Type": {"text/plain"}})
	wantProblem(t, asResponse(res, out), http.StatusRequestEntityTooLarge, "request_entity_too_large")
	// Just under the cap passes.
	res, out = e.call(t, "POST", "/api/v1/providers/hub/api/raw/up", bytes.NewReader(big[:10<<20]), http.Header{"Content-Type": {"text/plain"}})
	if res.StatusCode != 200 || len(out) != 10<<20 {
		t.Fatalf("10 MiB: %d, %d bytes", res.StatusCode, len(out))
	}
}

func TestProxyProviderWithoutAPI(t *testing.T) {
	sso := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOIDC(sso, "sso")))
	b := ts.browser(t)
	b.signUp("sso@example.com", goodPassword)
	res, out := send(t, ts.URL, "GET", "/api/v1/providers/sso/api/user", b.newToken("p", "proxy").Token, nil, nil)
	wantProblem(t, asResponse(res, out), http.StatusNotFound, "no_api")
}
