package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// createToken makes an API token from the browser's session and returns it.
func createToken(t *testing.T, b *browser) string {
	t.Helper()
	r := b.api(apiCall{method: "POST", path: "/api/v1/tokens", body: `{"name":"ci","scope":"read"}`, csrf: true})
	if r.Status != http.StatusCreated {
		t.Fatalf("create token: %d %s", r.Status, r.Body)
	}
	var tok struct{ Token string }
	json.Unmarshal([]byte(r.Body), &tok)
	return tok.Token
}

func TestPasswordRecovery(t *testing.T) {
	ts := newTestServer(t)
	laptop, phone := ts.browser(t), ts.browser(t)
	laptop.signUp("eve@example.com", goodPassword)
	phone.logIn("eve@example.com", goodPassword)
	token := createToken(t, laptop)
	ts.sendMail(t)
	before := len(ts.Mail.Messages())

	// An unknown address gets the same page and no mail.
	anon := ts.browser(t)
	unknown := anon.post("/password/forgot", url.Values{"email": {"nobody@example.com"}})
	known := anon.post("/password/forgot", url.Values{"email": {"EVE@example.com"}})
	if unknown.Status != http.StatusOK || known.Status != http.StatusOK ||
		strings.ReplaceAll(unknown.Body, "nobody@example.com", "X") != strings.ReplaceAll(known.Body, "EVE@example.com", "X") {
		t.Fatalf("forgot pages differ: %d / %d", unknown.Status, known.Status)
	}
	ts.sendMail(t)
	if got := len(ts.Mail.Messages()) - before; got != 1 {
		t.Fatalf("mails sent = %d, want 1 (only to the real account)", got)
	}
	old := linkIn(t, ts.Mail.Last(t, "eve@example.com"))
	// A newer link kills the older one.
	anon.post("/password/forgot", url.Values{"email": {"eve@example.com"}})
	link := linkIn(t, ts.mailTo(t, "eve@example.com"))
	if r := anon.get(old); r.Status != http.StatusBadRequest {
		t.Fatalf("old reset link still works: %d", r.Status)
	}
	if r := anon.get(link); r.Status != http.StatusOK || !strings.Contains(r.Body, `name="password_confirm"`) {
		t.Fatalf("reset page: %d\n%.500s", r.Status, r.Body)
	}
	tok := strings.TrimPrefix(link, "/password/reset?token=")
	// A refused password leaves the link usable.
	if r := anon.post("/password/reset", url.Values{"token": {tok}, "password": {"short"}, "password_confirm": {"short"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("weak password: %d", r.Status)
	}
	if r := anon.post("/password/reset", url.Values{"token": {tok}, "password": {"new and long enough"}, "password_confirm": {"different"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("mismatch: %d", r.Status)
	}
	const newPassword = "a brand new passphrase"
	r := anon.post("/password/reset", url.Values{"token": {tok}, "password": {newPassword}, "password_confirm": {newPassword}})
	if r.Status != http.StatusSeeOther || r.Location != "/login" {
		t.Fatalf("reset: %d %q\n%.500s", r.Status, r.Location, r.Body)
	}
	// Every session ended, every API token revoked, the address verified.
	for _, b := range []*browser{laptop, phone} {
		if p := b.get("/profile"); p.Status != http.StatusSeeOther {
			t.Fatalf("a session survived the reset: %d", p.Status)
		}
	}
	if r := anon.api(apiCall{method: "GET", path: "/api/v1/me", bearer: token}); r.Status != http.StatusUnauthorized {
		t.Fatalf("API token survived the reset: %d", r.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL`); n != 1 {
		t.Fatal("a reset did not verify the address")
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'password_reset'`); n != 1 {
		t.Fatalf("password_reset events = %d", n)
	}
	if notice := ts.mailTo(t, "eve@example.com"); !strings.Contains(notice.Subject, "password") || strings.Contains(notice.Text, "token=") {
		t.Fatalf("notice: %q", notice.Subject)
	}
	// The link is single use; the old password is dead, the new one works.
	if r := anon.post("/password/reset", url.Values{"token": {tok}, "password": {"yet another passphrase"}, "password_confirm": {"yet another passphrase"}}); r.Status != http.StatusBadRequest {
		t.Fatalf("reused reset link: %d", r.Status)
	}
	if r := anon.logIn("eve@example.com", goodPassword); r.Status != http.StatusUnauthorized {
		t.Fatalf("old password: %d", r.Status)
	}
	if r := anon.logIn("eve@example.com", newPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("new password: %d", r.Status)
	}
}

func TestPasswordChangeKillsResetLinks(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("fay@example.com", goodPassword)
	ts.browser(t).post("/password/forgot", url.Values{"email": {"fay@example.com"}})
	link := linkIn(t, ts.mailTo(t, "fay@example.com"))
	r := b.post("/profile/password", url.Values{"current_password": {goodPassword}, "new_password": {"another fine passphrase"}, "new_password_confirm": {"another fine passphrase"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%.500s", r.Status, r.Body)
	}
	if r := b.get(link); r.Status != http.StatusBadRequest {
		t.Fatalf("reset link survived a password change: %d", r.Status)
	}
	if m := ts.mailTo(t, "fay@example.com"); !strings.Contains(strings.ToLower(m.Subject), "password") {
		t.Fatalf("no password-changed notice: %q", m.Subject)
	}
}

func TestEmailChange(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("gil@example.com", goodPassword)
	ts.browser(t).signUp("taken@example.com", goodPassword)
	ts.sendMail(t)
	if r := b.post("/profile/email", url.Values{"email": {"taken@example.com"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("taken address: %d", r.Status)
	}
	if r := b.post("/profile/email", url.Values{"email": {"not an address"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad address: %d", r.Status)
	}
	if r := b.post("/profile/email", url.Values{"email": {"gil.new@example.com"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%.500s", r.Status, r.Body)
	}
	if p := b.get("/profile"); !strings.Contains(p.Body, "gil.new@example.com") {
		t.Fatal("profile does not show the pending change")
	}
	link := linkIn(t, ts.mailTo(t, "gil.new@example.com"))
	if n := len(ts.Mail.To(t, "gil@example.com")); n != 1 { // the sign-up's verification only
		t.Fatalf("mails to the old address before confirming = %d", n)
	}
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email = 'gil@example.com'`); n != 1 {
		t.Fatal("address changed before confirmation")
	}
	if r := b.post("/email/verify", url.Values{"token": {strings.TrimPrefix(link, "/email/verify?token=")}}); r.Status != http.StatusSeeOther {
		t.Fatalf("confirm: %d\n%.500s", r.Status, r.Body)
	}
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email = 'gil.new@example.com' AND email_verified_at IS NOT NULL`); n != 1 {
		t.Fatal("address not changed and verified")
	}
	notice := ts.mailTo(t, "gil@example.com")
	if !strings.Contains(notice.Text, "gil.new@example.com") {
		t.Fatalf("old address got no notice naming the new one: %q", notice.Subject)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'email_changed'`); n != 1 {
		t.Fatalf("email_changed events = %d", n)
	}
	b.post("/logout", nil)
	if r := b.logIn("gil.new@example.com", goodPassword); r.Status != http.StatusSeeOther {
		t.Fatalf("log in with the new address: %d", r.Status)
	}
}
