package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/browsertest"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// TestBrowserDanceJourney boots the real program in dev mode and, in a real
// Chromium, signs up with a password, connects devhub (OAuth 2) and devbird
// (OAuth 1.0a) through the dev provider's consent page, logs out and back in
// with devhub, disconnects devbird, and in a second browser context makes a
// provider-only user whose last connection cannot be disconnected. Each step
// checks what the page shows and, where it matters, what the database holds.
func TestBrowserDanceJourney(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL})
	db, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	count := func(want int, sql string, args ...any) {
		t.Helper()
		var n int
		if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if n != want {
			t.Fatalf("%s = %d, want %d", sql, n, want)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel) // registered before the browser, so it runs after it has closed
	b := browsertest.New(t, ctx, s.base)

	const email = "dancer@example.com"
	const password = "a long enough passphrase for the dancer"

	// 1. Sign up with email and password.
	b.Open("/signup", `form[action="/signup"]`)
	b.Fill("email", email, "password", password, "password_confirm", password)
	b.Click(`//button[normalize-space()="Create account"]`, "/profile", "#connections-title")
	b.Contains(".nav-user", email)
	b.Contains(".flash-success", "Your account is ready.")
	count(1, `SELECT count(*) FROM users WHERE email = $1 AND password_hash IS NOT NULL`, email)

	// 2. Connect devhub (OAuth 2) as ada.
	b.Click(`//button[.//span[normalize-space()="Connect DevHub"]]`, "", `button[value="approve"]`)
	consent(t, b, "1001", nil)
	b.Contains(".flash-success", "Connected your DevHub account")
	b.Contains("#connections", "DevHub")
	b.Contains("#connections", "@ada")
	count(1, `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id
		WHERE u.email = $1 AND c.provider = 'devhub' AND c.provider_user_id = '1001'`, email)

	// 3. Connect devbird (OAuth 1.0a) as grace.
	b.Click(`//button[.//span[normalize-space()="Connect DevBird"]]`, "", `button[value="approve"]`)
	consent(t, b, "1002", nil)
	b.Contains(".flash-success", "Connected your DevBird account")
	b.Contains("#connections", "DevBird")
	b.Contains("#connections", "@grace")
	if n := b.Eval(`document.querySelectorAll(".connection-list > .connection").length`); n != 2 {
		t.Fatalf("connections listed = %d, want 2", n)
	}
	count(1, `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id
		WHERE u.email = $1 AND c.provider = 'devbird' AND c.provider_user_id = '1002' AND c.token_secret IS NOT NULL`, email)

	// 4. Log out, then log in with devhub: the same account comes back.
	b.Click(`//button[normalize-space()="Log out"]`, "/", "#hero-title")
	b.Contains(".flash-info", "You have been logged out.")
	count(0, `SELECT count(*) FROM sessions`)
	b.Open("/login", `form[action="/login"]`)
	b.Click(`//button[.//span[normalize-space()="Log in with DevHub"]]`, "", `button[value="approve"]`)
	consent(t, b, "1001", nil)
	b.Contains(".flash-success", "You are logged in with DevHub.")
	b.Contains(".nav-user", email)
	count(1, `SELECT count(*) FROM users`+notDemo)

	// 5. Disconnect devbird: the dialog names the account and says that
	// OAuth 1.0a offers no revocation; confirming disconnects it.
	b.Do("ask to disconnect devbird", chromedp.Click(chromedp.CSS(`button[aria-label="Disconnect DevBird account @grace"]`)),
		chromedp.WaitVisible(chromedp.CSS("dialog.confirm-dialog[open]")))
	b.Contains("dialog.confirm-dialog[open]", "Disconnect your DevBird account @grace?")
	b.Contains("dialog.confirm-dialog[open]", "DevBird gives Dancecard no way to revoke its access")
	b.Click(`//dialog[@open]//button[@value="confirm"]`, "/profile", ".flash-success")
	b.Contains(".flash-success", "The account was disconnected.")
	b.Lacks("#connections", "DevBird")
	b.Contains("#connections", "@ada")
	count(0, `SELECT count(*) FROM connections WHERE provider = 'devbird'`)

	// 6. A fresh browser context logs in with devhub as someone new: a
	// provider-only user is made, and its only connection cannot go.
	b2 := b.Incognito()
	b2.Open("/login", `form[action="/login"]`)
	b2.Click(`//button[.//span[normalize-space()="Log in with DevHub"]]`, "", `button[value="approve"]`)
	consent(t, b2, "custom", []string{"custom_id", "u-solo", "custom_login", "solo", "custom_name", "Solo Dancer", "custom_email", "solo@dev.test"})
	b2.Contains(".flash-success", "Your account was created with DevHub.")
	b2.Contains(".nav-user", "solo@dev.test")
	b2.Contains("#connections", "@solo")
	count(1, `SELECT count(*) FROM users WHERE email = 'solo@dev.test' AND password_hash IS NULL`)
	count(2, `SELECT count(*) FROM users`+notDemo)
	b2.Click(`button[aria-label="Disconnect DevHub account @solo"]`, "/profile", ".flash-error")
	b2.Contains(".flash-error", "last way to log in")
	b2.Contains("#connections", "@solo")
	count(1, `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id
		WHERE u.email = 'solo@dev.test' AND c.provider = 'devhub' AND c.provider_user_id = 'u-solo'`)

	// The first browser is still logged in as the dancer, with devhub only.
	b.Open("/profile", "#connections-title")
	b.Contains(".nav-user", email)
	if n := b.Eval(`document.querySelectorAll(".connection-list > .connection").length`); n != 1 {
		t.Fatalf("connections listed for the dancer = %d, want 1", n)
	}
}

// notDemo leaves out the demo administrator dev mode creates.
const notDemo = ` WHERE email IS DISTINCT FROM '` + demoAdminEmail + `'`

// consent answers the dev provider's consent page as identity (a preset id,
// or "custom" with custom field id, value pairs) and approves; the dance
// must end on /profile.
func consent(t *testing.T, c *browsertest.Browser, identity string, custom []string) {
	t.Helper()
	loc := c.Location()
	if !strings.Contains(loc.Path, "/dev/provider/") {
		t.Fatalf("not on the dev provider's consent page: %s", loc)
	}
	c.Contains("h1", "Authorize Dancecard to use your")
	c.Do("choose identity "+identity, chromedp.Click(chromedp.CSS(`input[name="identity"][value="`+identity+`"]`)))
	c.Fill(custom...)
	if c.Eval(`document.querySelector('input[name="email_verified"]').checked ? 1 : 0`) != 1 {
		t.Fatal("email_verified is not checked by default")
	}
	if c.Eval(`document.querySelector('input[name="failure"][value="none"]').checked ? 1 : 0`) != 1 {
		t.Fatal(`failure "none" is not chosen by default`)
	}
	c.Click(`button[value="approve"]`, "/profile", "#connections-title")
}
