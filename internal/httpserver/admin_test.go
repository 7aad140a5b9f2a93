package httpserver_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// adminBrowser creates an administrator and returns a browser logged in as it.
func (ts *testServer) adminBrowser(t *testing.T, email string) *browser {
	t.Helper()
	if _, _, err := ts.Accounts.EnsureAdmin(t.Context(), email, goodPassword); err != nil {
		t.Fatal(err)
	}
	b := ts.browser(t)
	if r := b.logIn(email, goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("admin log in: %d", r.Status)
	}
	return b
}

// seedList inserts users u0001@list.test... and one connection per user
// (provider "alpha" for odd ids, "beta" for even, every third needing
// re-authorisation) straight into the tables: the lists only read them, and
// their token columns hold a marker no code opens.
func (ts *testServer) seedList(t *testing.T, n int) {
	t.Helper()
	_, err := ts.DB.Exec(t.Context(), `
		WITH u AS (
			INSERT INTO users (email, created_at)
			SELECT 'u' || lpad(i::text, 4, '0') || '@list.test', now() - make_interval(mins => $1 - i)
			FROM generate_series(1, $1) i RETURNING id, email, created_at)
		INSERT INTO connections (user_id, provider, provider_user_id, username, name, access_token, status, created_at, last_used_at)
		SELECT id, CASE WHEN id % 2 = 1 THEN 'alpha' ELSE 'beta' END, 'pid-' || id, split_part(email, '@', 1), 'Name ' || id,
		       '\x00'::bytea, CASE WHEN id % 3 = 0 THEN 'needs_reauth' ELSE 'active' END, created_at,
		       CASE WHEN id % 4 = 0 THEN NULL ELSE created_at + interval '1 second' END
		FROM u`, n)
	if err != nil {
		t.Fatal(err)
	}
}

var nextLink = regexp.MustCompile(`rel="next" href="([^"]+)"`)

// collect walks every page of an admin list page from path, calling between
// after each page, and returns the text of the first cell class it finds
// per row, matched by rowRe.
func (b *browser) collect(path string, rowRe *regexp.Regexp, between func()) []string {
	b.t.Helper()
	var out []string
	for i := 0; path != "" && i < 100; i++ {
		r := b.get(path)
		if r.Status != http.StatusOK {
			b.t.Fatalf("GET %s: %d\n%.1000s", path, r.Status, r.Body)
		}
		for _, m := range rowRe.FindAllStringSubmatch(r.Body, -1) {
			out = append(out, m[1])
		}
		path = ""
		if m := nextLink.FindStringSubmatch(r.Body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
			between()
		}
	}
	return out
}

func TestAdminRoutesAuthorisation(t *testing.T) {
	ts := newTestServer(t)
	user := ts.browser(t)
	user.signUp("user@example.com", goodPassword)
	boss := ts.adminBrowser(t, "boss@example.com")
	var uid string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'user@example.com'`).Scan(&uid)
	gets := []string{"/admin/", "/admin/users", "/admin/users/" + uid, "/admin/connections", "/admin/connections.csv", "/admin/events"}
	posts := []string{"/admin/users/" + uid + "/sessions/delete", "/admin/users/" + uid + "/admin",
		"/admin/users/" + uid + "/disable", "/admin/users/" + uid + "/enable", "/admin/connections/999/delete"}
	anon := ts.browser(t)
	for _, p := range gets {
		if r := anon.get(p); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
			t.Errorf("anonymous GET %s: %d %q, want a redirect to /login", p, r.Status, r.Location)
		}
		if r := user.get(p); r.Status != http.StatusForbidden {
			t.Errorf("user GET %s: %d, want 403", p, r.Status)
		}
		if r := boss.get(p); r.Status != http.StatusOK {
			t.Errorf("admin GET %s: %d, want 200", p, r.Status)
		}
	}
	// /admin without its slash, as people type it, leads to the dashboard.
	if r := boss.get("/admin"); r.Status != http.StatusMovedPermanently || r.Location != "/admin/" {
		t.Errorf("GET /admin: %d %q, want a redirect to /admin/", r.Status, r.Location)
	}
	for _, p := range posts {
		if r := anon.post(p, url.Values{"admin": {"true"}}); r.Status != http.StatusUnauthorized {
			t.Errorf("anonymous POST %s: %d, want 401", p, r.Status)
		}
		if r := user.post(p, url.Values{"admin": {"true"}}); r.Status != http.StatusForbidden {
			t.Errorf("user POST %s: %d, want 403", p, r.Status)
		}
		if r := boss.postRaw(p, "application/x-www-form-urlencoded", "admin=true"); r.Status != http.StatusForbidden {
			t.Errorf("admin POST %s without CSRF token: %d, want 403", p, r.Status)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind LIKE 'admin\_%' AND kind <> 'admin_user_created'`); n != 0 {
		t.Fatalf("%d admin events recorded by refused requests", n)
	}
	// The administrator's own actions answer with a redirect to the user.
	for _, p := range posts[:4] {
		if r := boss.postConfirmed(p, url.Values{"admin": {"true"}}); r.Status != http.StatusSeeOther || r.Location != "/admin/users/"+uid {
			t.Errorf("admin POST %s: %d %q", p, r.Status, r.Location)
		}
	}
	if r := boss.post(posts[4], nil); r.Status != http.StatusNotFound {
		t.Errorf("admin removing an unknown connection: %d, want 404", r.Status)
	}
}

