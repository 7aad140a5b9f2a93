package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/accounts"
)

const (
	testSecret = "JBSWY3DPEHPK3PXP"
	testQR     = "data:image/png;base64,iVBORw0KGgo="
)

var testCodes = []string{"abcd-1234", "efgh-5678", "ijkl-9012"}

// mfaPages renders the two-step verification pages, and the pages that
// change with it, in every state that changes what they show, with hostile
// input where input is shown. pages adds them to the pages every test checks.
func mfaPages(t *testing.T, p Page) map[string]string {
	t.Helper()
	at := time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)
	on := testProfile()
	on.MFA = MFASection{TOTP: true, RecoveryCodesLeft: 2}
	return map[string]string{
		"totp-enrol": render(t, TOTPEnrol(p, TOTPEnrolPage{
			Secret: testSecret, URI: "otpauth://totp/Dancecard:" + evilEmail + "?secret=" + testSecret, QRDataURI: testQR,
		})),
		"totp-enrol-error": render(t, TOTPEnrol(p, TOTPEnrolPage{
			Secret: testSecret, URI: "otpauth://totp/x", QRDataURI: "javascript:alert(7)", Error: "That code is <wrong>.",
		})),
		"recovery-codes":   render(t, RecoveryCodes(p, RecoveryCodesPage{Codes: testCodes})),
		"mfa-login":        render(t, MFALogin(p, MFALoginForm{Next: "/profile?x=<y>"})),
		"mfa-login-error":  render(t, MFALogin(p, MFALoginForm{Next: "/", Error: "That code did not <work>."})),
		"profile-mfa-on":   render(t, ProfileSecurityPage(p, on)),
		"reauth-totp":      render(t, Reauth(p, ReauthForm{Next: "/profile/delete?x=<y>", Email: evilEmail, HasPassword: true, HasTOTP: true})),
		"reauth-totp-only": render(t, Reauth(p, ReauthForm{Next: "/profile", HasTOTP: true})),
		"admin-user": render(t, AdminUserPage(p, AdminUser{
			User: accounts.User{ID: 9, Email: evilEmail, CreatedAt: at}, Back: "/admin/users/9",
		})),
		"admin-user-mfa": render(t, AdminUserPage(p, AdminUser{
			User: accounts.User{ID: 9, Email: evilEmail, EmailVerified: true, CreatedAt: at}, Back: "/admin/users/9",
			MFA: MFASection{TOTP: true, RecoveryCodesLeft: 7},
		})),
	}
}

const csrfInput = `<input type="hidden" name="csrf_token" value="` + testToken + `">`

// oneForm returns the body of the only POST form to action, failing the test
// if there is not exactly one or it lacks the CSRF field.
func oneForm(t *testing.T, page, html, action string) string {
	t.Helper()
	forms := formsTo(html, action)
	if len(forms) != 1 {
		t.Fatalf("%s: want 1 form to %s, got %d", page, action, len(forms))
	}
	if !strings.Contains(forms[0], csrfInput) {
		t.Errorf("%s: form to %s lacks the csrf field", page, action)
	}
	return forms[0]
}

