package httpserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// TestBrowserAccountJourney walks one person through the account pages in a
// real Chromium: a refused sign-up, sign-up, log out, a wrong and a right
// log-in, a password change, a second browser, and "Log out everywhere". Each
// step checks what the page shows and what the database holds.
func TestBrowserAccountJourney(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel) // registered first, so it runs after the browsers have closed
	b := browsertest.New(t, ctx, ts.URL)

	const email = "ada@example.com"
	const newPassword = "a brand new passphrase for ada"

	// A confirmation that does not match is refused on its field, and no
	// account is made.
	b.Open("/signup", `form[action="/signup"]`)
	b.Fill("email", email, "password", goodPassword, "password_confirm", goodPassword+"!")
	b.Submit("Create account", "/signup", "#password_confirm-error")
	b.Contains("#password_confirm-error", "The two passwords do not match.")
	wantCount(t, ts, 0, `SELECT count(*) FROM users`)

	// Sign up.
	b.Open("/signup", `form[action="/signup"]`)
	b.Fill("email", email, "password", goodPassword, "password_confirm", goodPassword)
	b.Submit("Create account", "/profile", "#connections-title")
	b.Contains(".nav-user", email)
	b.Contains(".flash-success", "Your account is ready.")
	wantCount(t, ts, 1, `SELECT count(*) FROM users WHERE email = $1`, email)

	// Log out from the header.
	b.Submit("Log out", "/", "#hero-title")
	b.Contains(".flash-info", "You have been logged out.")
	b.Contains(".site-nav", "Log in")
	b.Lacks(".site-nav", email)

	// A wrong password gets the generic message; the right one logs in.
	logIn(b, email, "not the password", false)
	logIn(b, email, goodPassword, true)
	b.Contains(".flash-success", "You are logged in.")

	// Change the password; only the new one logs in afterwards.
	b.Follow("Security", "/profile/security", "#password-title")
	b.Fill("current_password", goodPassword, "new_password", newPassword, "new_password_confirm", newPassword)
	b.Submit("Change password", "/profile/security", ".flash-success")
	b.Contains(".flash-success", "Your password has been changed.")
	b.Submit("Log out", "/", "#hero-title")
	logIn(b, email, goodPassword, false)
	logIn(b, email, newPassword, true)

	// A second browser with its own cookies logs in too, and the first one
	// sees both sessions.
	b2 := b.Incognito()
	logIn(b2, email, newPassword, true)
	b.Open("/profile/security", "#sessions-title")
	if n := b.Eval(`document.querySelectorAll("#sessions-title ~ .table-wrap tbody tr").length`); n != 2 {
		t.Fatalf("sessions listed on /profile/security = %d, want 2", n)
	}
	if n := b.Eval(`document.querySelectorAll("tbody .badge").length`); n != 1 {
		t.Fatalf(`"This device" badges = %d, want 1`, n)
	}
	wantCount(t, ts, 2, `SELECT count(*) FROM sessions`)
	b.Screenshot()

	// "Log out everywhere" ends both sessions.
	confirmInDialog(b, `//button[normalize-space()="Log out everywhere"]`, "/login", `form[action="/login"]`)
	b.Contains(".flash-info", "You have been logged out everywhere.")
	b2.Open("/profile", `form[action="/login"]`)
	b2.At("/login")
	wantCount(t, ts, 0, `SELECT count(*) FROM sessions`)
}

func wantCount(t *testing.T, ts *testServer, want int, sql string, args ...any) {
	t.Helper()
	if n := ts.count(t, sql, args...); n != want {
		t.Fatalf("%s = %d, want %d", sql, n, want)
	}
}

// logIn submits the log-in form; ok says whether it should succeed.
func logIn(c *browsertest.Browser, email, password string, ok bool) {
	c.Open("/login", `form[action="/login"]`)
	c.Fill("email", email, "password", password)
	if ok {
		c.Submit("Log in", "/profile", "#connections-title")
		c.Contains(".nav-user", email)
		return
	}
	c.Submit("Log in", "/login", ".form-error")
	c.Contains(".form-error", "That email and password do not match an account.")
}
