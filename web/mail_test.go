package web

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	testBase = "http://127.0.0.1:8080"
	testLink = "http://127.0.0.1:8080/email/verify?token=s3cr3t&x=1"
)

var testExpiry = time.Date(2025, 3, 4, 11, 30, 0, 0, time.UTC)

// testMails is one mail of every kind and every notice, with hostile data
// wherever data is shown.
func testMails() map[string]MailData {
	link := func(kind string, data map[string]string) MailData {
		return MailData{Kind: kind, To: evilEmail, Data: data, LinkURL: testLink, LinkExpiresAt: testExpiry, BaseURL: testBase + "/"}
	}
	notice := func(name string, data map[string]string) MailData {
		d := map[string]string{"notice": name, "at": "2025-03-04T11:30:00+01:00"}
		for k, v := range data {
			d[k] = v
		}
		return MailData{Kind: "notice", To: evilEmail, Data: d, BaseURL: testBase}
	}
	return map[string]MailData{
		"verify_email":         link("verify_email", nil),
		"email_change":         link("email_change", map[string]string{"old_email": "<b>old</b>@x.test"}),
		"email_change/first":   link("email_change", nil),
		"password_reset":       link("password_reset", nil),
		"login_unlock":         link("login_unlock", nil),
		"signup_exists":        {Kind: "signup_exists", To: evilEmail, BaseURL: testBase},
		"notice/pw_changed":    notice("password_changed", nil),
		"notice/pw_reset":      notice("password_reset", nil),
		"notice/email_changed": notice("email_changed", map[string]string{"new_email": "<i>new</i>@x.test"}),
		"notice/conn_added":    notice("connection_added", map[string]string{"provider": "<Git>Hub", "username": "<script>octo</script>"}),
		"notice/conn_removed":  notice("connection_removed", map[string]string{"provider": "GitHub"}),
		"notice/token_created": notice("token_created", map[string]string{"token_name": "<script>x</script>", "scope": "proxy"}),
		"notice/deleted":       notice("account_deleted", nil),
		"notice/mfa":           notice("mfa_changed", map[string]string{"detail": "TOTP <added>"}),
		"notice/mfa-no-detail": notice("mfa_changed", nil),
	}
}

func TestRenderMailEveryKind(t *testing.T) {
	for name, m := range testMails() {
		subject, text, html, err := RenderMail(m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if subject == "" || text == "" || html == "" {
			t.Errorf("%s: empty subject, text or html", name)
		}
		if strings.ContainsAny(subject, "\r\n") {
			t.Errorf("%s: subject spans lines: %q", name, subject)
		}
		for part, s := range map[string]string{"subject": subject, "text": text, "html": html} {
			for _, leftover := range []string{"{{", "%!", "<no value>", "{ ", "<nil>"} {
				if strings.Contains(s, leftover) {
					t.Errorf("%s: %s contains %q", name, part, leftover)
				}
			}
		}
		if m.LinkURL != "" {
			if !strings.Contains(text, "\n"+testLink+"\n") {
				t.Errorf("%s: text lacks the link on a line of its own", name)
			}
			if !strings.Contains(html, `href="`+strings.ReplaceAll(testLink, "&", "&amp;")+`"`) {
				t.Errorf("%s: html lacks the link", name)
			}
			for _, part := range []string{text, html} {
				if !strings.Contains(part, "until 4 Mar 2025 at 11:30 UTC") {
					t.Errorf("%s: the link's expiry is missing", name)
				}
			}
		} else if strings.Contains(text+html, "s3cr3t") {
			t.Errorf("%s: a link-less mail shows a secret", name)
		}
		if strings.Contains(name, "notice/") && !strings.Contains(oneLine(text), "on 4 Mar 2025 at 10:30 UTC.") {
			t.Errorf("%s: text lacks when it happened, in UTC", name)
		}
		checkText(t, name, text)
		checkHTML(t, name, html)
		if m.Kind != "notice" && !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;@x.test") {
			t.Errorf("%s: html does not name the address, escaped", name)
		}
	}
}

// checkText checks the plain-text part: wrapped prose, and the signature
// line before the footer.
func checkText(t *testing.T, name, text string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if utf8.RuneCountInString(line) > textWidth && strings.Contains(line, " ") {
			t.Errorf("%s: text line longer than %d: %q", name, textWidth, line)
		}
	}
	if !strings.Contains(text, "\n-- \n") || !strings.Contains(text, "You got this mail because") {
		t.Errorf("%s: text lacks the footer", name)
	}
}

