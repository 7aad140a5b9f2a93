package httpserver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// profileEmailLine is the account page's line with the account's address
// and whether it is verified.
const profileEmailLine = "#account-title + .details dd"

// TestBrowserMailJourney walks one person through every flow of the account
// that goes by mail, in a real Chromium, reading mail only as a newcomer
// would after make run: in the dev mailbox at /dev/mail. They sign up,
// confirm the address, reset the forgotten password, change the address and
// delete the account.
func TestBrowserMailJourney(t *testing.T) {
	ts := newTestServer(t, withDevMailbox)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel) // registered first, so it runs after the browser has closed
	b := browsertest.New(t, ctx, ts.URL)

	const email = "grace@example.com"
	const newEmail = "grace.hopper@example.org"
	const newPassword = "a reset passphrase for grace"

	// Sign up: logged in at once, with the address not yet confirmed.
	b.Open("/signup", `form[action="/signup"]`)
	b.Fill("email", email, "password", goodPassword, "password_confirm", goodPassword)
	b.Submit("Create account", "/profile", "#connections-title")
	b.Contains(".flash-success", "We sent a link to "+email+" to confirm your address.")
	b.Follow("Account", "/profile/account", "#account-title")
	b.Contains(profileEmailLine, "Not verified")

	// Confirm the address with the mailed link: opening it only shows a
	// button, and the button confirms.
	openDevMail(t, b, email, "Confirm your email address")
	followMailLink(b, "/email/verify", `form[action="/email/verify"]`)
	b.Contains(".auth-card h1", "Confirm your email address")
	b.Contains(".auth-card", email)
	b.Submit("Confirm email address", "/profile/account", "#account-title")
	b.Contains(".flash-success", "Thanks! "+email+" is verified.")
	b.Contains(profileEmailLine, "Verified")
	b.Lacks(profileEmailLine, "Not verified")
	wantCount(t, ts, 1, `SELECT count(*) FROM users WHERE email = $1 AND email_verified_at IS NOT NULL`, email)

	// Forget the password: ask for a link from the log-in page, and choose a
	// new password with it.
	b.Submit("Log out", "/", "#hero-title")
	b.Open("/login", `form[action="/login"]`)
	b.Follow("Forgot your password?", "/password/forgot", `form[action="/password/forgot"]`)
	b.Fill("email", email)
	b.Submit("Send reset link", "/password/forgot", ".form-status")
	b.Contains(".form-status", "If an account uses that address, we sent a link to it.")
	openDevMail(t, b, email, "Reset your Dancecard password")
	followMailLink(b, "/password/reset", `form[action="/password/reset"]`)
	b.Contains(".auth-card", email)
	b.Fill("password", newPassword, "password_confirm", newPassword)
	b.Submit("Set new password", "/login", `form[action="/login"]`)
	b.Contains(".flash-success", "Your password is set.")
	logIn(b, email, goodPassword, false)
	logIn(b, email, newPassword, true)

	// Change the address: nothing changes until the link mailed to the new
	// one is used; then the old one hears of it.
	b.Follow("Account", "/profile/account", "#account-title")
	b.Fill("email", newEmail)
	b.Submit("Change email address", "/profile/account", ".flash-success")
	b.Contains(".flash-success", "We sent a confirmation link to "+newEmail+".")
	b.Contains(".callout-info", newEmail)
	b.Contains(profileEmailLine, email)
	openDevMail(t, b, newEmail, "Confirm your new email address")
	b.Contains("pre.mail-text", email) // the address it changes from
	followMailLink(b, "/email/verify", `form[action="/email/verify"]`)
	b.Contains(".auth-card h1", "Confirm your new email address")
	b.Contains(".auth-card", newEmail)
	b.Submit("Confirm new address", "/profile/account", "#account-title")
	b.Contains(".flash-success", "Your email address is now "+newEmail+".")
	b.Contains(profileEmailLine, newEmail)
	b.Contains(profileEmailLine, "Verified")
	b.Lacks(profileEmailLine, email)
	openDevMail(t, b, email, "Your Dancecard email address was changed")
	b.Contains("pre.mail-text", newEmail)

	// Delete the account, typing its address to confirm; the address hears
	// of it one last time.
	b.Open("/profile/account", "#account-title")
	b.Fill("confirm_email", newEmail)
	b.Submit("Delete my account", "/", "#hero-title")
	b.Contains(".flash-info", "Your account and everything stored about it have been deleted.")
	b.Contains(".site-nav", "Log in")
	wantCount(t, ts, 0, `SELECT count(*) FROM users`)
	wantCount(t, ts, 1, `SELECT count(*) FROM events WHERE kind = 'user_deleted'`)
	openDevMail(t, b, newEmail, "Your Dancecard account was deleted")
}

// openDevMail reloads the dev mailbox until the mail to to with subject is
// there, as someone waiting for it would, and opens the newest such mail.
// The sender runs in the background, so the mail lands moments after the
// request that wrote it committed.
func openDevMail(t *testing.T, b *browsertest.Browser, to, subject string) {
	t.Helper()
	link := fmt.Sprintf(`//tbody/tr[td[2][normalize-space()=%q]]/td[3]/a[normalize-space()=%q]`, to, subject)
	found := fmt.Sprintf(`document.evaluate(%q, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, link)
	deadline := time.Now().Add(15 * time.Second)
	for {
		b.Open("/dev/mail", "#mailbox-title")
		if b.Eval(found) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s with subject %q in /dev/mail after 15s", to, subject)
		}
		time.Sleep(50 * time.Millisecond) // between reloads, not in place of one
	}
	b.Click(link, "", "pre.mail-text")
	b.Contains(".page-head h1", subject)
	b.Contains(".details", to)
}

// followMailLink clicks the link to path in the open mail's plain-text
// part and waits for the page it opens to show ready.
func followMailLink(b *browsertest.Browser, path, ready string) {
	b.Click(`//pre[contains(@class, "mail-text")]/a[contains(@href, "`+path+`?token=")]`, path, ready)
}
