package httpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
	"github.com/dancecard/dancecard/internal/paging"
)

// verdict is what the document says of a request: nil if it allows it.
func (c *contract) verdict(t *testing.T, method, target, body string) error {
	t.Helper()
	req, err := http.NewRequest(method, "http://dancecard.test"+target, strings.NewReader(body))
	if err != nil {
		return err // not a URI at all
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	ex := c.exchange(req)
	if ex.route.Path == "" {
		t.Fatalf("%s %s is not in openapi.json", method, target)
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: ex.params, Route: ex.route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true,
			ExcludeRequestBody: ex.proxy},
	})
}

// sample is one value tried on the server and against the document. By
// design, a value the schema cannot judge (an opaque cursor's contents, a
// date that does not exist, a time in the past) is allowed by the document
// and refused by the server: such samples set refused and say why.
type sample struct {
	value   string
	refused string // why the server refuses what the document allows; "" when they must agree
}

// agree sends each sample and fails where the server and the document
// disagree about it. accepted says whether the server took the request.
func agree(t *testing.T, c *contract, what string, samples []sample, target func(v string) (method, path, body string),
	send func(method, path, body string) response, accepted func(response) bool) {
	t.Helper()
	for _, s := range samples {
		method, path, body := target(s.value)
		r := send(method, path, body)
		server, doc := accepted(r), c.verdict(t, method, path, body)
		switch {
		case s.refused != "" && (server || doc != nil):
			t.Errorf("%s %q (%s): the server accepts it: %v; openapi.json: %v", what, s.value, s.refused, server, doc)
		case s.refused == "" && server != (doc == nil):
			t.Errorf("%s %q: the server accepts it: %v (%d %.200s); openapi.json: %v", what, s.value, server, r.Status, r.Body, doc)
		}
	}
}

func plain(vs ...string) []sample {
	out := make([]sample, len(vs))
	for i, v := range vs {
		out[i] = sample{value: v}
	}
	return out
}

// TestOpenAPIQueryLimitsAreTheServers sends values of every list
// parameter to the server: what the document's schemas allow, the server
// accepts, and what they forbid, it refuses, so a client that checks its
// requests against openapi.json meets no surprise 400.
func TestOpenAPIQueryLimitsAreTheServers(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t)
	ts.seedList(t, 3)
	boss := ts.adminBrowser(t, "boss@example.com")
	tok := boss.newToken("ops", "admin").Token
	boss.newToken("second", "read")
	anon := ts.browser(t)
	get := func(_, path, _ string) response { return anon.api(apiCall{method: "GET", path: path, bearer: tok}) }
	ok := func(r response) bool { return r.Status == http.StatusOK }
	next := func(path string) string {
		t.Helper()
		r := get("", path, "")
		cur := decode[struct {
			NextCursor string `json:"next_cursor"`
		}](t, r.Body).NextCursor
		if cur == "" {
			t.Fatalf("%s: no next_cursor\n%s", path, r.Body)
		}
		return cur
	}
	limits := plain("1", "200", "201", "5000", "0", "-1", "abc", "1.5", "+5", "007", "", " 5")
	text := []string{"abc", "ab", "a-b-c", "  abc  ", "日本語", "ééé", "x%_y1z", "a\tb\tc", strings.Repeat("a", 200),
		strings.Repeat("a", 201), " \u3000" + strings.Repeat("a", 200) + "\u00a0 ", "ab\x00cd", "", "   "}
	// Every list takes the same cursors: one it returned, for its own sort.
	cursors := func(good string) []sample {
		return []sample{{value: good}, {value: "!!!!"}, {value: strings.Repeat("A", 513)}, {value: ""},
			{value: "AAAA", refused: "an opaque cursor not issued by the server"},
			{value: "aWQ6MQ", refused: "an opaque cursor not issued by the server"},
			{value: next("/api/v1/admin/users?limit=1&sort=email"), refused: "a cursor of another list or sort"}}
	}
	// The caller has no connections to page through: a cursor the list
	// could have made stands in for one it did.
	ownConnection := paging.Cursor{List: "my_connections", Sort: "id", ID: 1}.String()
	times := append(plain("2026-01-02", "2026-01-02T15:04", "2026-01-02T15:04:05", "2026-01-02T15:04:05Z",
		"2026-01-02T15:04:05.123+02:00", "2026-01-02T15:04:05.5", "2026-01-02T15:04Z", "2026-13-01", "0000-01-01",
		"0001-01-01", "9999-12-31", "10000-01-01", "2026-01-02T24:00", "2026-01-02 15:04", "2026-01-02T15:04:05+0200",
		"2026-1-2", "yesterday", ""),
		sample{value: "2026-02-30", refused: "a date that does not exist"})
	providers := plain("beta", "hub", "a.b-c_d", "Beta", "-x", ".x", strings.Repeat("a", 64), strings.Repeat("a", 65), "")
	for _, tc := range []struct {
		path, param string
		samples     []sample
	}{
		{"/api/v1/connections", "limit", limits},
		{"/api/v1/connections", "cursor", cursors(ownConnection)},
		{"/api/v1/tokens", "limit", limits},
		{"/api/v1/tokens", "cursor", cursors(next("/api/v1/tokens?limit=1"))},
		{"/api/v1/admin/users", "q", plain(text...)},
		{"/api/v1/admin/users", "sort", plain("created", "email", "name", "")},
		{"/api/v1/admin/users", "dir", plain("asc", "desc", "up", "")},
		{"/api/v1/admin/users", "limit", limits},
		{"/api/v1/admin/users", "cursor", cursors(next("/api/v1/admin/users?limit=1"))},
		{"/api/v1/admin/connections", "provider", providers},
		{"/api/v1/admin/connections", "status", plain(append(slices.Clone(admin.Statuses), "asleep", "")...)},
		{"/api/v1/admin/connections", "q", plain(text...)},
		{"/api/v1/admin/connections", "sort", plain("created", "last_used", "email", "")},
		{"/api/v1/admin/connections?sort=last_used", "cursor", cursors(next("/api/v1/admin/connections?limit=1&sort=last_used"))},
		{"/api/v1/admin/events", "kind", plain(append(asStrings(events.Kinds()), "nope", "User_created", "")...)},
		{"/api/v1/admin/events", "user_id", plain("1", "0", "-1", "x", "1.0", "+2", "")},
		{"/api/v1/admin/events", "provider", providers},
		{"/api/v1/admin/events", "since", times},
		{"/api/v1/admin/events", "until", times},
		{"/api/v1/admin/events", "limit", limits},
		{"/api/v1/admin/events", "cursor", cursors(next("/api/v1/admin/events?limit=1"))},
	} {
		target := func(v string) (string, string, string) {
			sep := "?"
			if strings.Contains(tc.path, "?") {
				sep = "&"
			}
			return "GET", tc.path + sep + url.Values{tc.param: {v}}.Encode(), ""
		}
		agree(t, c, tc.path+" "+tc.param, tc.samples, target, get, ok)
	}
	// The one rule across parameters.
	agree(t, c, "since and until", []sample{{value: "since=2026-01-02&until=2026-01-01", refused: "since is not before until"}},
		func(v string) (string, string, string) { return "GET", "/api/v1/admin/events?" + v, "" }, get, ok)
}