func TestTOTPEnrol(t *testing.T) {
	all := pages(t)
	html := all["user/totp-enrol"]
	for _, want := range []string{
		"<h1>Set up an authenticator app</h1>",
		`<img class="qr" src="` + testQR + `" alt="QR code for your authenticator app"`,
		`<code class="totp-secret">JBSW Y3DP EHPK 3PXP</code>`,
		"<details",
		"otpauth://totp/Dancecard:&lt;script&gt;alert(1)&lt;/script&gt;@x.test?secret=" + testSecret,
		`<a href="/profile/security#mfa">Cancel</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("enrol page lacks %s", want)
		}
	}
	f := oneForm(t, "enrol", html, "/profile/mfa/totp/confirm")
	for _, want := range []string{
		`<label for="code">6-digit code from the app</label>`,
		`name="code"`, `inputmode="numeric"`, `autocomplete="one-time-code"`,
		">Turn on two-step verification</button>",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("enrol form lacks %s", want)
		}
	}
	if strings.Contains(f, "aria-invalid") {
		t.Error("enrol form marked invalid without an error")
	}

	html = all["user/totp-enrol-error"]
	f = oneForm(t, "enrol-error", html, "/profile/mfa/totp/confirm")
	for _, want := range []string{
		`aria-invalid="true"`,
		`aria-describedby="code-error code-help"`,
		`id="code-error"`,
		"That code is &lt;wrong&gt;.",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("enrol form with an error lacks %s", want)
		}
	}
	if strings.Contains(html, "alert(7)") || strings.Contains(html, `class="qr"`) {
		t.Error("a QR source that is not a PNG data URI was shown")
	}
	if !strings.Contains(html, "JBSW Y3DP EHPK 3PXP") {
		t.Error("the secret is missing when there is no QR code")
	}
}

func TestGroupSecret(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"ABC":              "ABC",
		"ABCD":             "ABCD",
		"ABCDE":            "ABCD E",
		"JBSWY3DPEHPK3PXP": "JBSW Y3DP EHPK 3PXP",
		" JBSW Y3DP EHPK ": "JBSW Y3DP EHPK",
	} {
		if got := groupSecret(in); got != want {
			t.Errorf("groupSecret(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	html := pages(t)["user/recovery-codes"]
	for _, want := range []string{
		"<h1>Save your recovery codes</h1>",
		"Each code works once.",
		"shown only now",
		`<ol class="recovery-codes" id="recovery-codes"`,
		`data-copy="#recovery-codes"`,
		`<a class="btn btn-primary" href="/profile/security#mfa">Done</a>`,
		`download="dancecard-recovery-codes.txt"`,
		">Download as a text file</a>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("recovery codes page lacks %s", want)
		}
	}
	for _, c := range testCodes {
		if !strings.Contains(html, "<li><code>"+c+"</code></li>") {
			t.Errorf("code %s not listed", c)
		}
	}
	href := `href="data:text/plain;charset=utf-8,` + url.PathEscape(strings.Join(testCodes, "\n")) + `"`
	if !strings.Contains(html, href) {
		t.Errorf("download link lacks the codes; want %s", href)
	}
	if strings.Contains(html, "about:invalid") {
		t.Error("the download link was sanitised away")
	}
}

func TestRecoveryCodesHrefHoldsOnlyCodes(t *testing.T) {
	got := string(recoveryCodesHref([]string{"ab-12", `"><script>x</script>`, "CD 34"}))
	want := "data:text/plain;charset=utf-8,ab-12%0Ascriptxscript%0ACD34"
	if got != want {
		t.Errorf("recoveryCodesHref = %q, want %q", got, want)
	}
}

func TestMFALogin(t *testing.T) {
	all := pages(t)
	html := all["anon/mfa-login"]
	for _, want := range []string{
		"<h1>Two-step verification</h1>",
		"Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
		`<a href="/login">Start over</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("mfa login page lacks %s", want)
		}
	}
	f := oneForm(t, "mfa-login", html, "/login/mfa")
	for _, want := range []string{
		`<input type="hidden" name="next" value="/profile?x=&lt;y&gt;">`,
		`name="code"`, `autocomplete="one-time-code"`, "autofocus", ">Verify</button>",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("mfa login form lacks %s", want)
		}
	}
	if strings.Contains(f, `inputmode="numeric"`) {
		t.Error("a field that takes recovery codes asks for a number pad")
	}
	f = oneForm(t, "mfa-login-error", all["anon/mfa-login-error"], "/login/mfa")
	if !strings.Contains(f, "That code did not &lt;work&gt;.") || !strings.Contains(f, `aria-describedby="code-error"`) {
		t.Error("mfa login error not shown with the field")
	}
}

func TestProfileMFASection(t *testing.T) {
	all := pages(t)
	off := all["user/profile-security"]
	if !strings.Contains(off, `<h2 id="mfa-title">Two-step verification</h2>`) {
		t.Fatal("profile lacks the two-step verification section")
	}
	if strings.Index(off, `id="password-title"`) > strings.Index(off, `id="mfa-title"`) ||
		strings.Index(off, `id="mfa-title"`) > strings.Index(off, `id="sessions-title"`) {
		t.Error("two-step verification is not right after the password section")
	}
	if f := oneForm(t, "profile", off, "/profile/mfa/totp"); !strings.Contains(f, ">Set up an authenticator app</button>") {
		t.Error("profile lacks the set-up button")
	}
	for _, unwanted := range []string{"/profile/mfa/totp/delete", "/profile/mfa/recovery-codes", "recovery codes left"} {
		if strings.Contains(off, unwanted) {
			t.Errorf("profile without two-step verification shows %s", unwanted)
		}
	}

	on := all["user/profile-mfa-on"]
	for _, want := range []string{
		"On: authenticator app",
		`<span class="status status-warn">2 recovery codes left</span>`,
	} {
		if !strings.Contains(on, want) {
			t.Errorf("profile with two-step verification lacks %s", want)
		}
	}
	if f := oneForm(t, "profile-mfa-on", on, "/profile/mfa/recovery-codes"); !strings.Contains(f, ">Make new recovery codes</button>") {
		t.Error("profile lacks the new recovery codes button")
	}
	if f := oneForm(t, "profile-mfa-on", on, "/profile/mfa/totp/delete"); !strings.Contains(f, `class="btn btn-danger"`) || !strings.Contains(f, ">Turn off</button>") {
		t.Error("profile lacks the turn-off button")
	}
	if len(formsTo(on, "/profile/mfa/totp")) != 0 {
		t.Error("profile with an authenticator offers to set one up")
	}

	v := testProfile()
	v.MFA = MFASection{TOTP: true, RecoveryCodesLeft: 8}
	if html := render(t, wholeProfile(testPage(nil), v)); !strings.Contains(html, `<span class="status status-ok">8 recovery codes left</span>`) {
		t.Error("many recovery codes left shown as a warning")
	}
	v.MFA.RecoveryCodesLeft = 1
	if html := render(t, wholeProfile(testPage(nil), v)); !strings.Contains(html, `<span class="status status-warn">1 recovery code left</span>`) {
		t.Error("one recovery code left not shown as a warning")
	}
}

func TestReauthWithTOTP(t *testing.T) {
	all := pages(t)
	html := all["user/reauth-totp"]
	forms := formsTo(html, "/reauth")
	if len(forms) != 2 {
		t.Fatalf("want a password form and a code form to /reauth, got %d", len(forms))
	}
	next := `<input type="hidden" name="next" value="/profile/delete?x=&lt;y&gt;">`
	pw, code := forms[0], forms[1]
	if !strings.Contains(pw, `name="password"`) || !strings.Contains(pw, ">Confirm</button>") || strings.Contains(pw, `name="code"`) {
		t.Errorf("reauth password form wrong: %s", pw)
	}
	for _, want := range []string{
		csrfInput, next,
		`<label for="code">Or enter a code from your authenticator app</label>`,
		`autocomplete="one-time-code"`, ">Confirm with code</button>",
	} {
		if !strings.Contains(code, want) {
			t.Errorf("reauth code form lacks %s", want)
		}
	}
	only := all["user/reauth-totp-only"]
	if f := oneForm(t, "reauth-totp-only", only, "/reauth"); !strings.Contains(f, `name="code"`) {
		t.Error("reauth with only an authenticator lacks the code form")
	}
	if strings.Contains(only, "neither a password nor a linked account") {
		t.Error("reauth with an authenticator says there is no way to confirm")
	}
	if strings.Contains(all["user/reauth"], `name="code"`) {
		t.Error("reauth without an authenticator asks for a code")
	}
}

func TestAdminUserMFA(t *testing.T) {
	all := pages(t)
	on := all["admin/admin-user-mfa"]
	if !strings.Contains(on, "Two-step verification: on (authenticator app, 7 recovery codes left)") {
		t.Error("admin user page does not say two-step verification is on")
	}
	if f := oneForm(t, "admin-user-mfa", on, "/admin/users/9/mfa/delete"); !strings.Contains(f, `class="btn btn-sm btn-danger"`) || !strings.Contains(f, ">Reset second factors</button>") {
		t.Errorf("reset button wrong: %s", f)
	}
	off := all["admin/admin-user"]
	if !strings.Contains(off, "Two-step verification: off") {
		t.Error("admin user page does not say two-step verification is off")
	}
	if strings.Contains(off, "/mfa/delete") {
		t.Error("admin user page offers to reset second factors the user does not have")
	}
}
