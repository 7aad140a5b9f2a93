package httpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// addVirtualAuthenticator gives the browser's tab Chromium's virtual
// authenticator: a platform authenticator that keeps discoverable passkeys
// and verifies its user at once. It returns the authenticator's id, for the
// WebAuthn domain's commands on its credentials, and a switch for the
// user's presence: off, every request waits as if nobody touched the key.
func addVirtualAuthenticator(b *browsertest.Browser) (cdpwebauthn.AuthenticatorID, func(on bool)) {
	var id cdpwebauthn.AuthenticatorID
	b.Do("add a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
			Options: &cdpwebauthn.VirtualAuthenticatorOptions{
				Protocol:                    cdpwebauthn.AuthenticatorProtocolCtap2,
				Transport:                   cdpwebauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			}})
		if err == nil {
			id = res.AuthenticatorID
		}
		return err
	}))
	return id, func(on bool) {
		b.Do("set the user's presence", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, cdpwebauthn.SetAutomaticPresenceSimulation,
				cdpwebauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on})
			return err
		}))
	}
}

// TestBrowserPasskeyJourney adds a passkey on the profile, logs out, logs in
// with it without typing an email, and removes it, in a real Chromium with
// a virtual authenticator.
func TestBrowserPasskeyJourney(t *testing.T) {
	ts := newTestServer(t, withLocalhost)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	u, _ := url.Parse(ts.URL)
	b := browsertest.New(t, ctx, "http://localhost:"+u.Port())
	_, presence := addVirtualAuthenticator(b)

	const email = "pat@example.com"
	b.Open("/signup", `form[action="/signup"]`)
	b.Fill("email", email, "password", goodPassword, "password_confirm", goodPassword)
	b.Submit("Create account", "/profile", "#connections-title")
	b.Follow("Security", "/profile/security", "#passkeys-title")
	b.Contains("#passkeys", "needs JavaScript")

	// Add a passkey with a name.
	b.Fill("passkey-name", "Virtual key")
	b.Submit("Add a passkey", "/profile/security", ".passkey-name")
	b.Contains(".passkey-name", "Virtual key")
	b.Contains(".flash-success", "Virtual key")
	wantCount(t, ts, 1, `SELECT count(*) FROM passkeys p JOIN users u ON u.id = p.user_id WHERE u.email = $1`, email)
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'passkey_added'`)
	wantCount(t, ts, 0, `SELECT count(*) FROM webauthn_ceremonies`)

	// A passkey counts as a second factor: the password alone leads to the
	// second step, where the passkey finishes the log-in. (Nobody touches
	// the key on /login, or its autofill would log in first.)
	b.Submit("Log out", "/", "#hero-title")
	presence(false)
	b.Open("/login", `form[action="/login"]`)
	b.Fill("email", email, "password", goodPassword)
	b.Submit("Log in", "/login/mfa", `form[action="/login/mfa"]`)
	presence(true)
	b.Submit("Log in with a passkey", "/profile", "#connections-title")
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND data->>'method' = 'passkey'`)

	// The log-in page offers the passkey in the email field's autofill
	// (conditional mediation): the field says so, the page asks for a
	// passkey without a click, and Chromium's virtual authenticator answers
	// such a request at once, as a person picking the passkey would. No
	// email typed.
	b.Submit("Log out", "/", "#hero-title")
	if r := ts.browser(t).get("/login"); !strings.Contains(r.Body, `autocomplete="email webauthn"`) {
		t.Fatal("the log-in page's email field does not offer passkeys")
	}
	b.Open("/login", "#connections-title") // the page logs in by itself, and goes on to the profile
	b.At("/profile")
	b.Contains(".flash-success", "You are logged in.")
	b.Contains(".nav-user", email)
	wantCount(t, ts, 2, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND data->>'method' = 'passkey'`)
	wantCount(t, ts, 1, `SELECT count(*) FROM passkeys WHERE last_used_at IS NOT NULL`)

	// The button takes over from a waiting autofill request: it cancels it
	// and asks again, and the browser shows no error for it.
	b.Submit("Log out", "/", "#hero-title")
	presence(false)
	const waiting = `SELECT count(*) FROM webauthn_ceremonies WHERE kind = 'login'`
	before := ts.count(t, waiting) // the unanswered one of the password log-in above
	b.Open("/login", `form[action="/login/passkey"]`)
	waitCount(t, ts, before+1, waiting)
	b.Do("press the passkey button", chromedp.Click(chromedp.CSS(`form[action="/login/passkey"] button`)))
	waitCount(t, ts, before+2, waiting)
	time.Sleep(300 * time.Millisecond)
	if n := b.Eval(`document.querySelector("[data-passkey-error]").hidden ? 0 : 1`); n != 0 {
		t.Fatalf("the button's request failed: %q", b.Text("[data-passkey-error]"))
	}
	presence(true)
	b.Open("/login", "#connections-title")
	wantCount(t, ts, 3, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND data->>'method' = 'passkey'`)

	// Rename it, without JavaScript's help.
	b.Follow("Security", "/profile/security", "#passkeys-title")
	b.Do("open the rename form", chromedp.Click(chromedp.CSS(`summary[aria-label="Rename passkey: Virtual key"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[id^="passkey-name-"]`)),
		chromedp.SetValue(chromedp.CSS(`input[id^="passkey-name-"]`), "Work laptop"))
	b.Submit("Save", "/profile/security", ".passkey-name")
	b.Contains(".passkey-name", "Work laptop")
	b.Contains(".flash-success", "Passkey renamed.")

	// Re-authenticate with it: the same session, now fresh, and
	// reauthenticated recorded, not another log-in.
	ts.ageSessions(t)
	b.Open("/reauth?next=/profile/security", `form[action="/reauth/passkey"]`)
	b.Submit("Confirm with a passkey", "/profile/security", "#passkeys-title")
	b.Contains(".flash-success", "Thanks.")
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'reauthenticated' AND data->>'method' = 'passkey'`)
	wantCount(t, ts, 3, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND data->>'method' = 'passkey'`)
	wantCount(t, ts, 1, `SELECT count(*) FROM sessions WHERE authenticated_at > now() - interval '1 minute'`)

	// Remove it.
	confirmInDialog(b, `//button[normalize-space()="Remove"]`, "/profile/security", "#passkeys-empty")
	b.Contains(".flash-success", "Passkey removed.")
	wantCount(t, ts, 0, `SELECT count(*) FROM passkeys`)
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'passkey_removed'`)
}

// waitCount waits up to 10 s for sql to count want rows.
func waitCount(t *testing.T, ts *testServer, want int, sql string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ts.count(t, sql) != want; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d rows, want %d", sql, ts.count(t, sql), want)
		}
	}
}

// TestPasskeyEndpoints checks the passkey endpoints without a browser: a
// form posted without JavaScript is sent back with a message, a ceremony
// answered without its cookie is refused as JSON, and adding a passkey
// needs a recent proof of identity like other sensitive actions.
func TestPasskeyEndpoints(t *testing.T) {
	ts := newTestServer(t, withLocalhost)
	b := ts.browser(t)

	r := b.post("/login/passkey", url.Values{})
	if r.Status != 303 || r.Location != "/login" {
		t.Fatalf("form post without JavaScript: %d %q", r.Status, r.Location)
	}

	tok := b.csrf()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/login/passkey/options", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok)
	r = b.do(req)
	var opts struct {
		Ceremony string `json:"ceremony"`
	}
	if r.Status != 200 || !strings.Contains(r.Body, `"challenge"`) || json.Unmarshal([]byte(r.Body), &opts) != nil || opts.Ceremony == "" {
		t.Fatalf("login options: %d %s", r.Status, r.Body)
	}
	// The ceremony is bound to this browser: another one cannot answer it,
	// and trying does not use it up.
	other := ts.browser(t)
	otherTok := other.csrf()
	req, _ = http.NewRequest(http.MethodPost, ts.URL+"/login/passkey", strings.NewReader(`{"ceremony":"`+opts.Ceremony+`","credential":{"id":"AAAA"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", otherTok)
	if r = other.do(req); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "expired or was already used") {
		t.Fatalf("answer from another browser: %d %s", r.Status, r.Body)
	}
	wantCount(t, ts, 1, `SELECT count(*) FROM webauthn_ceremonies`)
	// A made-up answer: the ceremony is used up, and refused.
	body := `{"ceremony":"` + opts.Ceremony + `","credential":{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA","userHandle":"AAAAAAAAAAE"}}}`
	req, _ = http.NewRequest(http.MethodPost, ts.URL+"/login/passkey", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok)
	r = b.do(req)
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `"error"`) || b.cookie("dc_session") != nil {
		t.Fatalf("made-up answer: %d %s", r.Status, r.Body)
	}
	wantCount(t, ts, 0, `SELECT count(*) FROM webauthn_ceremonies`)

	// Without a CSRF token, nothing starts.
	req, _ = http.NewRequest(http.MethodPost, ts.URL+"/login/passkey/options", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if r = b.do(req); r.Status != http.StatusForbidden {
		t.Fatalf("options without CSRF token: %d", r.Status)
	}

	// Signed in: renaming a passkey that is not yours is not found, a name
	// too long is refused before anything is looked up, and a passkey
	// re-authentication without passkeys is refused as JSON.
	b.signUp("ren@example.com", goodPassword)
	if r = b.post("/profile/passkeys/999/rename", url.Values{"name": {"Mine now"}}); r.Status != http.StatusNotFound {
		t.Fatalf("rename another's passkey: %d", r.Status)
	}
	if r = b.post("/profile/passkeys/999/rename", url.Values{"name": {strings.Repeat("n", 65)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("rename with a long name: %d", r.Status)
	}
	if r = b.get("/profile"); !strings.Contains(r.Body, "at most 64 characters") {
		t.Fatalf("rename with a long name: no message")
	}
	req, _ = http.NewRequest(http.MethodPost, ts.URL+"/reauth/passkey/options", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf())
	if r = b.do(req); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "not accepted") {
		t.Fatalf("passkey re-authentication without passkeys: %d %s", r.Status, r.Body)
	}
}
