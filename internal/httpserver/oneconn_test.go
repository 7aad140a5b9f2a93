package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// holdAllButOne takes every connection of the pool but one until the test
// ends, so each request runs with a single connection free.
func holdAllButOne(t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	for range db.Stat().MaxConns() - 1 {
		c, err := db.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Release)
	}
}

// TestEveryRequestNeedsOneConnection runs the main flows with all but one
// of the pool's connections taken. A handler that asks the pool for a
// second connection while it holds a first (a query on the pool inside a
// transaction) waits here for ever, and under load it deadlocks the whole
// server once every connection is held that way: provider log-ins did,
// from 16 concurrent dances on (bench/dances), by checking for a second
// factor outside their transaction.
func TestEveryRequestNeedsOneConnection(t *testing.T) {
	hub, bird, sso := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{ExpiresIn: time.Hour})), oauthtest.NewServer(t), oauthtest.NewServer(t)
	oidc := fakeOIDC(sso, "sso")
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub"), fakeOAuth1(bird, "bird"), oidc))
	admin := ts.adminBrowser(t, "root@example.com")
	holdAllButOne(t, ts.DB)

	// A request that waits for a second connection fails here, named,
	// instead of hanging the test.
	const wait = 20 * time.Second
	newBrowser := func() *browser {
		b := ts.browser(t)
		b.client.Timeout = wait
		return b
	}
	admin.client.Timeout = wait
	b := newBrowser()
	b.signUp("one@example.com", goodPassword)
	b.connect(hub, "hub")
	b.connect(bird, "bird")
	b.connect(sso, "sso")
	for _, path := range []string{"/profile", "/profile/security", "/profile/tokens", "/profile/account", "/api/v1/me", "/api/v1/connections"} {
		if r := b.get(path); r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.Status)
		}
	}
	tok := b.newToken("one", "proxy")
	bearer := &http.Client{Timeout: wait}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/providers/hub/api/user", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	res, err := bearer.Do(req)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("proxy: %d", res.StatusCode)
	}

	// Log-ins: password, a linked provider account, a new one.
	if r := newBrowser().logIn("one@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("password log-in: %d", r.Status)
	}
	if r := newBrowser().dance(hub, "/auth/hub/login", nil); r.Status != http.StatusSeeOther || r.Location != "/profile" {
		t.Fatalf("linked log-in: %d %q", r.Status, r.Location)
	}
	newcomer := newBrowser()
	hub.Provider.SetUser(oauthtest.User{ID: "new-1", Login: "newcomer", Email: "newcomer@example.com", EmailVerified: true})
	if r := newcomer.dance(hub, "/auth/hub/login", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("new user's log-in: %d %q", r.Status, r.Location)
	}

	for _, path := range []string{"/admin/", "/admin/users", "/admin/connections", "/admin/events"} {
		if r := admin.get(path); r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.Status)
		}
	}
	sso1 := idOf(t, ts, `SELECT id FROM connections WHERE provider = 'sso'`)
	if r := b.postConfirmed("/connections/"+sso1+"/delete", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("disconnect: %d\n%.400s", r.Status, r.Body)
	}

	// The second step, after a password and after a provider.
	secret, recovery := enrolTOTP(t, b)
	answers := []string{nextCode(secret, 1), recovery[0]}
	for i, start := range []func(*browser) response{
		func(x *browser) response { return x.logIn("one@example.com", goodPassword) },
		func(x *browser) response { return x.dance(bird, "/auth/bird/login", nil) },
	} {
		x := newBrowser()
		if r := start(x); !strings.HasPrefix(r.Location, "/login/mfa") {
			t.Fatalf("log-in %d: %d %q, want the second step", i, r.Status, r.Location)
		}
		if r := x.post("/login/mfa", url.Values{"code": {answers[i]}}); r.Location != "/profile" {
			t.Fatalf("second step %d: %d %q", i, r.Status, r.Location)
		}
	}
	if r := b.post("/logout", url.Values{}); r.Status != http.StatusSeeOther {
		t.Fatalf("log out: %d", r.Status)
	}
}
