package httpserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// TestBrowserProfileSections: the section navigation moves between the
// profile's pages, and the addresses of the one-page profile still land on
// the section that holds what they named (profile.js); without JavaScript
// they land on the connections page, with the navigation in view.
func TestBrowserProfileSections(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	ts.browser(t).signUp("nav@example.com", goodPassword)
	b := browsertest.New(t, ctx, ts.URL)
	logIn(b, "nav@example.com", goodPassword, true)
	// A passkey, so the security page has its section (this server's
	// address is an IP, where passkeys are off).
	ts.DB.Exec(t.Context(), `INSERT INTO passkeys (user_id, credential_id, public_key, name) SELECT id, '\x01', '\x02', 'Key' FROM users`)

	b.Follow("API tokens", "/profile/tokens", "#create-token-title")
	b.Contains(`.profile-nav [aria-current="page"]`, "API tokens")
	b.Follow("Account", "/profile/account", "#account-title")
	b.Follow("Connections", "/profile", "#connections-title")

	for _, tc := range []struct{ from, path, hash, ready string }{
		{"/profile#tokens", "/profile/tokens", "", "#create-token-title"},
		{"/profile#new-token", "/profile/tokens", "", "#create-token-title"},
		{"/profile#passkeys", "/profile/security", "#passkeys", "#passkeys-title"},
		{"/profile#sessions", "/profile/security", "#sessions", "#sessions-title"},
		{"/profile#account", "/profile/account", "", "#account-title"},
		{"/profile#your-data", "/profile/account", "#your-data", "#data-title"},
		{"/profile#connections", "/profile", "#connections", "#connections-title"},
	} {
		b.Open("/", "main") // a fragment alone would not load the page again
		b.Open(tc.from, tc.ready)
		if loc := b.Location(); loc.Path != tc.path || "#"+loc.Fragment != tc.hash && !(tc.hash == "" && loc.Fragment == "") {
			t.Errorf("%s landed on %s, want %s%s", tc.from, loc, tc.path, tc.hash)
		}
	}

	b.Do("turn JavaScript off", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	b.Open("/", "main")
	b.Open("/profile#tokens", "#connections-title")
	b.At("/profile")
	b.Follow("API tokens", "/profile/tokens", "#create-token-title")
}
