package web

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

const (
	testToken = "tok-123_ABC"
	evilEmail = `<script>alert(1)</script>@x.test`
)

// render renders c and fails the test on error.
func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

func testPage(u *User) Page {
	return Page{
		Title:        "Test",
		CSRFToken:    testToken,
		User:         u,
		Flashes:      []Flash{{Kind: "success", Message: "Saved."}, {Kind: "error", Message: "Nope."}, {Kind: "odd", Message: "FYI."}},
		Dev:          true,
		AssetVersion: "abc123",
	}
}

func testProfile() Profile {
	now := time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)
	return Profile{
		Email:       evilEmail,
		CreatedAt:   now.AddDate(0, -2, 0),
		HasPassword: true,
		Sessions: []Session{
			{ID: "cur", CreatedAt: now, LastSeenAt: now, UserAgent: "Firefox", IP: "127.0.0.1", Current: true},
			{ID: "a/b", CreatedAt: now, LastSeenAt: now, UserAgent: strings.Repeat("x", 200), IP: "10.0.0.1"},
		},
		PasswordForm: PasswordForm{Errors: map[string]string{"new_password": "Too short."}, Error: "Try again."},
	}
}

// pages renders every page once as an anonymous visitor, once as a user and
// once as an administrator, whose email is hostile markup.
func pages(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	users := map[string]*User{
		"anon":  nil,
		"user":  {ID: 1, Email: evilEmail},
		"admin": {ID: 2, Email: evilEmail, IsAdmin: true},
	}
	for who, u := range users {
		p := testPage(u)
		out[who+"/home"] = render(t, Home(p))
		out[who+"/signup"] = render(t, Signup(p, SignupForm{
			Email:  evilEmail,
			Errors: map[string]string{"email": "Bad <b>email</b>.", "password": "Too short."},
			Error:  "Something <i>broke</i>.",
		}))
		out[who+"/login"] = render(t, Login(p, LoginForm{
			Email: evilEmail, Next: "/profile?x=<y>", Error: "Wrong password.", SignupEnabled: true,
			Providers: []ProviderButton{{ID: "github", Name: "GitHub"}, {ID: "company-sso", Name: "<Company> SSO"}},
		}))
		out[who+"/profile"] = render(t, ProfilePage(p, testProfile()))
		out[who+"/error"] = render(t, ErrorPage(p, 404, "Page not found", "No page <here>."))
	}
	return out
}

func TestEveryPageCarriesCSRFMeta(t *testing.T) {
	for name, html := range pages(t) {
		if !strings.Contains(html, `<meta name="csrf-token" content="`+testToken+`">`) {
			t.Errorf("%s: csrf meta tag missing", name)
		}
		if !strings.Contains(html, "Development mode: built-in dev provider, demo data, not for production.") &&
			!strings.Contains(html, "<strong>Development mode:</strong> built-in dev provider, demo data, not for production.") {
			t.Errorf("%s: dev banner missing", name)
		}
		if !strings.Contains(html, `<main id="main"`) || !strings.Contains(html, `href="#main"`) {
			t.Errorf("%s: main landmark or skip link missing", name)
		}
		if !strings.Contains(html, `/static/style.css?v=abc123`) {
			t.Errorf("%s: versioned stylesheet link missing", name)
		}
	}
}

var formRE = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)

func TestEveryPostFormCarriesCSRFToken(t *testing.T) {
	hidden := `<input type="hidden" name="csrf_token" value="` + testToken + `">`
	for name, html := range pages(t) {
		for _, m := range formRE.FindAllStringSubmatch(html, -1) {
			if !strings.Contains(m[1], `method="post"`) {
				t.Errorf("%s: form without method=post: %s", name, m[1])
				continue
			}
			if !strings.Contains(m[2], hidden) {
				t.Errorf("%s: POST form %s lacks the csrf_token input", name, m[1])
			}
		}
	}
}

func TestNavigation(t *testing.T) {
	all := pages(t)
	for _, page := range []string{"home", "signup", "login", "profile", "error"} {
		anon, user, admin := all["anon/"+page], all["user/"+page], all["admin/"+page]
		if !strings.Contains(anon, `href="/login"`) || !strings.Contains(anon, `href="/signup"`) {
			t.Errorf("%s: anonymous nav lacks log in / sign up", page)
		}
		if strings.Contains(anon, `action="/logout"`) {
			t.Errorf("%s: anonymous nav shows log out", page)
		}
		if strings.Contains(anon, `href="/admin/"`) || strings.Contains(user, `href="/admin/"`) {
			t.Errorf("%s: Admin link shown to a non-administrator", page)
		}
		if !strings.Contains(admin, `href="/admin/"`) {
			t.Errorf("%s: Admin link missing for an administrator", page)
		}
		for _, html := range []string{user, admin} {
			if !strings.Contains(html, `href="/profile"`) || !strings.Contains(html, `action="/logout"`) {
				t.Errorf("%s: signed-in nav lacks profile or log out", page)
			}
		}
	}
}

