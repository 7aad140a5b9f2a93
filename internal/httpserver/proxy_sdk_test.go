package httpserver_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v75/github"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// recordedHub is the fake provider behind a recorder of what reached it:
// the Authorization header of every API request and the access tokens its
// token endpoint issued.
type recordedHub struct {
	*oauthtest.Server
	mu     sync.Mutex
	auth   []string
	issued map[string]bool
}

func newRecordedHub(t *testing.T) *recordedHub {
	t.Helper()
	p := oauthtest.NewHandler()
	h := &recordedHub{issued: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != pathOf(p.TokenURL()) {
			if strings.HasPrefix(r.URL.Path, pathOf(p.APIBaseURL())) {
				h.mu.Lock()
				h.auth = append(h.auth, r.Header.Get("Authorization"))
				h.mu.Unlock()
			}
			p.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, r)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &tok) == nil && tok.AccessToken != "" {
			h.mu.Lock()
			h.issued[tok.AccessToken] = true
			h.mu.Unlock()
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	p.SetBaseURL(srv.URL)
	h.Server = &oauthtest.Server{Server: srv, Provider: p}
	return h
}

func pathOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Path
}

// apiAuth returns the Authorization headers the API has seen so far.
func (h *recordedHub) apiAuth() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.auth)
}

// sdkEnv is a server whose provider "hub" has its api_base_url at the
// fake's paginated list (so every path an SDK asks for is a list), a user
// connected to it and a proxy-scope token of theirs.
type sdkEnv struct {
	ts    *testServer
	hub   *recordedHub
	b     *browser
	token string
	route string // the proxy route's URL, ending in "/"
}

func newSDKEnv(t *testing.T) *sdkEnv {
	t.Helper()
	hub := newRecordedHub(t)
	pc := fakeOAuth2(hub.Server, "hub")
	pc.APIBaseURL = hub.APIBaseURL() + "paged/"
	ts := newTestServer(t, withProviders(pc))
	b := ts.browser(t)
	b.signUp("sdk@example.com", goodPassword)
	b.dance(hub.Server, "/auth/hub/connect", nil)
	return &sdkEnv{ts: ts, hub: hub, b: b, token: b.newToken("sdk", "proxy").Token,
		route: ts.URL + "/api/v1/providers/hub/api/"}
}

