package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/config"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// twoHubAccounts signs a user up and links two accounts at the fake hub:
// 42 (octo) first, then 43 (octo-work). It returns their connection ids.
func twoHubAccounts(t *testing.T, ts *testServer, hub *oauthtest.Server, b *browser) (first, second string) {
	t.Helper()
	b.signUp("two@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	hub.SetUser(oauthtest.User{ID: "43", Login: "octo-work", Name: "Work Octo", Email: "work@example.com"})
	b.dance(hub, "/auth/hub/connect", nil)
	return idOf(t, ts, `SELECT id FROM connections WHERE provider_user_id = '42'`),
		idOf(t, ts, `SELECT id FROM connections WHERE provider_user_id = '43'`)
}

// TestMakePrimaryChangesTheProxysAccount: the page says what "Primary"
// means, offers to make the other account primary, and doing so changes
// the account proxied calls use when they name none.
func TestMakePrimaryChangesTheProxysAccount(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	first, second := twoHubAccounts(t, ts, hub, b)
	if got := proxyUser(t, b, "hub"); got != "42" {
		t.Fatalf("before: the proxy uses %s, want the first account linked, 42", got)
	}
	page := b.get("/profile").Body
	for _, want := range []string{
		`Your <strong>primary</strong> Hub hub account is the one Dancecard uses when a program calls`,
		`action="/connections/` + second + `/primary"`,
		`aria-label="Make primary: Hub hub account @octo-work"`,
		`Connect another Hub hub account</button>`,
		`>Primary</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("connections page lacks %s", want)
		}
	}
	if strings.Contains(page, `action="/connections/`+first+`/primary"`) {
		t.Error("the primary account is offered to be made primary")
	}
	if strings.Index(page, `id="connection-`+first+`"`) > strings.Index(page, `id="connection-`+second+`"`) {
		t.Error("the primary account is not listed first")
	}

	r := b.post("/connections/"+second+"/primary", nil)
	if r.Status != http.StatusSeeOther || r.Location != "/profile#connection-"+second {
		t.Fatalf("make primary: %d %q", r.Status, r.Location)
	}
	if got := proxyUser(t, b, "hub"); got != "43" {
		t.Fatalf("after: the proxy uses %s, want 43", got)
	}
	page = b.get("/profile").Body
	if !strings.Contains(page, "That account is now your primary one") ||
		strings.Index(page, `id="connection-`+second+`"`) > strings.Index(page, `id="connection-`+first+`"`) ||
		!strings.Contains(page, `action="/connections/`+first+`/primary"`) || strings.Contains(page, `action="/connections/`+second+`/primary"`) {
		t.Error("the page does not show the new primary account first, with the other offered instead")
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'connection_updated' AND reason = 'made primary'
		AND connection_id = $1::bigint AND (data->>'previous_primary_connection_id')::bigint = $2::bigint`, second, first)
	// A call that names its account still gets that one.
	if r := b.api(apiCall{method: "GET", path: "/api/v1/providers/hub/api/whoami?connection=" + first}); !strings.Contains(r.Body, `"user":"42"`) {
		t.Errorf("?connection=%s: %.200s", first, r.Body)
	}
	// Making the primary primary changes nothing and records nothing.
	if r := b.post("/connections/"+second+"/primary", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("again: %d", r.Status)
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE reason = 'made primary'`)
	// And back.
	b.post("/connections/"+first+"/primary", nil)
	if got := proxyUser(t, b, "hub"); got != "42" {
		t.Fatalf("back: the proxy uses %s, want 42", got)
	}
	// Nobody else's accounts.
	stranger := ts.browser(t)
	stranger.signUp("stranger@example.com", goodPassword)
	if r := stranger.post("/connections/"+second+"/primary", nil); r.Status != http.StatusNotFound {
		t.Errorf("another user's connection: %d, want 404", r.Status)
	}
	if got := proxyUser(t, b, "hub"); got != "42" {
		t.Errorf("a stranger changed the primary account: %s", got)
	}
	if r := b.post("/connections/nope/primary", nil); r.Status != http.StatusNotFound {
		t.Errorf("a malformed id: %d, want 404", r.Status)
	}
}

// TestCheckConnection: "Check connection" asks the provider's userinfo
// through the proxy's path (refreshing a stale token first, marking a
// refused one) and shows the account it answered as, or the error, which
// the card keeps as its last error.
func TestCheckConnection(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("check@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	id := idOf(t, ts, `SELECT id FROM connections`)
	check := func() string {
		t.Helper()
		r := b.post("/connections/"+id+"/check", nil)
		if r.Status != http.StatusSeeOther || r.Location != "/profile#connection-"+id {
			t.Fatalf("check: %d %q\n%.300s", r.Status, r.Location, r.Body)
		}
		return b.get("/profile").Body
	}
	if page := b.get("/profile").Body; !strings.Contains(page, `aria-label="Check connection: Hub hub account @octo">Check connection</button>`) {
		t.Fatal("no Check connection button")
	}

	// It works: the account the provider answered as, and the name it
	// gives now (the fake answers with the name it had at consent).
	ts.DB.Exec(t.Context(), `UPDATE connections SET name = 'Stale Name'`)
	before := hub.Counts().Userinfo
	page := check()
	if hub.Counts().Userinfo != before+1 {
		t.Error("the check did not ask the provider's userinfo endpoint")
	}
	for _, want := range []string{"Your Hub hub account works: Hub hub answered as @octo (Octo Cat).",
		`<span class="status status-ok">Working</span>`, "Octo Cat"} {
		if !strings.Contains(page, want) {
			t.Errorf("after a good check the page lacks %s", want)
		}
	}
	if strings.Contains(page, "Last error") || strings.Contains(page, "Stale Name") {
		t.Error("a connection that never failed shows a last error, or the name the provider no longer gives")
	}
	if _, err := ts.Links.FlushUsage(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM connections WHERE checked_at IS NOT NULL AND last_used_at IS NULL AND name = 'Octo Cat'`)

	// The provider fails: the error, on the page and kept on the card.
	hub.UpdateKnobs(func(k *oauthtest.Knobs) { k.UserinfoStatus = http.StatusInternalServerError })
	page = check()
	for _, want := range []string{"Checking your Hub hub account @octo (Octo Cat) failed: Hub hub answered with an error (HTTP 500).",
		`<span class="status status-bad">Check failed</span>`, "<strong>Last error</strong>", "Hub hub answered with an error (HTTP 500)."} {
		if !strings.Contains(page, want) {
			t.Errorf("after a failed check the page lacks %s", want)
		}
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM connections WHERE last_error = 'provider_error: HTTP 500'
		AND last_error_at = checked_at AND status = 'active'`)

	// The provider is back: working again, the last error still shown.
	hub.UpdateKnobs(func(k *oauthtest.Knobs) { k.UserinfoStatus = 0 })
	page = check()
	if !strings.Contains(page, `<span class="status status-ok">Working</span>`) || !strings.Contains(page, "<strong>Last error</strong>") {
		t.Error("a good check after a failed one does not show both")
	}

	// A stale token is refreshed first, as a proxied call would.
	ts.DB.Exec(t.Context(), `UPDATE connections SET expires_at = now() - interval '1 minute'`)
	refreshes := hub.Counts().Refreshes
	if page := check(); !strings.Contains(page, "works") || hub.Counts().Refreshes != refreshes+1 {
		t.Errorf("a stale token was not refreshed before the check (%d refreshes)", hub.Counts().Refreshes-refreshes)
	}

	// The provider no longer takes the grant: the connection needs
	// reconnecting, as after a refused proxied call.
	hub.RevokeUser("42")
	ts.DB.Exec(t.Context(), `UPDATE connections SET updated_at = now() - interval '5 minutes'`)
	page = check()
	if !strings.Contains(page, "Hub hub no longer accepts the access of your account @octo (Octo Cat). Reconnect it to use it again.") ||
		!strings.Contains(page, ">Needs reconnecting</span>") || !strings.Contains(page, "Hub hub refused to renew the access token (invalid_grant).") {
		t.Errorf("a refused grant: the page does not say so\n%s", page)
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM connections WHERE status = 'needs_reauth' AND last_error = 'refresh_refused: invalid_grant'`)
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'connection_updated' AND data->>'new_status' = 'needs_reauth'`)

	// Nobody else's accounts.
	stranger := ts.browser(t)
	stranger.signUp("stranger@example.com", goodPassword)
	if r := stranger.post("/connections/"+id+"/check", nil); r.Status != http.StatusNotFound {
		t.Errorf("another user's connection: %d, want 404", r.Status)
	}
}

// TestProviderMarks: presets wear their mark in their colour on the log-in
// buttons, the connect buttons and the connection cards; a custom provider
// wears a neutral disc with its initial.
func TestProviderMarks(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub"),
		config.Provider{ID: "github", Preset: "github", ClientID: "id", ClientSecret: "secret"},
		config.Provider{ID: "work-gitlab", Preset: "gitlab", Name: "Work GitLab", ClientID: "id", ClientSecret: "secret"}))
	github := `<svg class="provider-mark provider-logo" data-mark="github" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><rect width="24" height="24" rx="6" fill="#24292f"></rect>`
	gitlab := `data-mark="gitlab" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><rect width="24" height="24" rx="6" fill="#c6421a"></rect>`
	initial := `provider-initial" aria-hidden="true">H</span>`
	login := ts.browser(t).get("/login").Body
	for _, want := range []string{github, gitlab, initial, "Work GitLab"} {
		if !strings.Contains(login, want) {
			t.Errorf("log-in page lacks %s", want)
		}
	}
	if strings.Count(login, "provider-initial") != 1 {
		t.Error("a preset on the log-in page wears an initial")
	}
	b := ts.browser(t)
	b.signUp("marks@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	page := b.get("/profile").Body
	card := page[strings.Index(page, `id="connection-`):]
	for _, want := range []string{github, gitlab, "Connect GitHub</span>", "Connect Work GitLab</span>"} {
		if !strings.Contains(page, want) {
			t.Errorf("connections page lacks %s", want)
		}
	}
	if !strings.Contains(card, initial) {
		t.Error("the hub account's card lacks the hub's initial")
	}
	reauth := b.get("/reauth").Body
	if !strings.Contains(reauth, initial) || !strings.Contains(reauth, "Confirm with Hub hub") {
		t.Error("/reauth's provider button lacks the hub's mark")
	}
}

// TestReconnectAsksForTheSameAccount: Reconnect renews the connection
// itself: the provider is asked to preselect its account (login_hint; the
// dev provider then preselects it), and the page lands on the card.
func TestReconnectAsksForTheSameAccount(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	_, second := twoHubAccounts(t, ts, hub, b)
	ts.DB.Exec(t.Context(), `UPDATE connections SET status = 'needs_reauth' WHERE id = $1::bigint`, second)
	page := b.get("/profile").Body
	if !strings.Contains(page, `action="/connections/`+second+`/reconnect"`) {
		t.Fatal("no reconnect form for the connection that needs it")
	}
	auth := b.startDance("/connections/"+second+"/reconnect", nil)
	u, _ := url.Parse(auth)
	if u.Query().Get("login_hint") != "octo-work" {
		t.Fatalf("reconnect asks for %q, want octo-work: %s", u.Query().Get("login_hint"), auth)
	}
	// The fake consents as whoever it is told; the account comes back.
	r := b.callback(hub.Authorize(t, auth))
	if r.Status != http.StatusSeeOther || r.Location != "/profile#connection-"+second {
		t.Fatalf("callback: %d %q", r.Status, r.Location)
	}
	wantCount(t, ts, 2, `SELECT count(*) FROM connections WHERE status = 'active'`)
	if !strings.Contains(b.get("/profile").Body, "Reconnected your Hub hub account octo-work.") {
		t.Error("no flash naming the reconnected account")
	}
	// Only one's own connections.
	stranger := ts.browser(t)
	stranger.signUp("stranger@example.com", goodPassword)
	if r := stranger.post("/connections/"+second+"/reconnect", nil); r.Status != http.StatusNotFound {
		t.Errorf("another user's connection: %d, want 404", r.Status)
	}
}

// TestCheckConnectionIsRateLimited: each check calls the provider, so one
// account gets 30 in 15 minutes; the next asks the provider nothing and
// says why.
func TestCheckConnectionIsRateLimited(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")), withRateLimits)
	b := ts.browser(t)
	b.signUp("busy@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	id := idOf(t, ts, `SELECT id FROM connections`)
	before := hub.Counts().Userinfo
	for i := range 30 {
		if r := b.post("/connections/"+id+"/check", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("check %d: %d", i+1, r.Status)
		}
	}
	if n := hub.Counts().Userinfo - before; n != 30 {
		t.Fatalf("30 checks asked the provider %d times", n)
	}
	r := b.post("/connections/"+id+"/check", nil)
	if r.Status != http.StatusSeeOther || r.Location != "/profile#connection-"+id {
		t.Fatalf("31st check: %d %q", r.Status, r.Location)
	}
	if n := hub.Counts().Userinfo - before; n != 30 {
		t.Errorf("the refused check asked the provider (%d calls)", n)
	}
	if page := b.get("/profile").Body; !strings.Contains(page, "You checked your connections many times") {
		t.Error("the profile does not say why the check was refused")
	}
	// Another account is not affected.
	other := ts.browser(t)
	other.signUp("calm@example.com", goodPassword)
	hub.Provider.SetUser(oauthtest.User{ID: "7", Login: "calm", Email: "calm@example.com", EmailVerified: true})
	other.dance(hub, "/auth/hub/connect", nil)
	otherID := idOf(t, ts, `SELECT id FROM connections WHERE provider_user_id = '7'`)
	before = hub.Counts().Userinfo
	other.post("/connections/"+otherID+"/check", nil)
	if hub.Counts().Userinfo != before+1 {
		t.Error("another account's check was refused too")
	}
}