var (
	tagRE   = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>`)
	voidTag = map[string]bool{"meta": true, "br": true, "img": true, "hr": true, "input": true, "link": true}
)

// checkHTML checks the HTML part: a whole document whose elements nest and
// close, with the brand, a footer and no user data left unescaped. (The
// module has no HTML parser among its direct dependencies, and one test is
// no reason to add one; templ escapes '<' and '>' in text and attributes, so
// matching tags is exact here.)
func checkHTML(t *testing.T, name, html string) {
	t.Helper()
	if !strings.HasPrefix(html, "<!doctype html><html lang=\"en\">") || !strings.HasSuffix(html, "</html>") {
		t.Errorf("%s: html is not one document", name)
	}
	var open []string
	for _, m := range tagRE.FindAllStringSubmatch(html, -1) {
		tag := strings.ToLower(m[2])
		switch {
		case voidTag[tag]:
		case m[1] == "":
			open = append(open, tag)
		case len(open) == 0 || open[len(open)-1] != tag:
			t.Errorf("%s: </%s> closes %v", name, tag, open)
			return
		default:
			open = open[:len(open)-1]
		}
	}
	if len(open) != 0 {
		t.Errorf("%s: unclosed elements %v", name, open)
	}
	for _, want := range []string{">Dancecard</p>", "You got this mail because"} {
		if !strings.Contains(html, want) {
			t.Errorf("%s: html lacks %s", name, want)
		}
	}
	for _, bad := range []string{"<script", "<b>", "<i>", "<Git>", "<added>"} {
		if strings.Contains(html, bad) {
			t.Errorf("%s: html contains unescaped %s", name, bad)
		}
	}
	if strings.Contains(html, "<style") || strings.Contains(html, "<link") || strings.Contains(html, "<table") {
		t.Errorf("%s: html uses a stylesheet or a table", name)
	}
}

func TestRenderMailSays(t *testing.T) {
	mails := testMails()
	for name, wants := range map[string][]string{
		"verify_email":         {"Confirm your email address", "If you did not sign up"},
		"email_change":         {"Confirm your new email address", "&lt;b&gt;old&lt;/b&gt;@x.test"},
		"email_change/first":   {"Confirm your new email address", "to your Dancecard account"},
		"password_reset":       {"Reset your Dancecard password", "your password stays the same"},
		"login_unlock":         {"Unlock log-in to your account", testBase + "/password/forgot"},
		"signup_exists":        {"Someone tried to sign up with your address", testBase + "/login", testBase + "/password/forgot"},
		"notice/pw_changed":    {"password of your Dancecard account was changed", testBase + "/password/forgot", "administrator"},
		"notice/email_changed": {"&lt;i&gt;new&lt;/i&gt;@x.test", "contact an administrator"},
		"notice/conn_added":    {"&lt;Git&gt;Hub account &lt;script&gt;octo&lt;/script&gt; was linked", testBase + "/profile"},
		"notice/conn_removed":  {"GitHub account was unlinked"},
		"notice/token_created": {"&lt;script&gt;x&lt;/script&gt;", "proxy"},
		"notice/deleted":       {"account", "were deleted", "contact an administrator"},
		"notice/mfa":           {"TOTP &lt;added&gt;"},
	} {
		subject, _, html, err := RenderMail(mails[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, want := range wants {
			if !strings.Contains(subject+html, want) {
				t.Errorf("%s: lacks %q", name, want)
			}
		}
	}
	// Reset links would now go to the new address; an account that is gone
	// cannot be reset: neither notice sends the reader to reset.
	for _, name := range []string{"notice/email_changed", "notice/deleted"} {
		if _, text, _, _ := RenderMail(mails[name]); strings.Contains(text, "/password/forgot") {
			t.Errorf("%s: advises a password reset that cannot help", name)
		}
	}
}

func TestRenderMailText(t *testing.T) {
	_, text, _, err := RenderMail(testMails()["password_reset"])
	if err != nil {
		t.Fatal(err)
	}
	want := "Dancecard\n\nReset your Dancecard password\n\n" +
		"Someone, hopefully you, asked to reset the password of the Dancecard\n" +
		"account for <script>alert(1)</script>@x.test. Choose a new password with\n" +
		"this link.\n\n" +
		"Choose a new password:\n" + testLink + "\n\n" +
		"This link works once, until 4 Mar 2025 at 11:30 UTC.\n\n" +
		"If you did not ask for this, ignore this mail: your password stays the\nsame.\n\n" +
		"-- \nYou got this mail because a password reset was asked for this address at\n" + testBase + ".\n" +
		"Dancecard · " + testBase + "\n"
	if text != want {
		t.Errorf("text part:\n%s\nwant:\n%s", text, want)
	}
}

func TestRenderMailRefuses(t *testing.T) {
	ok := testMails()
	tests := map[string]func(m *MailData){
		"unknown kind": func(m *MailData) { m.Kind = "welcome" },
		"empty kind":   func(m *MailData) { m.Kind = "" },
		"unknown notice": func(m *MailData) {
			m.Kind, m.Data = "notice", map[string]string{"notice": "weather", "at": "2025-03-04T10:30:00Z"}
		},
		"notice without at": func(m *MailData) { m.Kind, m.Data = "notice", map[string]string{"notice": "password_changed"} },
		"notice bad at": func(m *MailData) {
			m.Kind, m.Data = "notice", map[string]string{"notice": "password_changed", "at": "yesterday"}
		},
		"notice lacks data": func(m *MailData) {
			m.Kind, m.Data = "notice", map[string]string{"notice": "email_changed", "at": "2025-03-04T10:30:00Z"}
		},
		"no link":         func(m *MailData) { m.LinkURL = "" },
		"relative link":   func(m *MailData) { m.LinkURL = "/email/verify?token=x" },
		"javascript link": func(m *MailData) { m.LinkURL = "javascript:alert(1)" },
		"no base URL":     func(m *MailData) { m.BaseURL = "" },
		"no recipient":    func(m *MailData) { m.To = " " },
	}
	for name, change := range tests {
		m := ok["verify_email"]
		change(&m)
		if _, _, _, err := RenderMail(m); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"", 10, ""},
		{"one two three", 7, "one two\nthree"},
		{"one  two\nthree", 20, "one two three"},
		{"a https://very.long.example/url/that/does/not/fit b", 10, "a\nhttps://very.long.example/url/that/does/not/fit\nb"},
		{"héllo wörld", 11, "héllo wörld"},
	}
	for _, tt := range tests {
		if got := wrap(tt.in, tt.width); got != tt.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}