// TestOpenAPITokenRequestIsTheServers does the same for the body of POST
// /api/v1/tokens.
func TestOpenAPITokenRequestIsTheServers(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t)
	boss := ts.adminBrowser(t, "boss@example.com")
	post := func(method, path, body string) response {
		return boss.api(apiCall{method: method, path: path, body: body, csrf: true})
	}
	created := func(r response) bool { return r.Status == http.StatusCreated }
	body := func(name, scope, expires string) string {
		m := map[string]any{"name": name, "scope": scope}
		if expires != "" {
			m["expires_at"] = expires
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	to := func(mk func(v string) string) func(string) (string, string, string) {
		return func(v string) (string, string, string) { return "POST", "/api/v1/tokens", mk(v) }
	}
	agree(t, c, "name", plain("ci", "", "   ", strings.Repeat("n", 100), strings.Repeat("n", 101),
		"  "+strings.Repeat("n", 100)+"\u3000", "a\u00a0b", "\u00a0x\u00a0", "tab\there", "\u3000", strings.Repeat("é", 100), "x\x7f"),
		to(func(v string) string { return body(v, "read", "") }), post, created)
	agree(t, c, "scope", plain("read", "proxy", "admin", "root", "", "READ"),
		to(func(v string) string { return body("s", v, "") }), post, created)
	soon := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	agree(t, c, "expires_at", append(plain(soon, "tomorrow", "2026-01-02"),
		sample{value: "2020-01-01T00:00:00Z", refused: "in the past"},
		sample{value: time.Now().AddDate(6, 0, 0).UTC().Format(time.RFC3339), refused: "more than five years ahead"}),
		to(func(v string) string { return body("e", "read", v) }), post, created)
	agree(t, c, "body", plain(`{"name":"n","scope":"read","expires_at":null}`, `{"name":"n","scope":"read","extra":1}`,
		`{"name":"n"}`, `{"scope":"read"}`, `{"name":7,"scope":"read"}`, `[]`),
		to(func(v string) string { return v }), post, created)
}

// TestOpenAPIProxyPathIsTheServers sends paths through the provider proxy:
// what the path parameter's pattern forbids, the proxy refuses with
// invalid_path. The pattern gives the syntax; paths that only some server
// behind an API would misread are refused beyond it, as the parameter's
// description says.
func TestOpenAPIProxyPathIsTheServers(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	e := newProxyEnv(t, oauthtest.Knobs{})
	call := func(method, path, _ string) response {
		res, out := e.call(t, method, path, nil, nil)
		return asResponse(res, out)
	}
	// The fake provider answers 404 for paths it does not serve: only a
	// 400 is a refusal of the path.
	notRefused := func(r response) bool { return r.Status != http.StatusBadRequest }
	beyond := "a segment some server would misread"
	agree(t, c, "proxy path", append(plain("user", "user/", "a/b/c", "%7Euser", "repos/o%20o/r%E2%9C%93/issues",
		"a/x:y", "a;b=c/d", "v1.2/x", "...x", "..", ".", "a/../b", "a//b", ":x", "x:y", "@x", "%zz", "a/%", "a%2", "a%22b"),
		sample{value: "a%2fb", refused: beyond}, sample{value: "a%5Cb", refused: beyond}, sample{value: "%2e%2e/x", refused: beyond},
		sample{value: "a/%00/b", refused: beyond}, sample{value: "..;x/y", refused: beyond},
		sample{value: "%252e%252e/x", refused: beyond}, sample{value: "%40x", refused: beyond}),
		func(v string) (string, string, string) { return "GET", "/api/v1/providers/hub/api/" + v, "" }, call, notRefused)
}
