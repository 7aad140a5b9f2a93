package httpserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// apiCall is one JSON API request: from the browser's session (csrf says
// whether to send the session's CSRF token) or, with bearer set, with a
// personal access token and no cookies.
type apiCall struct {
	method, path, body string
	bearer             string
	csrf               bool
	contentType        string
}

func (b *browser) api(c apiCall) response {
	b.t.Helper()
	req, _ := http.NewRequest(c.method, b.ts.URL+c.path, strings.NewReader(c.body))
	if c.body != "" {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.csrf {
		req.Header.Set("X-CSRF-Token", b.csrf())
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		defer res.Body.Close()
		var sb strings.Builder
		_, _ = fmt.Fprint(&sb, readAll(res))
		return response{Status: res.StatusCode, Header: res.Header, Body: sb.String()}
	}
	return b.do(req)
}

func readAll(res *http.Response) string {
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

// schemas compiles the OpenAPI document's component schemas once.
var schemas = sync.OnceValues(func() (*jsonschema.Compiler, error) {
	f, err := os.Open("openapi.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	return c, c.AddResource("https://dancecard.dev/openapi.json", doc)
})

// conforms fails the test unless body is valid against the named schema
// of the OpenAPI document.
func conforms(t *testing.T, schema, body string) {
	t.Helper()
	c, err := schemas()
	if err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("https://dancecard.dev/openapi.json#/components/schemas/" + schema)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", schema, err, body)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("%s does not match the OpenAPI document: %v\n%s", schema, err, body)
	}
}

// wantProblem asserts a problem document with the status and code.
func wantProblem(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	conforms(t, "Problem", r.Body)
	var p struct{ Code string }
	_ = json.Unmarshal([]byte(r.Body), &p)
	if p.Code != code {
		t.Fatalf("code %q, want %q\n%s", p.Code, code, r.Body)
	}
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, body)
	}
	return v
}

type createdToken struct {
	ID    int64
	Token string
	Scope string
}

// newToken creates a personal access token from the browser's session.
func (b *browser) newToken(name, scope string) createdToken {
	b.t.Helper()
	r := b.api(apiCall{method: "POST", path: "/api/v1/tokens", csrf: true,
		body: fmt.Sprintf(`{"name": %q, "scope": %q}`, name, scope)})
	if r.Status != http.StatusCreated {
		b.t.Fatalf("create token: %d\n%s", r.Status, r.Body)
	}
	conforms(b.t, "CreatedToken", r.Body)
	return decode[createdToken](b.t, r.Body)
}

