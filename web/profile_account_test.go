package web

import (
	"strings"
	"testing"
)

func TestProfileEmailArea(t *testing.T) {
	v := testProfile()
	v.EmailForm = EmailForm{Email: "new<1>@x.test", Error: "That address is <taken>."}
	v.PendingEmail = "pending<2>@x.test"
	html := render(t, wholeProfile(testPage(nil), v))
	for _, want := range []string{
		`<span class="status status-warn">Not verified</span>`,
		`New email address`,
		`value="new&lt;1&gt;@x.test"`,
		`That address is &lt;taken&gt;.`,
		`aria-describedby="email-error email-help"`,
		`pending&lt;2&gt;@x.test`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("profile lacks %s", want)
		}
	}
	if len(formsTo(html, "/profile/email")) != 1 || len(formsTo(html, "/profile/email/resend")) != 1 {
		t.Error("profile lacks the change-email or resend form")
	}

	v.EmailVerified, v.PendingEmail = true, ""
	html = render(t, wholeProfile(testPage(nil), v))
	if !strings.Contains(html, `<span class="status status-ok">Verified</span>`) || len(formsTo(html, "/profile/email/resend")) != 0 {
		t.Error("a verified address is not shown as such, or is offered a new link")
	}
	if strings.Contains(html, "is waiting for you to confirm it") {
		t.Error("a pending change shown where there is none")
	}
}

func TestProfileWithoutEmail(t *testing.T) {
	html := render(t, wholeProfile(testPage(nil), profileWithoutEmail()))
	for _, want := range []string{
		"No email address",
		"Add an email address",
		"first <a href=\"/profile/account#account\">add an email address</a>",
		"Type DELETE to confirm",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("profile without email lacks %s", want)
		}
	}
	if len(formsTo(html, "/profile/password")) != 0 {
		t.Error("a password is offered to an account without an address to log in with")
	}
	for _, unwanted := range []string{"Verified<", "/profile/email/resend", "New email address"} {
		if strings.Contains(html, unwanted) {
			t.Errorf("profile without email shows %s", unwanted)
		}
	}
}

func TestProfileSessionsRevokeTokens(t *testing.T) {
	html := pages(t)["user/profile-security"]
	var all []string
	for _, f := range formsTo(html, "/profile/sessions/delete") {
		if strings.Contains(f, `value="all"`) {
			all = append(all, f)
		} else if strings.Contains(f, "revoke_tokens") {
			t.Error("logging out other sessions offers to revoke tokens")
		}
	}
	if len(all) != 1 || !strings.Contains(all[0], `<input type="checkbox" id="revoke_tokens" name="revoke_tokens" value="1">`) ||
		!strings.Contains(all[0], `<label for="revoke_tokens">Also revoke my API tokens</label>`) {
		t.Errorf("log-out-everywhere form lacks the revoke_tokens checkbox: %v", all)
	}
}

func TestProfileYourData(t *testing.T) {
	v := testProfile()
	v.DeleteForm = DeleteForm{Error: "That is not <your> address."}
	html := render(t, wholeProfile(testPage(nil), v))
	for _, want := range []string{
		`<h2 id="data-title">Your data</h2>`,
		`href="/profile/export"`,
		`Download my data (JSON)`,
		`Type your email address to confirm`,
		`name="confirm_email"`,
		`That is not &lt;your&gt; address.`,
		`aria-describedby="confirm_email-error confirm_email-help"`,
		`revokes each connection at its provider`,
		`This cannot be undone.`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("profile lacks %s", want)
		}
	}
	if forms := formsTo(html, "/profile/delete"); len(forms) != 1 || !strings.Contains(forms[0], "Delete my account") {
		t.Errorf("want one delete form, got %v", forms)
	}
	if strings.LastIndex(html, `id="data-title"`) < strings.LastIndex(html, `id="tokens-title"`) {
		t.Error("Your data is not the profile's last section")
	}
}
