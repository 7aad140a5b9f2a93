package httpserver_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// TestCSVExportNeutralisesFormulas: every cell a provider or a user can
// choose is exported so that a spreadsheet shows it as text, scopes too.
func TestCSVExportNeutralisesFormulas(t *testing.T) {
	ts := newTestServer(t)
	boss := ts.adminBrowser(t, "boss@example.com")
	var uid int64
	ts.DB.QueryRow(t.Context(), `INSERT INTO users (email) VALUES ('+cmd@example.com') RETURNING id`).Scan(&uid)
	if _, err := ts.DB.Exec(t.Context(), `
		INSERT INTO connections (user_id, provider, provider_user_id, username, name, email, scopes, access_token, status)
		VALUES ($1, 'hub', '=1+1', '@SUM(A1)', '-2+3', '=cmd|x', ARRAY['=IMAGE("http://x")', 'read'], '\x00', 'active')`, uid); err != nil {
		t.Fatal(err)
	}
	r := boss.get("/admin/connections.csv")
	recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v, %d records\n%s", err, len(recs), r.Body)
	}
	for i, cell := range recs[1] {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("column %s starts a formula: %q", recs[0][i], cell)
		}
	}
}

// TestCallbackIsNotCached: the callback's answer (a redirect after a
// one-time code) carries Cache-Control: no-store, failed or not.
func TestCallbackIsNotCached(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	for _, r := range []response{b.dance(hub, "/auth/hub/login", nil), b.get("/auth/hub/callback?state=forged&code=x")} {
		if r.Status != http.StatusSeeOther || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("callback: %d Cache-Control %q", r.Status, r.Header.Get("Cache-Control"))
		}
	}
}

// TestFailedCallbacksAreLimited: forged states are recorded, but a network
// that keeps sending them is stopped before it fills the event log.
func TestFailedCallbacksAreLimited(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")), withRateLimits)
	b := ts.browser(t)
	for range 40 {
		b.get("/auth/hub/callback?state=forged&code=x")
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'login_failed'`); n != 30 {
		t.Fatalf("failed callbacks recorded = %d, want 30 (the limit)", n)
	}
}

// TestMetricsCountDancesAndLogIns: /metrics lets an operator graph dances
// and log-ins per provider and outcome without reading logs.
func TestMetricsCountDancesAndLogIns(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("m@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	b.post("/logout", nil)
	b.logIn("m@example.com", "wrong password")
	b.logIn("m@example.com", goodPassword)
	b.post("/logout", nil)
	b.dance(hub, "/auth/hub/login", nil)
	b.get("/auth/hub/callback?state=forged")
	b.get("/auth/nosuch/callback?state=forged")
	m := b.get("/metrics").Body
	for _, want := range []string{
		`dancecard_dances_total{intent="connect",outcome="ok",provider="hub"} 1`,
		`dancecard_dances_total{intent="login",outcome="ok",provider="hub"} 1`,
		`dancecard_dances_total{intent="connect",outcome="invalid_state",provider="hub"} 1`,
		`dancecard_logins_total{method="provider",outcome="ok",provider="hub"} 1`,
		`dancecard_logins_total{method="password",outcome="invalid_credentials",provider=""} 1`,
		`dancecard_logins_total{method="password",outcome="ok",provider=""} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, `provider="nosuch"`) {
		t.Error("an unknown provider id from the URL became a metric label")
	}
}

// TestMetricsCountProxyCalls: proxied calls by provider, who answered and
// status class.
func TestMetricsCountProxyCalls(t *testing.T) {
	e := newProxyEnv(t, oauthtest.Knobs{})
	const api = "/api/v1/providers/hub/api/"
	e.call(t, "GET", api+"status/200", nil, nil)
	e.call(t, "GET", api+"status/404", nil, nil)
	e.call(t, "GET", api+"status/503", nil, nil)
	e.call(t, "GET", api+"a/../b", nil, nil) // refused by Dancecard
	m := e.b.get("/metrics").Body
	for _, want := range []string{
		`dancecard_proxy_calls_total{provider="hub",source="provider",status="2xx"} 1`,
		`dancecard_proxy_calls_total{provider="hub",source="provider",status="4xx"} 1`,
		`dancecard_proxy_calls_total{provider="hub",source="provider",status="5xx"} 1`,
		`dancecard_proxy_calls_total{provider="hub",source="dancecard",status="4xx"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestMeCarriesSecondFactors: /api/v1/me says which second factors the
// caller has, as the contract names them.
func TestMeCarriesSecondFactors(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("mfa@example.com", goodPassword)
	r := b.api(apiCall{method: "GET", path: "/api/v1/me"})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"mfa":{"totp":false,"passkeys":0,"recovery_codes_left":0}`) {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
}