func TestProviderButtonsPostToTheirLoginPath(t *testing.T) {
	html := pages(t)["anon/login"]
	for _, want := range []string{
		`<form method="post" action="/auth/github/login">`,
		`<form method="post" action="/auth/company-sso/login">`,
		`Log in with GitHub`,
		`Log in with &lt;Company&gt; SSO`,
		`<input type="hidden" name="next" value="/profile?x=&lt;y&gt;">`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
}

func TestProfileSessionForms(t *testing.T) {
	html := pages(t)["user/profile"]
	for _, want := range []string{
		`action="/profile/password"`,
		`name="current_password"`,
		`action="/profile/sessions/a%2Fb/delete"`,
		`<input type="hidden" name="scope" value="others">`,
		`<input type="hidden" name="scope" value="all">`,
		`id="connections"`,
		`No linked accounts yet.`,
		`This device`,
		`4 Jan 2025`,
		`aria-invalid="true"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("profile page lacks %s", want)
		}
	}
	if strings.Contains(html, `/profile/sessions/cur/delete`) {
		t.Error("the current session has an End button")
	}
	if !strings.Contains(html, ">"+strings.Repeat("x", 59)+"…</span>") {
		t.Error("long user agent not shortened")
	}
	noPassword := testProfile()
	noPassword.HasPassword = false
	if html := render(t, ProfilePage(testPage(nil), noPassword)); strings.Contains(html, `name="current_password"`) {
		t.Error("current_password asked of a user without a password")
	}
}

func TestSignupFieldErrorsAreDescribed(t *testing.T) {
	html := pages(t)["anon/signup"]
	for _, want := range []string{
		`aria-describedby="email-error"`,
		`aria-describedby="password-error password-help"`,
		`id="password-help"`,
		`minlength="8"`,
		`autocomplete="new-password"`,
		`Bad &lt;b&gt;email&lt;/b&gt;.`,
		`Something &lt;i&gt;broke&lt;/i&gt;.`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("signup page lacks %s", want)
		}
	}
}

func TestOutputIsEscapedAndNeedsNoInlineScriptOrStyle(t *testing.T) {
	for name, html := range pages(t) {
		if strings.Contains(html, "<script") {
			t.Errorf("%s: contains <script (unescaped input or inline script)", name)
		}
		if strings.Contains(html, " style=") {
			t.Errorf("%s: contains an inline style attribute", name)
		}
		if strings.Contains(html, "alert(1)") && !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;@x.test") {
			t.Errorf("%s: hostile email not escaped", name)
		}
	}
	if html := pages(t)["user/home"]; !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;@x.test") {
		t.Error("signed-in email not shown in the header")
	}
}

func TestErrorPage(t *testing.T) {
	html := render(t, ErrorPage(testPage(nil), 429, "Too many requests", "Wait a minute."))
	for _, want := range []string{"429", "Too many requests", "Wait a minute.", `href="/"`, "<title>Test · Dancecard</title>"} {
		if !strings.Contains(html, want) {
			t.Errorf("error page lacks %s", want)
		}
	}
}

func TestAssetVersion(t *testing.T) {
	v := AssetVersion()
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(v) {
		t.Fatalf("AssetVersion() = %q, want 12 hex digits", v)
	}
	if AssetVersion() != v {
		t.Fatal("AssetVersion changed between calls")
	}
	for _, name := range []string{"static/style.css", "static/favicon.svg"} {
		if _, err := StaticFS.Open(name); err != nil {
			t.Errorf("StaticFS lacks %s: %v", name, err)
		}
	}
}

func TestShortDevice(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "Unknown device"},
		{"curl/8.0", "curl"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0", "Edge on Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox on macOS"},
		{"SomeBot 1.0", "SomeBot 1.0"},
		{strings.Repeat("é", 60), strings.Repeat("é", 60)},
		{strings.Repeat("é", 61), strings.Repeat("é", 59) + "…"},
	}
	for _, tt := range tests {
		if got := shortDevice(tt.in); got != tt.want {
			t.Errorf("shortDevice(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
