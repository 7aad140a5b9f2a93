package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
)

type adminPage[T any] struct {
	Items      []T
	NextCursor string `json:"next_cursor"`
}

type adminUserItem struct {
	ID    int64
	Email string
}

type adminConnItem struct {
	ID             int64
	ProviderUserID string `json:"provider_user_id"`
}

type adminEventItem struct {
	ID   int64
	Kind string
}

func TestAdminAPIAuthorisation(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 3)
	user := ts.browser(t)
	user.signUp("user@example.com", goodPassword)
	userTok := user.newToken("mine", "proxy")
	boss := ts.adminBrowser(t, "boss@example.com")
	readTok := boss.newToken("reader", "read")
	adminTok := boss.newToken("ops", "admin")
	var cid string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM connections ORDER BY id LIMIT 1`).Scan(&cid)
	calls := []apiCall{
		{method: "GET", path: "/api/v1/admin/users"},
		{method: "GET", path: "/api/v1/admin/connections"},
		{method: "GET", path: "/api/v1/admin/events"},
		{method: "DELETE", path: "/api/v1/admin/connections/" + cid},
	}
	anon := ts.browser(t)
	for _, c := range calls {
		wantProblem(t, anon.api(c), http.StatusUnauthorized, "unauthenticated")
		sc := c
		sc.csrf = true
		wantProblem(t, user.api(sc), http.StatusForbidden, "forbidden")
		bc := c
		bc.bearer = userTok.Token
		wantProblem(t, anon.api(bc), http.StatusForbidden, "forbidden")
		bc.bearer = readTok.Token
		wantProblem(t, anon.api(bc), http.StatusForbidden, "insufficient_scope")
	}
	if n := ts.count(t, `SELECT count(*) FROM connections`); n != 3 {
		t.Fatalf("a refused DELETE removed a connection: %d left", n)
	}
	for _, c := range calls {
		bc := c
		bc.bearer = adminTok.Token
		r := anon.api(bc)
		want := http.StatusOK
		if c.method == "DELETE" {
			want = http.StatusNoContent
		}
		if r.Status != want {
			t.Errorf("admin token %s %s: %d\n%s", c.method, c.path, r.Status, r.Body)
		}
	}
	// The browser session of an administrator works too (with CSRF on DELETE).
	if r := boss.api(apiCall{method: "GET", path: "/api/v1/admin/users"}); r.Status != http.StatusOK {
		t.Errorf("admin session: %d", r.Status)
	}
	// An administrator's token stops working once the account is demoted.
	var bossID int64
	ts.DB.QueryRow(t.Context(), `SELECT id FROM users WHERE email = 'boss@example.com'`).Scan(&bossID)
	ts.DB.Exec(t.Context(), `UPDATE users SET is_admin = false WHERE id = $1`, bossID)
	wantProblem(t, anon.api(apiCall{method: "GET", path: "/api/v1/admin/users", bearer: adminTok.Token}), http.StatusForbidden, "forbidden")
}

// walkAPI follows next_cursor from path to the last page, calling between
// after each page, and returns every item.
func walkAPI[T any](t *testing.T, b *browser, tok, path string, between func()) []T {
	t.Helper()
	var all []T
	for i := 0; i < 200; i++ {
		r := b.api(apiCall{method: "GET", path: path, bearer: tok})
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, r.Status, r.Body)
		}
		p := decode[adminPage[T]](t, r.Body)
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		u, _ := url.Parse(path)
		q := u.Query()
		q.Set("cursor", p.NextCursor)
		u.RawQuery = q.Encode()
		path = u.String()
		between()
	}
	t.Fatal("more than 200 pages")
	return nil
}

func TestAdminAPIListsPageAndFilter(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 40)
	boss := ts.adminBrowser(t, "boss@example.com")
	tok := boss.newToken("ops", "admin").Token
	anon := ts.browser(t)

	r := anon.api(apiCall{method: "GET", path: "/api/v1/admin/users?limit=2", bearer: tok})
	conforms(t, "AdminUser", mustItem(t, r.Body))
	r = anon.api(apiCall{method: "GET", path: "/api/v1/admin/connections?limit=2", bearer: tok})
	conforms(t, "AdminConnection", mustItem(t, r.Body))
	r = anon.api(apiCall{method: "GET", path: "/api/v1/admin/events?limit=2", bearer: tok})
	conforms(t, "Event", mustItem(t, r.Body))

	n := 0
	users := walkAPI[adminUserItem](t, anon, tok, "/api/v1/admin/users?limit=6&sort=email&dir=asc", func() {
		n++
		ts.DB.Exec(t.Context(), `INSERT INTO users (email) VALUES ($1)`, "u00"+strconv.Itoa(n)+"x@new.test")
	})
	var emails []string
	for _, u := range users {
		if u.Email != "" && u.Email[len(u.Email)-10:] == "@list.test" {
			emails = append(emails, u.Email)
		}
	}
	if len(emails) != 40 || !slices.IsSorted(emails) || len(slices.Compact(slices.Clone(emails))) != 40 {
		t.Fatalf("users by email across pages while inserting: %d rows %v", len(emails), emails)
	}

	conns := walkAPI[adminConnItem](t, anon, tok, "/api/v1/admin/connections?limit=3&provider=beta&status=active&sort=last_used&dir=asc", func() {})
	if want := ts.count(t, `SELECT count(*) FROM connections WHERE provider = 'beta' AND status = 'active'`); len(conns) != want || want == 0 {
		t.Fatalf("filtered connections: %d, want %d", len(conns), want)
	}
	evs := walkAPI[adminEventItem](t, anon, tok, "/api/v1/admin/events?limit=1&kind=user_created", func() {})
	if len(evs) != ts.count(t, `SELECT count(*) FROM events WHERE kind = 'user_created'`) {
		t.Fatalf("user_created events: %d", len(evs))
	}

	for _, tc := range []struct{ path, code string }{
		{"/api/v1/admin/users?colour=blue", "invalid_filter"},
		{"/api/v1/admin/users?q=a&q=b", "invalid_filter"},
		{"/api/v1/admin/users?cursor=%7B%7D", "invalid_cursor"},
		{"/api/v1/admin/connections?status=asleep", "invalid_filter"},
		{"/api/v1/admin/connections?q=%C3%28abc", "invalid_filter"},
		{"/api/v1/admin/events?kind=x%27%20OR%201%3D1", "invalid_filter"},
		{"/api/v1/admin/events?limit=0", "invalid_limit"},
	} {
		wantProblem(t, anon.api(apiCall{method: "GET", path: tc.path, bearer: tok}), http.StatusBadRequest, tc.code)
	}
	r = anon.api(apiCall{method: "GET", path: "/api/v1/admin/connections?limit=5000", bearer: tok})
	if p := decode[adminPage[adminConnItem]](t, r.Body); len(p.Items) != 40 {
		t.Fatalf("limit 5000: %d items", len(p.Items))
	}
	wantProblem(t, anon.api(apiCall{method: "DELETE", path: "/api/v1/admin/connections/999999", bearer: tok}), http.StatusNotFound, "not_found")
}

// mustItem returns the first item of a list answer as JSON text.
func mustItem(t *testing.T, body string) string {
	t.Helper()
	p := decode[struct{ Items []json.RawMessage }](t, body)
	if len(p.Items) == 0 {
		t.Fatalf("empty list: %s", body)
	}
	return string(p.Items[0])
}