var userRow = regexp.MustCompile(`<a href="/admin/users/\d+">(u\d+@list\.test)</a>`)

func TestAdminUsersPagesSkipNothingWhileRowsArrive(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 45)
	boss := ts.adminBrowser(t, "boss@example.com")
	for _, sort := range []string{"sort=created&dir=desc", "sort=created&dir=asc", "sort=email&dir=asc", "sort=email&dir=desc"} {
		added := 0
		got := boss.collect("/admin/users?limit=7&"+sort, userRow, func() {
			// A new account arrives between pages, sorting both before and
			// after the cursor.
			added++
			ts.DB.Exec(t.Context(), `INSERT INTO users (email) VALUES ($1), ($2)`,
				"u0000-"+strconv.Itoa(added)+"-"+sort[5:8]+"@new.test", "u9999-"+strconv.Itoa(added)+sort[5:8]+"@new.test")
		})
		seen := map[string]int{}
		for _, e := range got {
			seen[e]++
		}
		for i := 1; i <= 45; i++ {
			e := "u" + strconv.Itoa(10000 + i)[1:] + "@list.test"
			if seen[e] != 1 {
				t.Errorf("%s: %s seen %d times", sort, e, seen[e])
			}
		}
		if !slices.IsSortedFunc(got, func(a, b string) int {
			if strings.HasSuffix(sort, "desc") {
				return strings.Compare(b, a)
			}
			return strings.Compare(a, b)
		}) {
			t.Errorf("%s: rows out of order: %v", sort, got)
		}
	}
	r := boss.get("/admin/users?q=u004")
	if got := userRow.FindAllStringSubmatch(r.Body, -1); len(got) != 6 {
		t.Errorf("search u004: %d rows, want 6 (u0040-u0045)", len(got))
	}
}

var connRow = regexp.MustCompile(`<div class="muted mono">(pid-\d+)</div>`)

func TestAdminConnectionFiltersAndCSV(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 60)
	boss := ts.adminBrowser(t, "boss@example.com")
	wantOrdered := func(where, order string) []string {
		rows, err := ts.DB.Query(t.Context(), `SELECT 'pid-' || user_id FROM connections c WHERE `+where+` ORDER BY `+order)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out = append(out, s)
		}
		return out
	}
	want := func(where string) []string { return wantOrdered(where, "created_at DESC, id DESC") }
	for _, tc := range []struct{ query, where string }{
		{"", "true"},
		{"provider=alpha", "provider = 'alpha'"},
		{"status=needs_reauth", "status = 'needs_reauth'"},
		{"provider=beta&status=needs_reauth", "provider = 'beta' AND status = 'needs_reauth'"},
		{"q=u003", "username LIKE 'u003%'"},
		{"q=Name+5&provider=alpha", "name LIKE 'Name 5%' AND provider = 'alpha'"},
	} {
		got := boss.collect("/admin/connections?limit=4&"+tc.query, connRow, func() {})
		if w := want(tc.where); !slices.Equal(got, w) {
			t.Errorf("%q: got %v\nwant %v", tc.query, got, w)
		}
		r := boss.get("/admin/connections.csv?" + tc.query)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv %q: %d %s", tc.query, r.Status, r.Header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, rec := range recs[1:] {
			ids = append(ids, rec[4])
		}
		if w := want(tc.where); !slices.Equal(ids, w) {
			t.Errorf("csv %q: got %v\nwant %v", tc.query, ids, w)
		}
	}
	// Sorted by last use, never-used connections come last when newest first.
	got := boss.collect("/admin/connections?limit=9&sort=last_used", connRow, func() {})
	if w := wantOrdered("true", "coalesce(last_used_at, 'epoch') DESC, id DESC"); !slices.Equal(got, w) {
		t.Errorf("last_used sort: got %v\nwant %v", got, w)
	}
}

