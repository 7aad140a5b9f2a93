package web

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// accountPages renders the email, password, re-authentication and dev mailbox
// pages, in every state that changes what they show, with hostile input where
// input is shown. pages adds them to the pages every test checks.
func accountPages(t *testing.T, p Page) map[string]string {
	t.Helper()
	at := time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)
	providers := []ProviderButton{{ID: "github", Name: "GitHub"}, {ID: "company-sso", Name: "<Company> SSO"}}
	return map[string]string{
		"verify":        render(t, VerifyEmail(p, VerifyEmailPage{Token: "tok<1>", Email: evilEmail})),
		"verify-change": render(t, VerifyEmail(p, VerifyEmailPage{Token: "tok2", Email: evilEmail, Change: true})),
		"verify-error":  render(t, VerifyEmail(p, VerifyEmailPage{Token: "tok3", Error: "This link has <expired>."})),
		"forgot":        render(t, ForgotPassword(p, ForgotPasswordForm{Email: evilEmail})),
		"forgot-sent":   render(t, ForgotPassword(p, ForgotPasswordForm{Email: evilEmail, Sent: true})),
		"reset": render(t, ResetPassword(p, ResetPasswordForm{
			Token: "tok<4>", Email: evilEmail, Error: "Try <again>.",
			Errors: map[string]string{"password": "Too short.", "password_confirm": "Does not match."},
		})),
		"reset-invalid": render(t, ResetPassword(p, ResetPasswordForm{Token: "tok5", Invalid: true, Error: "This link was <used>."})),
		"reauth": render(t, Reauth(p, ReauthForm{
			Next: "/profile/delete?x=<y>", Email: evilEmail, HasPassword: true, Providers: providers, Error: "Wrong password.",
		})),
		"reauth-providers": render(t, Reauth(p, ReauthForm{Next: "/profile", Email: evilEmail, Providers: providers})),
		"reauth-none":      render(t, Reauth(p, ReauthForm{Next: "/profile"})),
		"checkmail":        render(t, CheckMail(p, CheckMailPage{Email: evilEmail})),
		"checkmail-msg":    render(t, CheckMail(p, CheckMailPage{Message: "We sent a <new> link."})),
		"unlock":           render(t, Unlock(p, UnlockPage{Token: "tok<6>"})),
		"unlock-error":     render(t, Unlock(p, UnlockPage{Token: "tok7", Error: "This link was <used>."})),
		"login-unverified": render(t, Login(p, LoginForm{Email: evilEmail, Next: "/profile", Unverified: true})),
		"signup-taken": render(t, Signup(p, SignupForm{
			Email: evilEmail, EmailTaken: true, Errors: map[string]string{"password": "Too short."},
		})),
		"profile-no-email":          render(t, ProfileAccountPage(p, profileWithoutEmail())),
		"profile-no-email-security": render(t, ProfileSecurityPage(p, profileWithoutEmail())),
		"devmail-empty":             render(t, DevMailList(p, DevMailbox{})),
		"devmail": render(t, DevMailList(p, DevMailbox{Messages: []DevMail{
			{ID: 1, To: evilEmail, Subject: "Older", CreatedAt: at},
			{ID: 2, To: "b@x.test", Subject: "", CreatedAt: at.Add(time.Hour)},
			{ID: 3, To: "c@x.test", Subject: "<b>Newest</b>", CreatedAt: at.Add(2 * time.Hour)},
		}})),
		"devmail-view": render(t, DevMailView(p, DevMail{
			ID: 7, From: "Dancecard <noreply@x.test>", To: evilEmail, Subject: "Confirm <your> address", CreatedAt: at,
			Text: "Hello " + evilEmail + "\n\nConfirm:\nhttp://127.0.0.1:8080/email/verify?token=a&b=c\n\n(see https://x.test/help).",
			HTML: "<p>never shown here</p>",
		})),
	}
}

// profileWithoutEmail is an account made with a linked account that gave no
// address and that has no password.
func profileWithoutEmail() Profile {
	v := testProfile()
	v.Email, v.EmailVerified, v.HasPassword = "", false, false
	v.PasswordForm = PasswordForm{}
	return v
}

var (
	inputRE     = regexp.MustCompile(`<input\b[^>]*>`)
	idRE        = regexp.MustCompile(`\sid="([^"]+)"`)
	describedRE = regexp.MustCompile(`aria-describedby="([^"]+)"`)
)

