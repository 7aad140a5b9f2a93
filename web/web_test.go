package web

import (
	"bytes"
	"context"
	"io"
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
		PasswordForm:     PasswordForm{Errors: map[string]string{"new_password": "Too short."}, Error: "Try again."},
		Connections:      testConnections(),
		ConnectProviders: []ProviderButton{{ID: "github", Name: "GitHub"}, {ID: "company-sso", Name: "<Company> SSO"}},
	}
}

// testConnections are two GitHub accounts (the second needing reconnecting)
// and one account whose provider sent hostile markup and a javascript: URL.
func testConnections() []Connection {
	now := time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)
	used := now.Add(-2 * time.Hour)
	return []Connection{
		{
			ID: "c1", Provider: "github", ProviderName: "GitHub", Username: "octo", Name: "Octo Cat",
			ProfileURL: "https://github.com/octo", AvatarURL: "https://avatars.example/octo.png", Email: "octo@example.com",
			Scopes: []string{"read:user", "repo"}, Status: "active", Primary: true, CreatedAt: now.AddDate(0, -1, 0), LastUsedAt: &used,
		},
		{
			ID: "c2", Provider: "github", ProviderName: "GitHub", Username: "octo-work",
			Scopes: []string{"read:org"}, Status: "needs_reauth", CreatedAt: now.AddDate(0, 0, -3),
		},
		{
			ID: "c-3", Provider: "evil", ProviderName: "Evil", Username: "<script>alert(2)</script>",
			Name: "<script>alert(3)</script>", ProfileURL: "javascript:alert(4)", AvatarURL: "javascript:alert(5)",
			Status: "revoked", CreatedAt: now.AddDate(0, 0, -1),
		},
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
		out[who+"/profile"] = render(t, ProfileConnectionsPage(p, testProfile()))
		out[who+"/profile-security"] = render(t, ProfileSecurityPage(p, testProfile()))
		out[who+"/profile-tokens"] = render(t, ProfileTokensPage(p, testProfile()))
		out[who+"/profile-account"] = render(t, ProfileAccountPage(p, testProfile()))
		out[who+"/error"] = render(t, ErrorPage(p, 404, "Page not found", "No page <here>."))
		for name, html := range accountPages(t, p) {
			out[who+"/"+name] = html
		}
		for name, html := range mfaPages(t, p) {
			out[who+"/"+name] = html
		}
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
	for _, page := range []string{"home", "signup", "login", "profile", "profile-security", "profile-tokens", "profile-account", "error"} {
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
	html := pages(t)["user/profile-security"]
	for _, want := range []string{
		`action="/profile/password"`,
		`name="current_password"`,
		`action="/profile/sessions/a%2Fb/delete"`,
		`<input type="hidden" name="scope" value="others">`,
		`<input type="hidden" name="scope" value="all">`,
		`This device`,
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
	if html := render(t, wholeProfile(testPage(nil), noPassword)); strings.Contains(html, `name="current_password"`) {
		t.Error("current_password asked of a user without a password")
	}
}

func TestProfileWithoutConnections(t *testing.T) {
	v := testProfile()
	v.Connections = nil
	html := render(t, wholeProfile(testPage(nil), v))
	for _, want := range []string{`id="connections"`, `No linked accounts yet.`, `action="/auth/github/connect"`} {
		if !strings.Contains(html, want) {
			t.Errorf("profile without connections lacks %s", want)
		}
	}
	for _, unwanted := range []string{`/connections/`, `Reconnect`, `class="connection-list"`} {
		if strings.Contains(html, unwanted) {
			t.Errorf("profile without connections shows %s", unwanted)
		}
	}
	v.ConnectProviders = nil
	if html := render(t, wholeProfile(testPage(nil), v)); strings.Contains(html, `/connect"`) || !strings.Contains(html, "No providers are set up") {
		t.Error("profile without providers offers to connect one")
	}
}

// formsTo returns the bodies of the POST forms whose action is action.
func formsTo(html, action string) []string {
	var out []string
	for _, m := range formRE.FindAllStringSubmatch(html, -1) {
		if strings.Contains(m[1], `method="post"`) && strings.Contains(m[1], `action="`+action+`"`) {
			out = append(out, m[2])
		}
	}
	return out
}

func TestProfileWithOneConnection(t *testing.T) {
	v := testProfile()
	v.Connections = v.Connections[:1]
	html := render(t, wholeProfile(testPage(nil), v))
	if strings.Contains(html, "No linked accounts yet.") {
		t.Error("empty text shown beside a connection")
	}
	if forms := formsTo(html, "/connections/c1/delete"); len(forms) != 1 {
		t.Errorf("want one disconnect form for c1, got %d", len(forms))
	}
	for _, want := range []string{
		`aria-label="Disconnect GitHub account @octo"`,
		`@octo`,
		`<a href="https://github.com/octo" rel="noopener noreferrer nofollow">Octo Cat</a>`,
		`src="https://avatars.example/octo.png" alt="" width="40" height="40"`,
		`<li class="chip">read:user</li>`,
		`<li class="chip">repo</li>`,
		`Active`,
		`Linked <time datetime="2025-02-04T10:30:00Z" data-precision="day" title="4 Feb 2025, 10:30 UTC">4 Feb 2025 UTC</time>`,
		`Last used <time datetime="2025-03-04T08:30:00Z" title="4 Mar 2025, 08:30 UTC">4 Mar 2025, 08:30 UTC</time>`,
		`octo@example.com`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("profile with one connection lacks %s", want)
		}
	}
	// One account at a provider is not "Primary" among others; an active one needs no reconnecting.
	for _, unwanted := range []string{`>Primary<`, `Reconnect`} {
		if strings.Contains(html, unwanted) {
			t.Errorf("profile with one active connection shows %s", unwanted)
		}
	}
	// Only the "Link another account" forms post to the connect path.
	if forms := formsTo(html, "/auth/github/connect"); len(forms) != 2 {
		t.Errorf("want 2 GitHub connect forms (plain and with scopes), got %d", len(forms))
	}
}

func TestProfileWithSeveralConnections(t *testing.T) {
	html := pages(t)["user/profile"]
	csrf := `<input type="hidden" name="csrf_token" value="` + testToken + `">`
	next := `<input type="hidden" name="next" value="/profile">`
	for _, id := range []string{"c1", "c2", "c-3"} {
		forms := formsTo(html, "/connections/"+id+"/delete")
		if len(forms) != 1 {
			t.Errorf("want one disconnect form for %s, got %d", id, len(forms))
			continue
		}
		if !strings.Contains(forms[0], csrf) {
			t.Errorf("disconnect form for %s lacks the csrf field", id)
		}
	}
	// Reconnect: only for c2 (needs_reauth, GitHub) and c-3 (revoked, evil).
	if n := strings.Count(html, ">Reconnect</button>"); n != 2 {
		t.Errorf("want 2 Reconnect buttons, got %d", n)
	}
	for _, want := range []string{
		`aria-label="Reconnect GitHub account @octo-work"`,
		`aria-label="Reconnect Evil account @&lt;script&gt;alert(2)&lt;/script&gt;"`,
		`Your access expired or was revoked at GitHub; reconnect to keep using it.`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("profile lacks %s", want)
		}
	}
	if strings.Contains(html, `Reconnect GitHub account @octo"`) {
		t.Error("the active connection has a Reconnect button")
	}
	// Reconnecting renews the connection itself (its account preselected).
	if f := formsTo(html, "/connections/c-3/reconnect"); len(f) != 1 || !strings.Contains(f[0], csrf) || !strings.Contains(f[0], "Reconnect") {
		t.Errorf("reconnect form for evil lacks csrf or its button: %v", f)
	}
	// Connect: a button (another account at a provider already linked)
	// and a with-scopes form per provider, all back to /profile.
	for _, pr := range []struct{ id, button string }{{"github", "Connect another GitHub account</button>"},
		{"company-sso", "<span>Connect &lt;Company&gt; SSO</span>"}} {
		forms := formsTo(html, "/auth/"+pr.id+"/connect")
		var plain, scoped int
		for _, f := range forms {
			if !strings.Contains(f, csrf) || !strings.Contains(f, next) {
				t.Errorf("connect form for %s lacks csrf or next: %s", pr.id, f)
			}
			if strings.Contains(f, pr.button) {
				plain++
			}
			if strings.Contains(f, `name="scopes"`) && strings.Contains(f, "Extra scopes for ") {
				scoped++
			}
		}
		if plain != 1 || scoped != 1 {
			t.Errorf("%s: want 1 Connect button and 1 scopes form, got %d and %d", pr.id, plain, scoped)
		}
	}
	for _, want := range []string{
		`<li class="chip">read:org</li>`,
		`no scopes`,
		`>Primary</span>`,
		`>Active</span>`,
		`>Needs reconnecting</span>`,
		`>Revoked</span>`,
		`Never used`,
		`&lt;script&gt;alert(3)&lt;/script&gt;`,
		`Ask for more permissions`,
		`The provider decides what it grants; this page shows what it did.`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("profile lacks %s", want)
		}
	}
	if n := strings.Count(html, ">Primary</span>"); n != 1 {
		t.Errorf("want exactly one Primary badge, got %d", n)
	}
	if strings.Contains(strings.ToLower(html), "javascript:") {
		t.Error("a javascript: URL reached the page")
	}
}

func TestWebURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/octo": "https://github.com/octo",
		"HTTP://x.test/a":         "HTTP://x.test/a",
		"/dev/avatar.png":         "/dev/avatar.png",
		"javascript:alert(1)":     "",
		" JavaScript:alert(1)":    "",
		"data:image/png;base64,":  "",
		"//evil.test/x":           "",
		"/\\evil.test/x":          "",
		"https:///nohost":         "",
		"":                        "",
	} {
		if got := webURL(in); got != want {
			t.Errorf("webURL(%q) = %q, want %q", in, got, want)
		}
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

// staticScript is a script tag for one of the site's own files.
var staticScript = regexp.MustCompile(`<script src="/static/[a-z]+\.js\?v=abc123" defer></script>`)

func TestOutputIsEscapedAndNeedsNoInlineScriptOrStyle(t *testing.T) {
	for name, html := range pages(t) {
		// The only scripts allowed: the site's own files, from 'self'.
		html = staticScript.ReplaceAllString(html, "")
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

// wholeProfile renders every page of the profile, one after the other, for
// tests that look for something wherever it now lives.
func wholeProfile(p Page, v Profile) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		for _, c := range []templ.Component{ProfileConnectionsPage(p, v), ProfileSecurityPage(p, v),
			ProfileTokensPage(p, v), ProfileAccountPage(p, v)} {
			if err := c.Render(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}
