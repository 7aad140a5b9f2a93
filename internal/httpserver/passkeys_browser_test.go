package httpserver_test

import (
	"context"
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
// and verifies its user at once.
func addVirtualAuthenticator(b *browsertest.Browser) {
	b.Do("add a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
			Options: &cdpwebauthn.VirtualAuthenticatorOptions{
				Protocol:                    cdpwebauthn.AuthenticatorProtocolCtap2,
				Transport:                   cdpwebauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			}})
		return err
	}))
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
	addVirtualAuthenticator(b)

	const email = "pat@example.com"
	b.Open("/signup", `form[action="/signup"]`)
	b.Fill("email", email, "password", goodPassword, "password_confirm", goodPassword)
	b.Submit("Create account", "/profile", "#account-title")
	b.Contains("#passkeys", "needs JavaScript")

	// Add a passkey with a name.
	b.Fill("passkey-name", "Virtual key")
	b.Submit("Add a passkey", "/profile", ".passkey-name")
	b.Contains(".passkey-name", "Virtual key")
	b.Contains(".flash-success", "Virtual key")
	wantCount(t, ts, 1, `SELECT count(*) FROM passkeys p JOIN users u ON u.id = p.user_id WHERE u.email = $1`, email)
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'passkey_added'`)
	wantCount(t, ts, 0, `SELECT count(*) FROM webauthn_ceremonies`)

	// A passkey counts as a second factor: the password alone leads to the
	// second step, where the passkey finishes the log-in.
	b.Submit("Log out", "/", "#hero-title")
	b.Open("/login", `form[action="/login"]`)
	b.Fill("email", email, "password", goodPassword)
	b.Submit("Log in", "/login/mfa", `form[action="/login/mfa"]`)
	b.Submit("Log in with a passkey", "/profile", "#account-title")
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND data->>'method' = 'passkey'`)

	// Log out, then log in with the passkey alone.
	b.Submit("Log out", "/", "#hero-title")
	b.Open("/login", `form[action="/login"]`)
	b.Submit("Log in with a passkey", "/profile", "#account-title")
	b.Contains(".flash-success", "You are logged in.")
	b.Contains("#account-title + .details dd", email)
	wantCount(t, ts, 2, `SELECT count(*) FROM events WHERE kind = 'login_completed' AND data->>'method' = 'passkey'`)
	wantCount(t, ts, 1, `SELECT count(*) FROM passkeys WHERE last_used_at IS NOT NULL`)

	// Remove it.
	b.Submit("Remove", "/profile", "#passkeys-empty")
	b.Contains(".flash-success", "Passkey removed.")
	wantCount(t, ts, 0, `SELECT count(*) FROM passkeys`)
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'passkey_removed'`)
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
	if r.Status != 200 || !strings.Contains(r.Body, `"challenge"`) || b.cookie("dc_passkey") == nil {
		t.Fatalf("login options: %d %s", r.Status, r.Body)
	}
	// A made-up answer: the ceremony is used up, and refused.
	body := `{"credential":{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA","userHandle":"AAAAAAAAAAE"}}}`
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
}
