package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

var (
	currentTab = regexp.MustCompile(`<a class="admin-tab current" href="([^"]+)" aria-current="page">([^<]+)</a>`)
	crumbTrail = regexp.MustCompile(`(?s)<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>(.*?)</ol></nav>`)
	tags       = regexp.MustCompile(`<[^>]+>`)
	prevLink   = regexp.MustCompile(`rel="prev" href="([^"]+)"`)
)

// trail is a page's breadcrumb trail as text: "Admin › Users › ada@x".
func trail(body string) string {
	m := crumbTrail.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	parts := strings.Split(m[1], "</li>")
	var out []string
	for _, p := range parts {
		if t := strings.TrimSpace(tags.ReplaceAllString(p, "")); t != "" {
			out = append(out, t)
		}
	}
	return strings.Join(out, " › ")
}

// TestAdminPagesShareOneFrame: every admin page, the deliveries page
// included, has the tab strip with its own tab marked current, all six
// tabs, and a breadcrumb trail from the console's front page.
func TestAdminPagesShareOneFrame(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 3)
	parkDelivery(t, ts)
	boss := ts.adminBrowser(t, "boss@example.com")
	var uid string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'u0002@list.test'`).Scan(&uid)
	for _, tc := range []struct{ path, tab, trail string }{
		{"/admin/", "Dashboard", "Administration"},
		{"/admin/users", "Users", "Admin › Users"},
		{"/admin/users/" + uid, "Users", "Admin › Users › u0002@list.test"},
		{"/admin/connections", "Connections", "Admin › Connections"},
		{"/admin/events", "Events", "Admin › Events"},
		{"/admin/deliveries", "Deliveries", "Admin › Event deliveries"},
		{"/admin/mail", "Mail", "Admin › Failed mail"},
	} {
		r := boss.get(tc.path)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", tc.path, r.Status)
		}
		tabs := currentTab.FindAllStringSubmatch(r.Body, -1)
		if len(tabs) != 1 || tabs[0][2] != tc.tab {
			t.Errorf("%s: current tab %v, want only %q", tc.path, tabs, tc.tab)
		}
		for _, name := range []string{"Dashboard", "Users", "Connections", "Events", "Deliveries", "Mail"} {
			if !strings.Contains(r.Body, `">`+name+`</a>`) {
				t.Errorf("%s: the tab strip lacks %s", tc.path, name)
			}
		}
		if got := trail(r.Body); got != tc.trail {
			t.Errorf("%s: breadcrumbs %q, want %q", tc.path, got, tc.trail)
		}
		if !strings.Contains(r.Body, `<div class="admin">`) {
			t.Errorf("%s: not in the admin frame", tc.path)
		}
	}
}

