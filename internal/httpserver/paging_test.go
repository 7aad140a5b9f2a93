package httpserver_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// pagedLists is every list of the service with a query that shows one
// row a page, keyed by the list and sort its cursors belong to. The
// console and the admin API show the same lists, so they share cursors.
var pagedLists = []struct{ path, list string }{
	{"/api/v1/connections?limit=1", "own connections"},
	{"/api/v1/tokens?limit=1", "own tokens"},
	{"/api/v1/admin/users?limit=1", "users by creation, newest first"},
	{"/api/v1/admin/users?limit=1&dir=asc", "users by creation, oldest first"},
	{"/api/v1/admin/users?limit=1&sort=email&dir=asc", "users by email"},
	{"/api/v1/admin/connections?limit=1", "connections by creation"},
	{"/api/v1/admin/connections?limit=1&sort=last_used", "connections by last use"},
	{"/api/v1/admin/events?limit=1", "events"},
	{"/admin/users?limit=1", "users by creation, newest first"},
	{"/admin/users?limit=1&sort=email&dir=asc", "users by email"},
	{"/admin/connections?limit=1", "connections by creation"},
	{"/admin/connections?limit=1&sort=last_used", "connections by last use"},
	{"/admin/events?limit=1", "events"},
	{"/admin/deliveries?limit=1", "parked deliveries"},
	{"/admin/mail?limit=1", "parked mail"},
}