// sentLog is every request a client sent, as its transport saw it.
type sentLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (l *sentLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (l *sentLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// github is go-github pointed at the proxy with the caller's Dancecard
// token, which it sends with every request, wherever it goes.
func (e *sdkEnv) github(t *testing.T) (*github.Client, *sentLog) {
	t.Helper()
	sent := &sentLog{}
	gh := github.NewClient(&http.Client{Transport: sent}).WithAuthToken(e.token)
	var err error
	if gh.BaseURL, err = url.Parse(e.route); err != nil {
		t.Fatal(err)
	}
	return gh, sent
}

// checkEveryRequestWentThroughDancecard fails unless every request the
// client sent went to the proxy, each reached the provider exactly once,
// and the provider saw its own access token each time, never the caller's
// Dancecard token. Tests defer it, so that it says what leaked even when
// the client gave up on the way.
func (e *sdkEnv) checkEveryRequestWentThroughDancecard(t *testing.T, sent *sentLog, apiBefore int) {
	t.Helper()
	sent.mu.Lock()
	defer sent.mu.Unlock()
	for _, r := range sent.reqs {
		if !strings.HasPrefix(r.URL.String(), e.route) {
			t.Errorf("the client left the proxy: %s %s", r.Method, r.URL)
		}
	}
	seen := e.hub.apiAuth()[apiBefore:]
	if len(seen) != len(sent.reqs) {
		t.Errorf("the client sent %d requests, the provider's API got %d", len(sent.reqs), len(seen))
	}
	e.hub.mu.Lock()
	defer e.hub.mu.Unlock()
	for i, a := range seen {
		tok, _ := strings.CutPrefix(a, "Bearer ")
		if strings.Contains(a, e.token) {
			t.Errorf("API request %d: the provider saw the caller's Dancecard token", i+1)
		} else if !e.hub.issued[tok] {
			t.Errorf("API request %d: Authorization %q is not a token the provider issued", i+1, a)
		}
	}
}

// numbers are the item numbers 1..n.
func numbers(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

// TestSDKPaginatesThroughProxy lists a paginated resource with go-github,
// following NextPage as its documentation shows. The repository was
// renamed, so every page is first a 301 whose Location go-github's HTTP
// client follows with its credentials: unless that Location points at the
// proxy, the Dancecard token goes to the provider.
func TestSDKPaginatesThroughProxy(t *testing.T) {
	e := newSDKEnv(t)
	gh, sent := e.github(t)
	before := len(e.hub.apiAuth())
	defer func() { e.checkEveryRequestWentThroughDancecard(t, sent, before) }()
	opts := &github.IssueListByRepoOptions{ListOptions: github.ListOptions{PerPage: 10}}
	var got []int
	pages := 0
	for {
		issues, resp, err := gh.Issues.ListByRepo(t.Context(), "octo", "moved", opts)
		if err != nil {
			t.Fatalf("page %d: %v", opts.ListOptions.Page, err)
		}
		for _, is := range issues {
			got = append(got, is.GetNumber())
		}
		if pages++; resp.NextPage == 0 || pages > 10 {
			break
		}
		opts.ListOptions.Page = resp.NextPage
	}
	if pages != 3 || !slices.Equal(got, numbers(25)) {
		t.Errorf("%d pages, items %v; want 3 pages of 1..25", pages, got)
	}
	if n := sent.count(); n != 2*pages {
		t.Errorf("%d requests for %d pages, want a redirect and a list for each", n, pages)
	}
}

var linkRel = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="?([a-z]+)"?`)

// linkURLs maps each rel of a Link header to its URL.
func linkURLs(h string) map[string]string {
	out := map[string]string{}
	for _, m := range linkRel.FindAllStringSubmatch(h, -1) {
		out[m[2]] = m[1]
	}
	return out
}

// TestSDKFollowsLinksThroughProxy walks the same list by the URLs in Link,
// with go-github's own request machinery, as octokit's paginate and most
// generic clients do.
func TestSDKFollowsLinksThroughProxy(t *testing.T) {
	e := newSDKEnv(t)
	gh, sent := e.github(t)
	before := len(e.hub.apiAuth())
	defer func() { e.checkEveryRequestWentThroughDancecard(t, sent, before) }()
	var got []int
	next := "repos/octo/r/issues?per_page=10"
	for pages := 0; next != "" && pages < 10; pages++ {
		req, err := gh.NewRequest(http.MethodGet, next, nil)
		if err != nil {
			t.Fatal(err)
		}
		var issues []*github.Issue
		resp, err := gh.Do(t.Context(), req, &issues)
		if err != nil {
			t.Fatalf("GET %s: %v", next, err)
		}
		for _, is := range issues {
			got = append(got, is.GetNumber())
		}
		ls := linkURLs(resp.Header.Get("Link"))
		for rel, u := range ls {
			if !strings.HasPrefix(u, e.route+"repos/octo/r/issues?") {
				t.Errorf("page %d: Link rel=%s is %s, not the proxy's", pages+1, rel, u)
			}
		}
		next = ls["next"]
	}
	if !slices.Equal(got, numbers(25)) {
		t.Errorf("items %v, want 1..25", got)
	}
}

// TestProxyRewritesURLsForTheRouteTaken checks that rewritten URLs lead
// back through the route the call took: the caller's own, with the
// connection it picked, or the admin form for that user.
func TestProxyRewritesURLsForTheRouteTaken(t *testing.T) {
	e := newSDKEnv(t)
	ctx := context.Background()
	var conn, user int64
	if err := e.ts.DB.QueryRow(ctx, `SELECT id, user_id FROM connections`).Scan(&conn, &user); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.ts.Accounts.EnsureAdmin(ctx, "root@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	adm := e.ts.browser(t)
	adm.logIn("root@example.com", goodPassword)
	adminToken := adm.newToken("backend", "admin").Token
	connQ := "connection=" + strconv.FormatInt(conn, 10)
	admin := e.ts.URL + "/api/v1/admin/users/" + strconv.FormatInt(user, 10) + "/providers/hub/api/"
	before := len(e.hub.apiAuth())
	for _, c := range []struct {
		target, token, wantNext, wantFirst string
	}{
		{e.route + "list?per_page=10&" + connQ, e.token,
			e.route + "list?page=2&per_page=10&" + connQ, e.route + "list?page=1&per_page=10&" + connQ},
		{admin + "list?per_page=10", adminToken, admin + "list?page=2&per_page=10", admin + "list?page=1&per_page=10"},
	} {
		res, out := send(t, e.ts.URL, "GET", strings.TrimPrefix(c.target, e.ts.URL), c.token, nil, nil)
		ls := linkURLs(res.Header.Get("Link"))
		if res.StatusCode != 200 || ls["next"] != c.wantNext || ls["first"] != c.wantFirst {
			t.Fatalf("GET %s: %d, Link %q\nwant next %s, first %s\n%s", c.target, res.StatusCode, res.Header.Get("Link"), c.wantNext, c.wantFirst, out)
		}
		res, out = send(t, e.ts.URL, "GET", strings.TrimPrefix(ls["next"], e.ts.URL), c.token, nil, nil)
		var items []oauthtest.PagedItem
		if err := json.Unmarshal(out, &items); err != nil || res.StatusCode != 200 || len(items) != 10 || items[0].Number != 11 {
			t.Fatalf("following next %s: %d %s", ls["next"], res.StatusCode, out)
		}
	}
	res, _ := send(t, e.ts.URL, "GET", "/api/v1/providers/hub/api/a/moved/list?x=1&"+connQ, e.token, nil, nil)
	if want := e.route + "a/renamed/list?x=1&" + connQ; res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != want {
		t.Fatalf("moved: %d, Location %q, want %q", res.StatusCode, res.Header.Get("Location"), want)
	}
	for i, a := range e.hub.apiAuth()[before:] {
		if strings.Contains(a, e.token) || strings.Contains(a, adminToken) {
			t.Fatalf("API request %d carried a Dancecard token", i+1)
		}
	}
}