// TestFieldsAreLabelledAndDescribed checks, on every page, that each visible
// input has a label tied to it, that ids are unique, and that
// aria-describedby points at elements that exist.
func TestFieldsAreLabelledAndDescribed(t *testing.T) {
	for name, html := range pages(t) {
		ids := map[string]int{}
		for _, m := range idRE.FindAllStringSubmatch(html, -1) {
			ids[m[1]]++
		}
		for id, n := range ids {
			if n > 1 {
				t.Errorf("%s: id %q used %d times", name, id, n)
			}
		}
		for _, in := range inputRE.FindAllString(html, -1) {
			if strings.Contains(in, `type="hidden"`) || strings.Contains(in, " hidden") {
				continue
			}
			m := idRE.FindStringSubmatch(in)
			if m == nil || !strings.Contains(html, `<label for="`+m[1]+`">`) {
				t.Errorf("%s: input without a label: %s", name, in)
			}
		}
		for _, m := range describedRE.FindAllStringSubmatch(html, -1) {
			for _, id := range strings.Fields(m[1]) {
				if ids[id] == 0 {
					t.Errorf("%s: aria-describedby names missing id %q", name, id)
				}
			}
		}
	}
}

func TestVerifyEmail(t *testing.T) {
	all := pages(t)
	html := all["anon/verify"]
	forms := formsTo(html, "/email/verify")
	if len(forms) != 1 || !strings.Contains(forms[0], `<input type="hidden" name="token" value="tok&lt;1&gt;">`) {
		t.Fatalf("verify page lacks the token form: %v", forms)
	}
	for _, want := range []string{"Confirm your email address", "&lt;script&gt;alert(1)&lt;/script&gt;@x.test", "Confirm email address</button>"} {
		if !strings.Contains(html, want) {
			t.Errorf("verify page lacks %s", want)
		}
	}
	if html := all["anon/verify-change"]; !strings.Contains(html, "Confirm your new email address") || !strings.Contains(html, "becomes") {
		t.Error("email change page does not say the address changes")
	}
	anon, user := all["anon/verify-error"], all["user/verify-error"]
	for _, html := range []string{anon, user} {
		if len(formsTo(html, "/email/verify")) != 0 || !strings.Contains(html, "This link has &lt;expired&gt;.") {
			t.Error("a broken verify link shows the form or hides its error")
		}
	}
	if !strings.Contains(anon, `class="btn btn-primary btn-block" href="/login"`) {
		t.Error("a logged-out visitor with a broken link is not sent to log in")
	}
	if !strings.Contains(user, `class="btn btn-primary btn-block" href="/profile"`) {
		t.Error("a signed-in user with a broken link is not sent to the profile")
	}
}

func TestForgotPassword(t *testing.T) {
	all := pages(t)
	sent := "If an account uses that address, we sent a link to it. It works for 1 hour."
	if html := all["anon/forgot"]; strings.Contains(html, sent) || len(formsTo(html, "/password/forgot")) != 1 {
		t.Error("forgot page before sending: wrong message or no form")
	}
	html := all["anon/forgot-sent"]
	for _, want := range []string{sent, `name="email"`, `value="&lt;script&gt;alert(1)&lt;/script&gt;@x.test"`, `autocomplete="email"`} {
		if !strings.Contains(html, want) {
			t.Errorf("forgot page after sending lacks %s", want)
		}
	}
}

func TestResetPassword(t *testing.T) {
	all := pages(t)
	html := all["anon/reset"]
	forms := formsTo(html, "/password/reset")
	if len(forms) != 1 {
		t.Fatalf("want one reset form, got %d", len(forms))
	}
	for _, want := range []string{
		`<input type="hidden" name="token" value="tok&lt;4&gt;">`,
		`name="password" type="password"`,
		`name="password_confirm" type="password"`,
		`autocomplete="new-password"`,
		`minlength="8"`,
		`aria-describedby="password-error password-help"`,
		`aria-describedby="password_confirm-error"`,
		`autocomplete="username"`,
	} {
		if !strings.Contains(forms[0], want) {
			t.Errorf("reset form lacks %s", want)
		}
	}
	if !strings.Contains(html, "Try &lt;again&gt;.") || !strings.Contains(html, "At least 8 characters") {
		t.Error("reset page lacks its error or length hint")
	}
	invalid := all["anon/reset-invalid"]
	if len(formsTo(invalid, "/password/reset")) != 0 || !strings.Contains(invalid, `href="/password/forgot"`) {
		t.Error("an invalid reset link shows the form or no way to a new link")
	}
	if !strings.Contains(invalid, "This link was &lt;used&gt;.") {
		t.Error("an invalid reset link hides why")
	}
}