func TestAPIWithoutCredentialsIs401(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	for _, c := range []apiCall{
		{method: "GET", path: "/api/v1/me"},
		{method: "GET", path: "/api/v1/connections"},
		{method: "DELETE", path: "/api/v1/connections/1"},
		{method: "GET", path: "/api/v1/tokens"},
		{method: "POST", path: "/api/v1/tokens", body: `{}`},
		{method: "GET", path: "/api/v1/admin/users"},
		{method: "GET", path: "/api/v1/no/such/route"},
		{method: "GET", path: "/api/v1/me", bearer: "dct_not-a-real-token"},
		{method: "GET", path: "/api/v1/me", bearer: "garbage"},
	} {
		wantProblem(t, b.api(c), http.StatusUnauthorized, "unauthenticated")
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	if r := b.do(req); r.Status != http.StatusUnauthorized {
		t.Fatalf("basic auth: %d", r.Status)
	}
	if r := b.get("/api/v1/openapi.json"); r.Status != 200 || !strings.Contains(r.Body, `"openapi": "3.1.0"`) {
		t.Fatalf("openapi.json: %d", r.Status)
	}
}

func TestAPISessionNeedsCSRFOnUnsafeMethods(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("api@example.com", goodPassword)
	r := b.api(apiCall{method: "GET", path: "/api/v1/me"})
	if r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	conforms(t, "Me", r.Body)
	if me := decode[struct {
		Email string
		Auth  struct{ Type, Scope string }
	}](t, r.Body); me.Email != "api@example.com" {
		t.Fatalf("me = %+v", me)
	}
	wantProblem(t, b.api(apiCall{method: "POST", path: "/api/v1/tokens", body: `{"name":"x","scope":"read"}`}),
		http.StatusForbidden, "csrf_failed")
	req, _ := http.NewRequest("DELETE", ts.URL+"/api/v1/tokens/1", nil)
	req.Header.Set("X-CSRF-Token", b.csrf())
	req.Header.Set("Origin", "https://evil.example")
	wantProblem(t, b.do(req), http.StatusForbidden, "csrf_failed")
	if n := ts.count(t, `SELECT count(*) FROM api_tokens`); n != 0 {
		t.Fatalf("a refused request created %d tokens", n)
	}
}

func TestPersonalAccessTokens(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("owner@example.com", goodPassword)
	rd := b.newToken("read only", "read")
	px := b.newToken("proxy", "proxy")
	if !strings.HasPrefix(rd.Token, "dct_") || rd.Scope != "read" {
		t.Fatalf("token = %+v", rd)
	}
	// Only the hash is stored.
	if n := ts.count(t, `SELECT count(*) FROM api_tokens WHERE position(convert_to($1, 'UTF8') in token_hash) > 0 OR prefix = $1`, rd.Token); n != 0 {
		t.Fatal("the token is stored in readable form")
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'token_created'`); n != 2 {
		t.Fatalf("token_created events = %d", n)
	}
	anon := ts.browser(t)
	r := anon.api(apiCall{method: "GET", path: "/api/v1/me", bearer: rd.Token})
	if r.Status != 200 {
		t.Fatalf("bearer me: %d %s", r.Status, r.Body)
	}
	if me := decode[struct{ Auth struct{ Type, Scope string } }](t, r.Body); me.Auth.Type != "token" || me.Auth.Scope != "read" {
		t.Fatalf("auth = %+v", me.Auth)
	}
	// The list shows both, never a secret, and last use.
	r = b.api(apiCall{method: "GET", path: "/api/v1/tokens"})
	if strings.Contains(r.Body, rd.Token) || strings.Contains(r.Body, `"token"`) {
		t.Fatal("the token list reveals a secret")
	}
	items := decode[struct {
		Items []struct {
			ID         int64
			LastUsedAt *time.Time `json:"last_used_at"`
		}
	}](t, r.Body).Items
	if len(items) != 2 || items[0].ID != px.ID || items[1].LastUsedAt == nil {
		t.Fatalf("tokens = %+v", items)
	}
	for _, it := range decode[struct{ Items []json.RawMessage }](t, r.Body).Items {
		conforms(t, "Token", string(it))
	}
	// Scopes: read cannot change anything, tokens cannot mint tokens.
	wantProblem(t, anon.api(apiCall{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", px.ID), bearer: rd.Token}),
		http.StatusForbidden, "insufficient_scope")
	wantProblem(t, anon.api(apiCall{method: "POST", path: "/api/v1/tokens", bearer: px.Token, body: `{"name":"x","scope":"read"}`}),
		http.StatusForbidden, "session_required")
	wantProblem(t, anon.api(apiCall{method: "GET", path: "/api/v1/admin/users", bearer: px.Token}),
		http.StatusForbidden, "forbidden")
	// Revoked: refused at once.
	if r := anon.api(apiCall{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", rd.ID), bearer: px.Token}); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	wantProblem(t, anon.api(apiCall{method: "GET", path: "/api/v1/me", bearer: rd.Token}), http.StatusUnauthorized, "unauthenticated")
	// Expired: refused.
	ts.DB.Exec(t.Context(), `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, px.ID)
	wantProblem(t, anon.api(apiCall{method: "GET", path: "/api/v1/me", bearer: px.Token}), http.StatusUnauthorized, "unauthenticated")
	// Another user cannot see or revoke them.
	other := ts.browser(t)
	other.signUp("other@example.com", goodPassword)
	wantProblem(t, other.api(apiCall{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%d", px.ID), csrf: true}),
		http.StatusNotFound, "not_found")
	if r := other.api(apiCall{method: "GET", path: "/api/v1/tokens"}); r.Body != `{"items":[]}`+"\n" {
		t.Fatalf("other's list: %s", r.Body)
	}
}

func TestTokenOfDisabledAccountStopsWorking(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("gone@example.com", goodPassword)
	tok := b.newToken("ci", "proxy")
	ts.DB.Exec(t.Context(), `UPDATE users SET disabled_at = now()`)
	// The proxy looks tokens up on its own path (with the connection).
	for _, path := range []string{"/api/v1/me", "/api/v1/providers/hub/api/user"} {
		wantProblem(t, ts.browser(t).api(apiCall{method: "GET", path: path, bearer: tok.Token}), http.StatusUnauthorized, "unauthenticated")
	}
}

func TestTokenCreationBadInput(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("bad@example.com", goodPassword)
	future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		code, field             string
	}{
		{"not json", `name=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
		{"broken json", `{"name":`, "", 400, "malformed_json", ""},
		{"unknown field", `{"name":"x","scope":"read","admin":true}`, "", 400, "malformed_json", ""},
		{"two objects", `{"name":"x","scope":"read"}{}`, "", 400, "malformed_json", ""},
		{"array", `[1,2]`, "", 400, "malformed_json", ""},
		{"wrong type", `{"name":5,"scope":"read"}`, "", 400, "malformed_json", ""},
		{"empty name", `{"name":"  ","scope":"read"}`, "", 422, "invalid_field", "name"},
		{"long name", `{"name":"` + strings.Repeat("n", 101) + `","scope":"read"}`, "", 422, "invalid_field", "name"},
		{"control chars", `{"name":"a\u0007b","scope":"read"}`, "", 422, "invalid_field", "name"},
		{"unknown scope", `{"name":"x","scope":"write"}`, "", 422, "invalid_field", "scope"},
		{"admin scope for a user", `{"name":"x","scope":"admin"}`, "", 422, "invalid_field", "scope"},
		{"past expiry", `{"name":"x","scope":"read","expires_at":"2001-01-01T00:00:00Z"}`, "", 422, "invalid_field", "expires_at"},
		{"bad time", `{"name":"x","scope":"read","expires_at":"tomorrow"}`, "", 400, "malformed_json", ""},
		{"huge", `{"name":"` + strings.Repeat("x", 70<<10) + `","scope":"read"}`, "", 413, "request_entity_too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.api(apiCall{method: "POST", path: "/api/v1/tokens", csrf: true, body: tc.body, contentType: tc.contentType})
			wantProblem(t, r, tc.status, tc.code)
			if tc.field != "" {
				if p := decode[struct{ Field string }](t, r.Body); p.Field != tc.field {
					t.Fatalf("field = %q, want %q", p.Field, tc.field)
				}
			}
		})
	}
	if n := ts.count(t, `SELECT count(*) FROM api_tokens`); n != 0 {
		t.Fatalf("bad requests created %d tokens", n)
	}
	r := b.api(apiCall{method: "POST", path: "/api/v1/tokens", csrf: true, body: `{"name":"dated","scope":"read","expires_at":"` + future + `"}`})
	if r.Status != 201 || !strings.Contains(r.Body, `"expires_at":"`) {
		t.Fatalf("with expiry: %d %s", r.Status, r.Body)
	}
}

func TestBadBearerTokensAreRateLimited(t *testing.T) {
	ts := newTestServer(t, withRateLimits)
	b := ts.browser(t)
	last := response{}
	// Guesses on the proxy (which looks tokens up on its own path) and
	// elsewhere count alike.
	paths := []string{"/api/v1/me", "/api/v1/providers/hub/api/user"}
	for i := 0; i < 21; i++ {
		last = b.api(apiCall{method: "GET", path: paths[i%2], bearer: fmt.Sprintf("dct_guess%d", i)})
		if i < 20 {
			wantProblem(t, last, http.StatusUnauthorized, "unauthenticated")
		}
	}
	wantProblem(t, last, http.StatusTooManyRequests, "rate_limited")
}

func TestAPIConnections(t *testing.T) {
	hub, bird := oauthtest.NewServer(t), oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub"), fakeOAuth1(bird, "bird")))
	b := ts.browser(t)
	b.signUp("conn@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	b.dance(bird, "/auth/bird/connect", nil)
	other := ts.browser(t)
	other.signUp("else@example.com", goodPassword)
	hub.SetUser(oauthtest.User{ID: "someone-else", Login: "else"})
	other.dance(hub, "/auth/hub/connect", nil)
	var othersID int64
	ts.DB.QueryRow(t.Context(), `SELECT id FROM connections WHERE provider_user_id = 'someone-else'`).Scan(&othersID)

	r := b.api(apiCall{method: "GET", path: "/api/v1/connections"})
	page := decode[struct {
		Items []struct {
			ID       int64
			Provider string
		}
		NextCursor string `json:"next_cursor"`
	}](t, r.Body)
	if len(page.Items) != 2 || page.NextCursor != "" {
		t.Fatalf("connections = %s", r.Body)
	}
	for _, it := range decode[struct{ Items []json.RawMessage }](t, r.Body).Items {
		conforms(t, "Connection", string(it))
	}
	if strings.Contains(strings.ToLower(r.Body), "token\":\"") || strings.Contains(r.Body, "access") {
		t.Fatalf("the connection list shows a token: %s", r.Body)
	}
	// Pages of one: every connection once, then no cursor.
	var seen []int64
	path := "/api/v1/connections?limit=1"
	for range 5 {
		r := b.api(apiCall{method: "GET", path: path})
		p := decode[struct {
			Items      []struct{ ID int64 }
			NextCursor string `json:"next_cursor"`
		}](t, r.Body)
		for _, it := range p.Items {
			seen = append(seen, it.ID)
		}
		if p.NextCursor == "" {
			break
		}
		path = "/api/v1/connections?limit=1&cursor=" + p.NextCursor
	}
	if len(seen) != 2 || seen[0] == seen[1] {
		t.Fatalf("paged ids = %v", seen)
	}
	wantProblem(t, b.api(apiCall{method: "GET", path: "/api/v1/connections?cursor=%27%3B--"}), 400, "invalid_cursor")
	wantProblem(t, b.api(apiCall{method: "GET", path: "/api/v1/connections?limit=0"}), 400, "invalid_limit")
	wantProblem(t, b.api(apiCall{method: "GET", path: "/api/v1/connections?limit=abc"}), 400, "invalid_limit")
	if r := b.api(apiCall{method: "GET", path: "/api/v1/connections?limit=1000000"}); r.Status != 200 {
		t.Fatalf("huge limit: %d", r.Status)
	}

	// Another user's connection is 404, exactly like an unknown one.
	rd := b.newToken("reader", "read")
	px := b.newToken("proxy", "proxy")
	unknown := b.api(apiCall{method: "DELETE", path: "/api/v1/connections/999999", bearer: px.Token})
	others := b.api(apiCall{method: "DELETE", path: fmt.Sprintf("/api/v1/connections/%d", othersID), bearer: px.Token})
	wantProblem(t, others, 404, "not_found")
	if stripRequestID(unknown.Body) != stripRequestID(others.Body) {
		t.Fatalf("another user's id answers differently from an unknown one:\n%s\n%s", unknown.Body, others.Body)
	}
	wantProblem(t, b.api(apiCall{method: "DELETE", path: "/api/v1/connections/abc", bearer: px.Token}), 404, "not_found")
	wantProblem(t, b.api(apiCall{method: "DELETE", path: fmt.Sprintf("/api/v1/connections/%d", page.Items[0].ID), bearer: rd.Token}),
		403, "insufficient_scope")
	if r := b.api(apiCall{method: "DELETE", path: fmt.Sprintf("/api/v1/connections/%d", page.Items[0].ID), bearer: px.Token}); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 2 {
		t.Fatalf("connections left = %d, want 2", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'connection_removed'`); n != 1 {
		t.Fatalf("connection_removed events = %d", n)
	}
}

func stripRequestID(body string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	delete(m, "request_id")
	out, _ := json.Marshal(m)
	return string(out)
}

var newTokenRe = regexp.MustCompile(`id="new-token-secret">(dct_[A-Za-z0-9_-]+)<`)

func TestProfileTokens(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("page@example.com", goodPassword)
	r := b.post("/profile/tokens", url.Values{"name": {"nightly sync"}, "scope": {"read"}, "expires_in_days": {"30"}})
	if r.Status != http.StatusSeeOther || newTokenRe.MatchString(r.Body) {
		t.Fatalf("create: %d\n%.1000s", r.Status, r.Body)
	}
	r = b.get(r.Location)
	m := newTokenRe.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the profile after creating does not show the token:\n%.1000s", r.Body)
	}
	if p := b.get("/profile/tokens"); strings.Contains(p.Body, m[1]) || !strings.Contains(p.Body, "nightly sync") {
		t.Fatal("the profile shows the secret again, or not the token's name")
	}
	if r := ts.browser(t).api(apiCall{method: "GET", path: "/api/v1/me", bearer: m[1]}); r.Status != 200 {
		t.Fatalf("the new token does not work: %d", r.Status)
	}
	var exp time.Time
	ts.DB.QueryRow(t.Context(), `SELECT expires_at FROM api_tokens`).Scan(&exp)
	if d := time.Until(exp); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("expires in %v, want 30 days", d)
	}
	for _, bad := range []url.Values{
		{"name": {""}, "scope": {"read"}, "expires_in_days": {"30"}},
		{"name": {"x"}, "scope": {"admin"}, "expires_in_days": {"30"}},
		{"name": {"x"}, "scope": {"read"}, "expires_in_days": {"-4"}},
		{"name": {"x"}, "scope": {"read"}},
	} {
		if r := b.post("/profile/tokens", bad); r.Status != http.StatusUnprocessableEntity || newTokenRe.MatchString(r.Body) {
			t.Fatalf("%v: %d", bad, r.Status)
		}
	}
	var id string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM api_tokens`).Scan(&id)
	if r := b.postConfirmed("/profile/tokens/"+id+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	wantProblem(t, ts.browser(t).api(apiCall{method: "GET", path: "/api/v1/me", bearer: m[1]}), 401, "unauthenticated")
	if n := ts.count(t, `SELECT count(*) FROM api_tokens`); n != 0 {
		t.Fatalf("tokens left = %d", n)
	}
}

func TestAPISessionRefusesCrossSiteEvenForGET(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("nav@example.com", goodPassword)
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantProblem(t, b.do(req), http.StatusForbidden, "csrf_failed")
	req, _ = http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := b.do(req); r.Status != 200 {
		t.Fatalf("same-origin GET: %d", r.Status)
	}
}
