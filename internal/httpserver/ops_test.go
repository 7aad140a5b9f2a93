package httpserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

func TestSecurityHeaders(t *testing.T) {
	ts := newTestServer(t)
	r := ts.browser(t).get("/login")
	for k, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	} {
		if got := r.Header.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", k, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %s", csp)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Error("no request id header")
	}
	for _, c := range r.Header.Values("Set-Cookie") {
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
			t.Errorf("cookie without HttpOnly/SameSite=Lax: %s", c)
		}
	}
}

func TestErrorPages(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	r := b.get("/no/such/page")
	if r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Page not found") || !strings.Contains(r.Body, `name="csrf-token"`) {
		t.Fatalf("404: %d\n%.500s", r.Status, r.Body)
	}
	req, _ := http.NewRequest(http.MethodPut, ts.URL+"/login", nil)
	if r := b.do(req); r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusForbidden {
		t.Fatalf("PUT /login: %d", r.Status)
	}
	if r := b.get("/static/"); r.Status != http.StatusNotFound {
		t.Fatalf("static directory listing: %d", r.Status)
	}
	if r := b.get("/static/style.css"); r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}

func TestOperationsEndpoints(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("ops@example.com", goodPassword)
	if r := b.get("/healthz"); r.Status != http.StatusOK {
		t.Fatalf("healthz: %d", r.Status)
	}
	if r := b.get("/readyz"); r.Status != http.StatusOK {
		t.Fatalf("readyz: %d", r.Status)
	}
	m := b.get("/metrics").Body
	for _, want := range []string{
		`dancecard_http_request_duration_seconds_count{method="POST",route="/signup",status="303"} 1`,
		`dancecard_db_pool_max_connections`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, "ops@example.com") || strings.Contains(m, goodPassword) {
		t.Error("metrics leak user data")
	}
}

// TestDatabaseGone checks that losing PostgreSQL gives readiness failures
// and error pages, never a panic or a hung request.
func TestDatabaseGone(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("gone@example.com", goodPassword)
	ts.DB.Close()
	if r := b.get("/readyz"); r.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz without a database: %d", r.Status)
	}
	if r := b.get("/healthz"); r.Status != http.StatusOK {
		t.Fatalf("healthz must not depend on the database: %d", r.Status)
	}
	r := b.get("/profile")
	if r.Status != http.StatusInternalServerError || !strings.Contains(r.Body, "Something went wrong") {
		t.Fatalf("profile without a database: %d\n%.500s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "closed pool") {
		t.Fatal("internal error text shown to the user")
	}
}

// TestDatabaseComesBack checks that when PostgreSQL drops every connection
// (a restart, a failover) the server says so meanwhile (503, retry later)
// and recovers on its own, without a restart: the pool replaces the dead
// connections.
func TestDatabaseComesBack(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("back@example.com", goodPassword)
	if r := b.get("/profile"); r.Status != http.StatusOK {
		t.Fatalf("profile: %d", r.Status)
	}
	tok := b.newToken("cli", "read").Token
	killed := pgtest.TerminateBackends(t, ts.DB)
	// The JSON API and pages, in turn, until both work again (the first
	// call meets a dead connection). A failure is a problem document or
	// the error page, never a hang or a stack.
	deadline := time.Now().Add(10 * time.Second)
	for failures, page, api := 0, false, false; !page || !api; failures++ {
		if failures > 2*killed+2 || time.Now().After(deadline) {
			t.Fatalf("still failing after %d requests: the server does not recover", failures)
		}
		if failures%2 == 1 {
			r := b.get("/profile")
			page = r.Status == http.StatusOK && strings.Contains(r.Body, "back@example.com")
			if !page && (r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, "cannot reach its database") ||
				r.Header.Get("Retry-After") == "") {
				t.Fatalf("profile while the connections are gone: %d\n%.500s", r.Status, r.Body)
			}
			continue
		}
		r := b.api(apiCall{method: "GET", path: "/api/v1/me", bearer: tok})
		api = r.Status == http.StatusOK && strings.Contains(r.Body, "back@example.com")
		if !api {
			if r.Status != http.StatusServiceUnavailable || r.Header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(r.Body, `"code":"unavailable"`) || r.Header.Get("Retry-After") == "" {
				t.Fatalf("/api/v1/me while the connections are gone: %d %s\n%.500s", r.Status, r.Header.Get("Content-Type"), r.Body)
			}
			conforms(t, "Problem", r.Body)
		}
	}
	if r := b.get("/readyz"); r.Status != http.StatusOK {
		t.Fatalf("readyz after the database came back: %d", r.Status)
	}
}

func TestAdminDashboardAuthorisation(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.browser(t).get("/admin/"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("anonymous: %d %q, want a redirect to log in", r.Status, r.Location)
	}
	user := ts.browser(t)
	user.signUp("user@example.com", goodPassword)
	if r := user.get("/admin/"); r.Status != http.StatusForbidden {
		t.Fatalf("non-admin: %d, want 403", r.Status)
	}
	if _, _, err := ts.Accounts.EnsureAdmin(t.Context(), "boss@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	boss := ts.browser(t)
	boss.logIn("boss@example.com", goodPassword)
	r := boss.get("/admin/")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Administration") || !strings.Contains(r.Body, `id="stat-users">2<`) {
		t.Fatalf("admin: %d\n%.1500s", r.Status, r.Body)
	}
}
