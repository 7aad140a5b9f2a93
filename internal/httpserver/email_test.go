package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/accounts"
)

func TestVerifyEmailByMailedLink(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("ann@example.com", goodPassword) // optional: logged in at once
	m := ts.mailTo(t, "ann@example.com")
	if !strings.Contains(m.Subject, "Confirm") || !strings.Contains(m.HTML, "token=") {
		t.Fatalf("verification mail: %q\n%s", m.Subject, m.HTML)
	}
	link := linkIn(t, m)
	if !strings.HasPrefix(link, "/email/verify?token=") {
		t.Fatalf("link %q", link)
	}
	// Opening the link (a mail scanner does) changes nothing.
	anon := ts.browser(t)
	for range 2 {
		r := anon.get(link)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "ann@example.com") || !strings.Contains(r.Body, `action="/email/verify"`) {
			t.Fatalf("GET link: %d\n%.600s", r.Status, r.Body)
		}
	}
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL`); n != 0 {
		t.Fatal("GET verified the address")
	}
	token := strings.TrimPrefix(link, "/email/verify?token=")
	r := anon.post("/email/verify", url.Values{"token": {token}})
	if r.Status != http.StatusSeeOther || r.Location != "/login" {
		t.Fatalf("POST verify: %d %q\n%.500s", r.Status, r.Location, r.Body)
	}
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email = 'ann@example.com' AND email_verified_at IS NOT NULL`); n != 1 {
		t.Fatal("address not verified")
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'email_verified'`); n != 1 {
		t.Fatalf("email_verified events = %d", n)
	}
	// A used link is refused and says so.
	r = anon.post("/email/verify", url.Values{"token": {token}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "already been used") {
		t.Fatalf("reused link: %d\n%.500s", r.Status, r.Body)
	}
	// The profile shows the badge; the API says so too.
	if p := b.get("/profile/account"); !strings.Contains(p.Body, "Verified") {
		t.Fatal("profile shows no Verified badge")
	}
}

func TestVerificationLinksExpireAndGoStale(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("bo@example.com", goodPassword)
	first := linkIn(t, ts.mailTo(t, "bo@example.com"))
	// A new link makes the older one stale.
	if r := b.post("/profile/email/resend", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d", r.Status)
	}
	ts.sendMail(t)
	if got := ts.Mail.To(t, "bo@example.com"); len(got) != 2 {
		t.Fatalf("mails = %d, want 2", len(got))
	}
	second := linkIn(t, ts.Mail.Last(t, "bo@example.com"))
	if first == second {
		t.Fatal("the new mail carries the old link")
	}
	if r := b.get(first); r.Status != http.StatusBadRequest {
		t.Fatalf("stale link: %d", r.Status)
	}
	// An expired link is refused with its own message.
	ts.DB.Exec(t.Context(), `UPDATE mail_links SET expires_at = now() - interval '1 second'`)
	r := b.post("/email/verify", url.Values{"token": {strings.TrimPrefix(second, "/email/verify?token=")}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "expired") {
		t.Fatalf("expired link: %d\n%.500s", r.Status, r.Body)
	}
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL`); n != 0 {
		t.Fatal("an expired link verified the address")
	}
	// Garbage tokens change nothing and answer a page, not a 500.
	for _, tok := range []string{"", "x", strings.Repeat("A", 500), "%00", "../../etc"} {
		if r := b.get("/email/verify?token=" + url.QueryEscape(tok)); r.Status != http.StatusBadRequest {
			t.Errorf("token %q: %d", tok, r.Status)
		}
	}
}

func TestRequiredVerificationHidesWhichAddressesExist(t *testing.T) {
	ts := newTestServer(t, withVerification(accounts.VerifyRequired))
	owner := ts.browser(t)
	form := url.Values{"email": {"cat@example.com"}, "password": {goodPassword}, "password_confirm": {goodPassword}}
	first := owner.post("/signup", form)
	if first.Status != http.StatusOK || !strings.Contains(first.Body, "Check your mail") || owner.cookie("dc_session") != nil {
		t.Fatalf("sign-up: %d, session %v\n%.600s", first.Status, owner.cookie("dc_session"), first.Body)
	}
	// Someone else tries the same address: the same answer, nobody logged in.
	other := ts.browser(t)
	second := other.post("/signup", form)
	if second.Status != first.Status || !strings.Contains(second.Body, "We sent a message to cat@example.com") || other.cookie("dc_session") != nil {
		t.Fatalf("second sign-up differs: %d\n%.600s", second.Status, second.Body)
	}
	ts.sendMail(t)
	got := ts.Mail.To(t, "cat@example.com")
	if len(got) != 2 || !strings.Contains(got[1].Subject, "sign up") {
		t.Fatalf("mails to the owner: %d", len(got))
	}
	if strings.Contains(got[1].Text, "token=") {
		t.Fatal("the someone-tried mail carries a link secret")
	}
	// No password log-in until verified; the page says why and offers a link.
	r := owner.logIn("cat@example.com", goodPassword)
	if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "Send a new verification link") || owner.cookie("dc_session") != nil {
		t.Fatalf("unverified log-in: %d\n%.600s", r.Status, r.Body)
	}
	// A wrong password says nothing about verification.
	if r := owner.logIn("cat@example.com", "wrong password here"); r.Status != http.StatusUnauthorized || strings.Contains(r.Body, "verification") {
		t.Fatalf("wrong password: %d", r.Status)
	}
	r = owner.post("/email/resend", url.Values{"email": {"cat@example.com"}})
	if r.Status != http.StatusOK {
		t.Fatalf("resend: %d", r.Status)
	}
	link := linkIn(t, ts.mailTo(t, "cat@example.com"))
	owner.post("/email/verify", url.Values{"token": {strings.TrimPrefix(link, "/email/verify?token=")}})
	if r := owner.logIn("cat@example.com", goodPassword); r.Status != http.StatusSeeOther || owner.cookie("dc_session") == nil {
		t.Fatalf("verified log-in: %d %q", r.Status, r.Location)
	}
}

func TestSignupWithTakenAddressOptional(t *testing.T) {
	ts := newTestServer(t)
	ts.browser(t).signUp("dee@example.com", goodPassword)
	b := ts.browser(t)
	r := b.post("/signup", url.Values{"email": {"Dee@Example.com"}, "password": {goodPassword}, "password_confirm": {goodPassword}})
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, `href="/password/forgot"`) {
		t.Fatalf("taken address: %d\n%.800s", r.Status, r.Body)
	}
}