// TestAdminListsPageBothWays walks the users and connections lists to the
// end with Next page and back to the start with Previous page: the way
// back shows the same pages, and each page says how many rows there are.
func TestAdminListsPageBothWays(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 23)
	boss := ts.adminBrowser(t, "boss@example.com")
	for _, tc := range []struct {
		path  string
		row   *regexp.Regexp
		total string
	}{
		{"/admin/users?limit=5&sort=email&dir=asc", userRow, "24 users"},
		{"/admin/connections?limit=4&status=active", connRow, "16 connections"},
		{"/admin/connections?limit=5&sort=last_used&dir=asc", connRow, "23 connections"},
	} {
		var forward [][]string
		path := tc.path
		for path != "" {
			r := boss.get(path)
			if !strings.Contains(r.Body, tc.total) {
				t.Fatalf("%s: no total %q", path, tc.total)
			}
			if (len(forward) == 0) == prevLink.MatchString(r.Body) {
				t.Fatalf("%s: page %d has a previous link: %v", path, len(forward), prevLink.MatchString(r.Body))
			}
			var rows []string
			for _, m := range tc.row.FindAllStringSubmatch(r.Body, -1) {
				rows = append(rows, m[1])
			}
			forward = append(forward, rows)
			path = ""
			if m := nextLink.FindStringSubmatch(r.Body); m != nil {
				path = strings.ReplaceAll(m[1], "&amp;", "&")
			} else if m := prevLink.FindStringSubmatch(r.Body); m != nil {
				back := strings.ReplaceAll(m[1], "&amp;", "&")
				// Walk back to the first page.
				for i := len(forward) - 2; i >= 0; i-- {
					r := boss.get(back)
					var rows []string
					for _, m := range tc.row.FindAllStringSubmatch(r.Body, -1) {
						rows = append(rows, m[1])
					}
					if !slices.Equal(rows, forward[i]) {
						t.Fatalf("%s: back on page %d: %v, want %v", tc.path, i, rows, forward[i])
					}
					if !nextLink.MatchString(r.Body) {
						t.Fatalf("%s: page %d reached going back has no next link", tc.path, i)
					}
					m := prevLink.FindStringSubmatch(r.Body)
					if (i == 0) != (m == nil) {
						t.Fatalf("%s: page %d reached going back: previous link %v", tc.path, i, m)
					}
					if m != nil {
						back = strings.ReplaceAll(m[1], "&amp;", "&")
					}
				}
			}
		}
		all := slices.Concat(forward...)
		want, _ := strconv.Atoi(strings.Fields(tc.total)[0])
		if tc.row == userRow {
			want-- // the administrator's own address is not a list.test one
		}
		if len(all) != want || len(forward) < 3 {
			t.Fatalf("%s: %d rows on %d pages, want %d", tc.path, len(all), len(forward), want)
		}
		if !strings.Contains(boss.get(tc.path).Body, tc.total) {
			t.Errorf("%s: total is not %q", tc.path, tc.total)
		}
	}
}

