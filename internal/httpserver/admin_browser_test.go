package httpserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// TestBrowserAdminConsole drives the console in a real Chromium: the
// dashboard and its charts, a connection filter, a disconnect, and
// disabling an account whose owner is logged in elsewhere.
func TestBrowserAdminConsole(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 12)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	if _, _, err := ts.Accounts.EnsureAdmin(ctx, "boss@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, ctx, ts.URL)
	victim := b.Incognito()
	victim.Open("/signup", `form[action="/signup"]`)
	victim.Fill("email", "victim@example.com", "password", goodPassword, "password_confirm", goodPassword)
	victim.Submit("Create account", "/profile", "#connections-title")
	logIn(b, "boss@example.com", goodPassword, true)

	// The dashboard: totals and two SVG charts.
	b.Open("/admin/", "#totals-title")
	b.Contains("#stat-users", "14")
	b.Contains("#stat-connections", "12")
	if n := b.Eval(`document.querySelectorAll("#logins-chart rect").length`); n != 60 {
		t.Fatalf("log-in chart bars = %d, want 60 (30 days, two kinds)", n)
	}
	if n := b.Eval(`document.querySelectorAll("#providers-chart rect").length`); n != 4 {
		t.Fatalf("provider chart bars = %d, want 4", n)
	}
	b.Screenshot()

	// Filter the connections: beta needing re-authorisation (ids 6 and 12).
	b.Open("/admin/connections", "#connections-table")
	// Drop-downs take a value by script: chromedp's SetValue is for inputs.
	b.Eval(`(document.getElementById("provider").value = "beta", document.getElementById("status").value = "needs_reauth", 1)`)
	b.Submit("Apply", "/admin/connections", "#connections-table")
	if n := b.Eval(`document.querySelectorAll("#connections-table tbody tr").length`); n != 2 {
		t.Fatalf("filtered rows at %s = %d, want 2: %s", b.Location(), n, b.Text("#connections-table"))
	}
	b.Contains("#connections-table", "pid-12")
	b.Lacks("#connections-table", "pid-1<")

	// Disconnect the first one; the page comes back with the same filter.
	confirmInDialog(b, `(//table[@id="connections-table"]//button[normalize-space()="Disconnect"])[1]`, "/admin/connections", ".flash-success")
	b.Contains(".flash-success", "connection was removed")
	if n := b.Eval(`document.querySelectorAll("#connections-table tbody tr").length`); n != 1 {
		t.Fatalf("rows after disconnect = %d, want 1", n)
	}
	wantCount(t, ts, 11, `SELECT count(*) FROM connections`)
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'admin_connection_removed'`)

	// Disable the victim from their user page; their session ends.
	b.Open("/admin/users?q=victim", "#users-table")
	b.Click(`//table[@id="users-table"]//a[normalize-space()="victim@example.com"]`, "", "#actions-title")
	confirmInDialog(b, `//button[normalize-space()="Disable account"]`, "", ".flash-success")
	b.Contains(".flash-success", "disabled and logged out everywhere")
	b.Contains(".user-summary", "Disabled")
	victim.Open("/profile", `form[action="/login"]`)
	victim.At("/login")
	wantCount(t, ts, 1, `SELECT count(*) FROM users WHERE email = 'victim@example.com' AND disabled_at IS NOT NULL`)
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'admin_user_disabled'`)
}

// TestBrowserAdminOnAPhone opens every admin page at 390 px: none is wider
// than the screen, each has the tab strip, and the dashboard's numbers are
// grouped and its chart's axis labels stay at least 11 px tall.
func TestBrowserAdminOnAPhone(t *testing.T) {
	ts := newTestServer(t)
	ts.seedList(t, 1234)
	parkDelivery(t, ts)
	if _, err := ts.DB.Exec(t.Context(), `INSERT INTO events (kind, user_id, created_at)
		SELECT CASE WHEN i % 9 = 0 THEN 'login_failed' ELSE 'login_completed' END, 1 + i % 1234, now() - make_interval(hours => i % 700)
		FROM generate_series(1, 3000) i`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	if _, _, err := ts.Accounts.EnsureAdmin(ctx, "boss@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, ctx, ts.URL)
	logIn(b, "boss@example.com", goodPassword, true)
	b.Viewport(390, 844, true)

	b.Open("/admin/", "#logins-chart")
	b.Contains("#stat-users", "1,235")
	b.Contains("#stat-connections", "1,234")
	if n := b.Eval(`document.querySelectorAll("#logins-chart .chart-y span").length`); n < 3 {
		t.Fatalf("the log-in chart's y-axis has %d values", n)
	}
	sizes := b.Ints(`[...document.querySelectorAll("#logins-chart .chart-y span, #logins-chart .chart-x span:not(:empty), #providers-chart .bar-name")]
		.map(e => Math.round(e.offsetParent && e.getBoundingClientRect().width > 0 ? parseFloat(getComputedStyle(e).fontSize) : 0))`)
	if len(sizes) < 6 {
		t.Fatalf("chart labels: %v", sizes)
	}
	for _, px := range sizes {
		if px < 11 {
			t.Fatalf("a chart label is %d px on a phone (all: %v)", px, sizes)
		}
	}
	b.Screenshot()
	for _, path := range []string{"/admin/", "/admin/users", "/admin/users/1", "/admin/connections", "/admin/events",
		"/admin/deliveries", "/admin/mail"} {
		b.Open(path, ".admin-nav")
		if n := b.Eval(`document.querySelectorAll('.admin-nav [aria-current="page"]').length`); n != 1 {
			t.Errorf("%s: %d current tabs", path, n)
		}
		if scroll, client := b.Widths(); scroll > client {
			t.Errorf("%s is %d px wide at 390 px: %v", path, scroll, b.Overflowing())
		}
	}
}