// pagingServer is a server where every list has more than one page: the
// seeded users and their connections, the boss's own two connections and
// two tokens, two parked deliveries and two parked mails.
func pagingServer(t *testing.T) (ts *testServer, boss *browser, token string) {
	t.Helper()
	ts = newTestServer(t)
	ts.seedList(t, 3)
	boss = ts.adminBrowser(t, "boss@example.com")
	token = boss.newToken("ops", "admin").Token
	boss.newToken("second", "read")
	for _, sql := range []string{
		`INSERT INTO connections (user_id, provider, provider_user_id, username, name, access_token, status)
		 SELECT id, 'alpha', 'boss-' || n, 'boss', 'Boss', '\x00'::bytea, 'active'
		 FROM users, generate_series(1, 2) n WHERE email = 'boss@example.com'`,
		`INSERT INTO event_subscribers (name) VALUES ('webhook:https://hooks.example.com/dc')`,
		`WITH e AS (INSERT INTO events (kind, user_id) SELECT 'connection_created', 42 FROM generate_series(1, 2) RETURNING id)
		 INSERT INTO event_deliveries (event_id, subscriber, user_id, attempts, last_error, dead_at)
		 SELECT id, 'webhook:https://hooks.example.com/dc', 42, 10, 'webhook: 500', now() FROM e`,
		`INSERT INTO mail_outbox (to_addr, kind, attempts, last_error, dead_at)
		 SELECT 'gone' || n || '@example.com', 'verify', 8, 'smtp: 550', now() FROM generate_series(1, 2) n`,
	} {
		if _, err := ts.DB.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
	return ts, boss, token
}

// listGet asks for a page of a list: the JSON API with the token, the
// console with the boss's session.
func listGet(boss *browser, token, path string) response {
	boss.t.Helper()
	if strings.HasPrefix(path, "/api/") {
		return boss.api(apiCall{method: "GET", path: path, bearer: token})
	}
	return boss.get(path)
}

// nextCursor is the cursor of the page after the first: next_cursor in
// the JSON API, the Next link's on a console page.
func nextCursor(t *testing.T, boss *browser, token, path string) string {
	t.Helper()
	r := listGet(boss, token, path)
	if r.Status != http.StatusOK {
		t.Fatalf("%s: %d\n%.500s", path, r.Status, r.Body)
	}
	if strings.HasPrefix(path, "/api/") {
		if c := decode[struct {
			NextCursor string `json:"next_cursor"`
		}](t, r.Body).NextCursor; c != "" {
			return c
		}
	} else if m := nextLink.FindStringSubmatch(r.Body); m != nil {
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err == nil && u.Query().Get("cursor") != "" {
			return u.Query().Get("cursor")
		}
	}
	t.Fatalf("%s: no next page\n%.1000s", path, r.Body)
	return ""
}

// withParam is path with its query parameter name set to value.
func withParam(path, name, value string) string {
	u, _ := url.Parse(path)
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// problemDetail is the detail of a problem document.
func problemDetail(t *testing.T, r response) string {
	t.Helper()
	var p struct{ Detail string }
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil || p.Detail == "" {
		t.Fatalf("not a problem document with a detail: %v\n%s", err, r.Body)
	}
	return p.Detail
}

// TestEveryListRefusesBadPagesAlike: every list, in the JSON API and in
// the console, refuses a bad limit and a bad cursor the same way: one
// problem code and one detail for each in the API, and the same words,
// in English and in German, above the console's lists.
func TestEveryListRefusesBadPagesAlike(t *testing.T) {
	ts, boss, token := pagingServer(t)
	before := ts.count(t, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM connections) + (SELECT count(*) FROM events)`)
	bad := []struct{ param, code string }{
		{"limit", "invalid_limit"}, {"cursor", "invalid_cursor"},
	}
	values := map[string][]string{
		"limit":  {"0", "-1", "abc", "1.5", " 5", "1e3"},
		"cursor": {"not-a-cursor", "aWQ6MQ", "e30", "!!", strings.Repeat("A", 600)},
	}
	for _, b := range bad {
		detail := ""
		for _, l := range pagedLists {
			for _, v := range values[b.param] {
				path := withParam(l.path, b.param, v)
				r := listGet(boss, token, path)
				if strings.HasPrefix(path, "/api/") {
					wantProblem(t, r, http.StatusBadRequest, b.code)
					if d := problemDetail(t, r); detail == "" {
						detail = d
					} else if d != detail {
						t.Errorf("%s: detail %q, another list says %q", path, d, detail)
					}
					continue
				}
				if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, html.EscapeString(detail)) {
					t.Errorf("%s: %d, want 400 saying %q\n%.500s", path, r.Status, detail, r.Body)
				}
			}
		}
	}
	// In German, every console list says the same, in German.
	boss.speaking("de")
	for _, b := range bad {
		german := ""
		for _, l := range pagedLists {
			if strings.HasPrefix(l.path, "/api/") {
				continue
			}
			r := boss.get(withParam(l.path, b.param, values[b.param][0]))
			m := consoleError.FindStringSubmatch(r.Body)
			switch {
			case r.Status != http.StatusBadRequest || m == nil:
				t.Errorf("%s in German, bad %s: %d\n%.800s", l.path, b.param, r.Status, r.Body)
			case german == "":
				german = m[1]
				if !strings.Contains(german, "Seite") {
					t.Errorf("%s in German, bad %s: %q is not German", l.path, b.param, german)
				}
			case m[1] != german:
				t.Errorf("%s in German, bad %s: %q, another list says %q", l.path, b.param, m[1], german)
			}
		}
	}
	if after := ts.count(t, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM connections) + (SELECT count(*) FROM events)`); after != before {
		t.Errorf("bad pages changed the database: %d rows, then %d", before, after)
	}
}

// consoleError is the message a console list shows above its rows.
var consoleError = regexp.MustCompile(`(?s)<div class="form-error" role="alert">.*?<p>([^<]*)</p>`)

// TestCursorsBelongToTheirListAndSort takes a cursor from every list and
// sort and offers it to every other: only the list and sort it came from
// (in the API or the console, which show the same lists) take it; every
// other refuses it as a bad cursor.
func TestCursorsBelongToTheirListAndSort(t *testing.T) {
	_, boss, token := pagingServer(t)
	cursors := make([]string, len(pagedLists))
	for i, l := range pagedLists {
		cursors[i] = nextCursor(t, boss, token, l.path)
	}
	for i, from := range pagedLists {
		for _, to := range pagedLists {
			path := withParam(to.path, "cursor", cursors[i])
			r := listGet(boss, token, path)
			switch {
			case from.list == to.list && r.Status != http.StatusOK:
				t.Errorf("a cursor of %s (%s) on %s: %d, want 200\n%.300s", from.list, from.path, to.path, r.Status, r.Body)
			case from.list != to.list && strings.HasPrefix(path, "/api/"):
				if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `"code":"invalid_cursor"`) {
					t.Errorf("a cursor of %s on %s: %d, want 400 invalid_cursor\n%.300s", from.list, to.path, r.Status, r.Body)
				}
			case from.list != to.list && (r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "cursor is not one this list returned")):
				t.Errorf("a cursor of %s on %s: %d, want 400 saying the cursor is not the list's\n%.300s", from.list, to.path, r.Status, r.Body)
			}
		}
	}
}