// TestAdminTotalsEstimatedPastTheLimit: a list too long to count says
// "about" and where the number comes from; a short one is exact.
func TestAdminTotalsEstimatedPastTheLimit(t *testing.T) {
	ts := newTestServer(t)
	boss := ts.adminBrowser(t, "boss@example.com")
	if _, err := ts.DB.Exec(t.Context(), `INSERT INTO events (kind, provider) SELECT 'connection_updated', 'hub' FROM generate_series(1, 12000);
		ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	r := boss.get("/admin/events")
	if !strings.Contains(r.Body, "about 12,000 events") || !strings.Contains(r.Body, "estimated from the table statistics") {
		t.Errorf("every event: no estimate\n%s", excerpt(r.Body, `id="list-total"`, "</p>"))
	}
	r = boss.get("/admin/events?kind=login_completed")
	if !strings.Contains(r.Body, "1 event") || strings.Contains(r.Body, "estimated") {
		t.Errorf("log-ins: want exactly 1 event\n%s", excerpt(r.Body, `id="list-total"`, "</p>"))
	}
	var body struct {
		Total struct {
			Count int64 `json:"count"`
			Exact bool  `json:"exact"`
		} `json:"total"`
	}
	res := boss.api(apiCall{method: "GET", path: "/api/v1/admin/events?provider=hub"})
	json.Unmarshal([]byte(res.Body), &body)
	if res.Status != http.StatusOK || body.Total.Exact || body.Total.Count < 10_001 {
		t.Errorf("API total of 12,000 events: %d %+v", res.Status, body.Total)
	}
}

// excerpt is the part of s from the first from to the next to after it.
func excerpt(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j+len(to)]
}

// TestAdminUserFiltersAndLastLogin: the users list filters by role, state
// and verified address, and shows each account's last log-in.
func TestAdminUserFiltersAndLastLogin(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 6)
	boss := ts.adminBrowser(t, "boss@example.com")
	ts.DB.Exec(t.Context(), `UPDATE users SET disabled_at = now() WHERE email IN ('u0002@list.test', 'u0003@list.test')`)
	ts.DB.Exec(t.Context(), `UPDATE users SET email_verified_at = now() WHERE email IN ('u0003@list.test', 'u0004@list.test')`)
	ts.DB.Exec(t.Context(), `UPDATE users SET is_admin = true WHERE email = 'u0004@list.test'`)
	for _, tc := range []struct {
		query, where string
		want         []string
	}{
		{"role=admin", "is_admin", []string{"u0004@list.test"}},
		{"role=user", "NOT is_admin", []string{"u0001@list.test", "u0002@list.test", "u0003@list.test", "u0005@list.test", "u0006@list.test"}},
		{"state=disabled", "disabled_at IS NOT NULL", []string{"u0002@list.test", "u0003@list.test"}},
		{"state=active", "disabled_at IS NULL", []string{"u0001@list.test", "u0004@list.test", "u0005@list.test", "u0006@list.test"}},
		{"verified=yes", "email_verified_at IS NOT NULL", []string{"u0003@list.test", "u0004@list.test"}},
		{"verified=no", "email_verified_at IS NULL", []string{"u0001@list.test", "u0002@list.test", "u0005@list.test", "u0006@list.test"}},
		{"state=disabled&verified=yes", "disabled_at IS NOT NULL AND email_verified_at IS NOT NULL", []string{"u0003@list.test"}},
		{"role=admin&state=disabled", "is_admin AND disabled_at IS NOT NULL", nil},
	} {
		got := boss.collect("/admin/users?sort=email&dir=asc&"+tc.query, userRow, func() {})
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
		// The total counts the administrator too, where it matches.
		n := ts.count(t, `SELECT count(*) FROM users WHERE `+tc.where)
		label := strconv.Itoa(n) + " users"
		if n == 1 {
			label = "1 user"
		}
		if r := boss.get("/admin/users?" + tc.query); !strings.Contains(r.Body, `id="list-total">`+label) {
			t.Errorf("%s: total is not %q: %s", tc.query, label, excerpt(r.Body, `id="list-total"`, "</p>"))
		}
	}
	for _, bad := range []string{"role=root", "state=sleeping", "verified=perhaps"} {
		if r := boss.get("/admin/users?" + bad); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, r.Status)
		}
	}
	// Last log-in: the administrator has one, the seeded accounts none.
	r := boss.get("/admin/users?sort=email&dir=asc")
	if !strings.Contains(r.Body, "<th scope=\"col\">Last log-in</th>") {
		t.Fatal("no Last log-in column")
	}
	bossRow := excerpt(r.Body, ">boss@example.com</a>", "</tr>")
	seededRow := excerpt(r.Body, ">u0001@list.test</a>", "</tr>")
	if !strings.Contains(bossRow, "<time") || !strings.Contains(seededRow, "Never") {
		t.Errorf("last log-in: boss %q, seeded %q", bossRow, seededRow)
	}
	var apiBody struct {
		Items []struct {
			Email       string  `json:"email"`
			LastLoginAt *string `json:"last_login_at"`
		} `json:"items"`
	}
	json.Unmarshal([]byte(boss.api(apiCall{method: "GET", path: "/api/v1/admin/users?role=admin"}).Body), &apiBody)
	if len(apiBody.Items) != 2 || apiBody.Items[0].LastLoginAt == nil {
		t.Errorf("API role=admin: %+v", apiBody.Items)
	}
}

// TestAdminListsNameAccountsAndProviders: events and connections name
// accounts by email (the id on hover) and providers by their display
// names, statuses by one name, and reasons in a sentence with the recorded
// text kept.
func TestAdminListsNameAccountsAndProviders(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	ada := ts.browser(t)
	ada.signUp("ada@example.com", goodPassword)
	ada.dance(hub, "/auth/hub/connect", nil)
	boss := ts.adminBrowser(t, "boss@example.com")
	var uid string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'ada@example.com'`).Scan(&uid)
	ts.DB.Exec(t.Context(), `UPDATE connections SET status = 'needs_reauth'`)
	ts.DB.Exec(t.Context(), `INSERT INTO events (kind, user_id, provider, reason) VALUES
		('login_failed', $1::bigint, 'hub', 'links: account disabled'),
		('login_failed', NULL, 'hub', 'oauth: finish hub: token endpoint: oauth: provider unreachable'),
		('mail_failed', $1::bigint, NULL, '421 try again later')`, uid)

	userLink := `<a href="/admin/users/` + uid + `" title="User id ` + uid + `">ada@example.com</a>`
	events := boss.get("/admin/events")
	for _, want := range []string{userLink, "The account is disabled.", "Recorded reason: <code>links: account disabled</code>",
		"The provider could not be reached.", "421 try again later", ">Hub hub<"} {
		if !strings.Contains(events.Body, want) {
			t.Errorf("events page lacks %q", want)
		}
	}
	if strings.Contains(events.Body, `">`+uid+`</a>`) {
		t.Error("the events page still names a user by id")
	}
	conns := boss.get("/admin/connections")
	for _, want := range []string{userLink, "Hub hub", "Needs reconnecting"} {
		if !strings.Contains(conns.Body, want) {
			t.Errorf("connections page lacks %q", want)
		}
	}
	dash := boss.get("/admin/")
	for _, page := range []response{events, conns, dash, boss.get("/admin/users/" + uid), boss.get("/admin/connections?status=needs_reauth")} {
		for _, old := range []string{"re-authorisation", "Needing", ">needs_reauth<", ">hub<"} {
			if strings.Contains(page.Body, old) {
				t.Errorf("a page still says %q", old)
			}
		}
	}
	if !strings.Contains(dash.Body, "Needs reconnecting") || !strings.Contains(dash.Body, "Hub hub") {
		t.Error("the dashboard lacks the status's name or the provider's")
	}
	if r := boss.get("/admin/events?user_id=" + uid); !strings.Contains(r.Body, `Events of <a href="/admin/users/`+uid+`">ada@example.com</a>`) {
		t.Error("the events filtered by user do not name the account")
	}
}