func TestAdminListsRefuseBadInput(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 5)
	boss := ts.adminBrowser(t, "boss@example.com")
	for _, tc := range []struct{ path, msg string }{
		{"/admin/users?sort=password_hash", "Sort users by"},
		{"/admin/users?dir=sideways", "sort direction"},
		{"/admin/users?cursor=not-a-cursor", "cursor is not one this list returned"},
		{"/admin/users?cursor=eyJzIjoiZW1haWwiLCJrIjoieCIsImkiOjF9", "cursor is not one this list returned"}, // no list named
		{"/admin/users?limit=-3", "page size"},
		{"/admin/users?limit=abc", "page size"},
		{"/admin/users?q=%25_", "three letters or digits"},
		{"/admin/users?q=ab", "three letters or digits"},
		{"/admin/users?q=%FF%FEabc", "not valid text"},
		{"/admin/connections?status=sleeping", "status must be"},
		{"/admin/connections?provider=%27%3B+DROP+TABLE+users", "provider id"},
		{"/admin/connections?sort=rank", "Sort connections by"},
		{"/admin/events?kind=nonsense", "no event kind"},
		{"/admin/events?user_id=1e9", "user id"},
		{"/admin/events?since=yesterday", "Write times like"},
		{"/admin/events?since=2026-02-01&until=2026-01-01", "before its end"},
	} {
		r := boss.get(tc.path)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, tc.msg) {
			t.Errorf("%s: %d, want 400 saying %q\n%.300s", tc.path, r.Status, tc.msg, r.Body)
		}
	}
	if r := boss.get("/admin/connections.csv?status=sleeping"); r.Status != http.StatusBadRequest {
		t.Errorf("csv with a bad filter: %d", r.Status)
	}
	// SQL metacharacters in a search are only text to look for.
	for _, q := range []string{"o'brien", `u00%' OR '1'='1`, `abc\`, "u00_1"} {
		if r := boss.get("/admin/connections?q=" + url.QueryEscape(q)); r.Status != http.StatusOK || connRow.MatchString(r.Body) {
			t.Errorf("q=%q: %d (matches: %v)", q, r.Status, connRow.FindAllString(r.Body, 3))
		}
	}
	// A huge limit is capped, not refused.
	if r := boss.get("/admin/events?limit=1000000000000000000000"); r.Status != http.StatusOK {
		t.Errorf("huge limit: %d", r.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM users`); n != 6 {
		t.Fatalf("users = %d: bad input changed something", n)
	}
}