func TestReauth(t *testing.T) {
	all := pages(t)
	html := all["user/reauth"]
	next := `<input type="hidden" name="next" value="/profile/delete?x=&lt;y&gt;">`
	for _, want := range []string{"Confirm it’s you", "For your security, confirm your identity to continue.", "Wrong password.", "&lt;script&gt;alert(1)&lt;/script&gt;@x.test"} {
		if !strings.Contains(html, want) {
			t.Errorf("reauth page lacks %s", want)
		}
	}
	pw := formsTo(html, "/reauth")
	if len(pw) != 1 || !strings.Contains(pw[0], next) || !strings.Contains(pw[0], `name="password"`) || !strings.Contains(pw[0], ">Confirm</button>") {
		t.Errorf("reauth password form wrong: %v", pw)
	}
	for id, label := range map[string]string{"github": "Confirm with GitHub", "company-sso": "Confirm with &lt;Company&gt; SSO"} {
		forms := formsTo(html, "/auth/"+id+"/reauth")
		if len(forms) != 1 || !strings.Contains(forms[0], next) || !strings.Contains(forms[0], label) {
			t.Errorf("reauth form for %s wrong: %v", id, forms)
		}
	}
	if html := all["user/reauth-providers"]; strings.Contains(html, `name="password"`) || len(formsTo(html, "/auth/github/reauth")) != 1 {
		t.Error("reauth without a password asks for one or lacks the provider")
	}
	if html := all["user/reauth-none"]; len(formRE.FindAllString(html, -1)) != 2 { // the header's log-out form, the footer's language form
		t.Error("reauth with no way to confirm shows a form")
	}
}

func TestCheckMailAndUnlock(t *testing.T) {
	all := pages(t)
	if html := all["anon/checkmail"]; !strings.Contains(html, "We sent a link to <strong class=\"break\">&lt;script&gt;") {
		t.Error("check-mail page does not name the address")
	}
	if html := all["anon/checkmail-msg"]; !strings.Contains(html, "We sent a &lt;new&gt; link.") {
		t.Error("check-mail page ignores its message")
	}
	forms := formsTo(all["anon/unlock"], "/login/unlock")
	if len(forms) != 1 || !strings.Contains(forms[0], `<input type="hidden" name="token" value="tok&lt;6&gt;">`) {
		t.Errorf("unlock form wrong: %v", forms)
	}
	if html := all["anon/unlock-error"]; len(formsTo(html, "/login/unlock")) != 0 || !strings.Contains(html, "This link was &lt;used&gt;.") {
		t.Error("a broken unlock link shows the form or hides its error")
	}
}

func TestLoginUnverifiedAndForgotLink(t *testing.T) {
	all := pages(t)
	if !strings.Contains(all["anon/login"], `<a href="/password/forgot">Forgot your password?</a>`) {
		t.Error("login page lacks the forgot-password link")
	}
	if len(formsTo(all["anon/login"], "/email/resend")) != 0 {
		t.Error("login page offers a new verification link unasked")
	}
	forms := formsTo(all["anon/login-unverified"], "/email/resend")
	if len(forms) != 1 || !strings.Contains(forms[0], `<input type="hidden" name="email" value="&lt;script&gt;alert(1)&lt;/script&gt;@x.test">`) ||
		!strings.Contains(forms[0], "Send a new verification link") {
		t.Errorf("unverified login lacks the resend form: %v", forms)
	}
}

func TestSignupEmailTaken(t *testing.T) {
	html := pages(t)["anon/signup-taken"]
	for _, want := range []string{
		`aria-describedby="email-error"`,
		"An account already uses this email address.",
		`<a href="/login">Log in</a> or <a href="/password/forgot">reset your password</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("signup with a taken address lacks %s", want)
		}
	}
	if strings.Contains(pages(t)["anon/signup"], `href="/password/forgot"`) {
		t.Error("signup offers a password reset when the address is not taken")
	}
}