// TestDisabledAccountLogInsShowOnItsPage: a log-in refused because the
// account is disabled is recorded on that account, by password, by
// provider and at the second step, so its page lists it.
func TestDisabledAccountLogInsShowOnItsPage(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	ada := ts.browser(t)
	ada.signUp("ada@example.com", goodPassword)
	ada.dance(hub, "/auth/hub/connect", nil)
	boss := ts.adminBrowser(t, "boss@example.com")
	var uid string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'ada@example.com'`).Scan(&uid)
	if _, err := ts.DB.Exec(t.Context(), `UPDATE users SET disabled_at = now() WHERE id = $1::bigint`, uid); err != nil {
		t.Fatal(err)
	}
	stranger := ts.browser(t)
	if r := stranger.dance(hub, "/auth/hub/login", nil); stranger.cookie("dc_session") != nil {
		t.Fatalf("provider log-in of a disabled account: %d %q", r.Status, r.Location)
	}
	stranger.logIn("ada@example.com", goodPassword)
	n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'login_failed' AND user_id = $1::bigint
		AND reason IN ('accounts: account disabled', 'account disabled')`, uid)
	if n != 2 {
		t.Fatalf("%d failed log-ins recorded on the disabled account, want 2 (provider and password)", n)
	}
	// Disabled between the password and the second step: the same.
	pat := ts.browser(t)
	pat.signUp("pat@example.com", goodPassword)
	secret, _ := enrolTOTP(t, pat)
	pat.post("/logout", nil)
	if r := pat.logIn("pat@example.com", goodPassword); !strings.HasPrefix(r.Location, "/login/mfa") {
		t.Fatalf("password step: %d %q", r.Status, r.Location)
	}
	ts.DB.Exec(t.Context(), `UPDATE users SET disabled_at = now() WHERE email = 'pat@example.com'`)
	code, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	pat.post("/login/mfa", url.Values{"code": {code}})
	if pat.cookie("dc_session") != nil {
		t.Fatal("a disabled account finished its second step")
	}
	if n := ts.count(t, `SELECT count(*) FROM events e JOIN users u ON u.id = e.user_id
		WHERE e.kind = 'login_failed' AND u.email = 'pat@example.com' AND e.reason = 'account disabled'`); n != 1 {
		t.Errorf("%d failed log-ins recorded when the second step met a disabled account, want 1", n)
	}
	page := boss.get("/admin/users/" + uid)
	recent := excerpt(page.Body, `id="events-title"`, "</section>")
	if strings.Count(recent, "The account is disabled.") != 2 || !strings.Contains(recent, "accounts: account disabled") ||
		!strings.Contains(recent, "Hub hub") {
		t.Errorf("the user page's events do not show both refused log-ins:\n%s", recent)
	}
}