func TestAdminDisableEnableAndDisconnect(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	victim := ts.browser(t)
	victim.signUp("victim@example.com", goodPassword)
	victim.dance(hub, "/auth/hub/connect", nil)
	tok := victim.newToken("cli", "read")
	other := ts.browser(t) // a second session of the same account
	other.logIn("victim@example.com", goodPassword)
	boss := ts.adminBrowser(t, "boss@example.com")
	var uid, cid, bossID string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'victim@example.com'`).Scan(&uid)
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'boss@example.com'`).Scan(&bossID)
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM connections`).Scan(&cid)

	if r := boss.postConfirmed("/admin/users/"+uid+"/disable", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.Status)
	}
	if p := boss.get("/admin/users/" + uid); !strings.Contains(p.Body, "disabled and logged out everywhere") || !strings.Contains(p.Body, "Disabled") {
		t.Fatalf("user page after disable:\n%.2000s", p.Body)
	}
	for i, b := range []*browser{victim, other} {
		if r := b.get("/profile"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
			t.Errorf("session %d of a disabled account still works: %d", i, r.Status)
		}
	}
	if r := victim.logIn("victim@example.com", goodPassword); r.Status == http.StatusSeeOther || !strings.Contains(r.Body, "has been disabled") {
		t.Errorf("password log-in of a disabled account: %d", r.Status)
	}
	if r := victim.dance(hub, "/auth/hub/login", nil); r.Location != "/login" || victim.cookie("dc_session") != nil {
		t.Errorf("provider log-in of a disabled account: %d %q", r.Status, r.Location)
	}
	wantProblem(t, ts.browser(t).api(apiCall{method: "GET", path: "/api/v1/me", bearer: tok.Token}), http.StatusUnauthorized, "unauthenticated")
	if r := boss.post("/admin/users/"+uid+"/enable", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("enable: %d", r.Status)
	}
	if r := ts.browser(t).api(apiCall{method: "GET", path: "/api/v1/me", bearer: tok.Token}); r.Status != http.StatusOK {
		t.Errorf("token of the re-enabled account: %d", r.Status)
	}
	if r := victim.logIn("victim@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Errorf("re-enabled account cannot log in: %d", r.Status)
	}
	// An administrator cannot lock themselves out.
	boss.post("/admin/users/"+bossID+"/disable", nil)
	boss.post("/admin/users/"+bossID+"/admin", url.Values{"admin": {"false"}})
	if p := boss.get("/admin/"); p.Status != http.StatusOK {
		t.Fatalf("administrator locked themselves out: %d", p.Status)
	}
	// Removing the account's connection deletes it, records both events
	// and revokes the token at the provider.
	r := boss.postConfirmed("/admin/connections/"+cid+"/delete", url.Values{"back": {"/admin/users/" + uid}})
	if r.Status != http.StatusSeeOther || r.Location != "/admin/users/"+uid {
		t.Fatalf("admin disconnect: %d %q", r.Status, r.Location)
	}
	if hub.Counts().Revocations != 1 || ts.count(t, `SELECT count(*) FROM connections`) != 0 {
		t.Errorf("revocations %d, connections left %d", hub.Counts().Revocations, ts.count(t, `SELECT count(*) FROM connections`))
	}
	for kind, n := range map[string]int{"admin_user_disabled": 1, "admin_user_enabled": 1, "connection_removed": 1,
		"admin_connection_removed": 1} {
		if got := ts.count(t, `SELECT count(*) FROM events WHERE kind = $1 AND user_id = $2::bigint`, kind, uid); got != n {
			t.Errorf("%s events = %d, want %d", kind, got, n)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind LIKE 'admin\_%' AND data->>'admin_id' = $1`, bossID); n != 3 {
		t.Errorf("admin events naming the administrator = %d, want 3", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE user_id = $1::bigint AND kind IN ('admin_user_disabled', 'admin_role_revoked')`, bossID); n != 0 {
		t.Errorf("self-lockout recorded %d events", n)
	}
	// A back address off the console is not followed.
	if r := boss.post("/admin/connections/999999/delete", url.Values{"back": {"https://evil.test/"}}); r.Status != http.StatusNotFound {
		t.Errorf("unknown connection: %d", r.Status)
	}
}

// TestAdminUserSearchByName: an account takes its display name from the
// first linked account that has one, and the users search matches it as
// well as the email.
func TestAdminUserSearchByName(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	dancer := ts.browser(t)
	dancer.signUp("plain@example.com", goodPassword)
	hub.SetUser(oauthtest.User{ID: "dq-1", Login: "dq", Name: "Dancing Queen"})
	dancer.dance(hub, "/auth/hub/connect", nil)
	hub.SetUser(oauthtest.User{ID: "dq-2", Login: "dq2", Name: "Someone Else"})
	dancer.dance(hub, "/auth/hub/connect", nil)
	var name string
	ts.DB.QueryRow(t.Context(), `SELECT name FROM users WHERE email = 'plain@example.com'`).Scan(&name)
	if name != "Dancing Queen" {
		t.Fatalf("name = %q, want the first linked account's", name)
	}
	boss := ts.adminBrowser(t, "boss@example.com")
	if r := boss.get("/admin/users?q=queen"); !strings.Contains(r.Body, "plain@example.com") || !strings.Contains(r.Body, "Dancing Queen") {
		t.Fatalf("search by name did not find the user:\n%.2000s", r.Body)
	}
	if r := boss.get("/admin/users?q=plain"); !strings.Contains(r.Body, "plain@example.com") {
		t.Fatal("search by email no longer works")
	}
	if r := boss.get("/admin/users?q=else"); strings.Contains(r.Body, "plain@example.com") {
		t.Fatal("a second connection's name renamed the account")
	}
}
