package web

import (
	"reflect"
	"strings"
	"testing"
)

func TestDevMailList(t *testing.T) {
	all := pages(t)
	if html := all["user/devmail-empty"]; !strings.Contains(html, "No mail yet. Sign up or ask for a password reset, and the message lands here.") ||
		!strings.Contains(html, "mail.smtp_url") {
		t.Error("empty mailbox lacks its empty-state text or dev-mode note")
	}
	html := all["user/devmail"]
	newest := strings.Index(html, `href="/dev/mail/3"`)
	middle := strings.Index(html, `href="/dev/mail/2"`)
	oldest := strings.Index(html, `href="/dev/mail/1"`)
	if newest < 0 || !(newest < middle && middle < oldest) {
		t.Errorf("mailbox not newest first: %d %d %d", newest, middle, oldest)
	}
	for _, want := range []string{"&lt;b&gt;Newest&lt;/b&gt;", "(no subject)", "4 Mar 2025, 12:30 UTC"} {
		if !strings.Contains(html, want) {
			t.Errorf("mailbox lacks %s", want)
		}
	}
}

func TestDevMailView(t *testing.T) {
	html := pages(t)["user/devmail-view"]
	for _, want := range []string{
		`Dancecard &lt;noreply@x.test&gt;`,
		`Confirm &lt;your&gt; address`,
		`<pre class="mail-text">Hello &lt;script&gt;alert(1)&lt;/script&gt;@x.test` + "\n\nConfirm:\n" +
			`<a href="http://127.0.0.1:8080/email/verify?token=a&amp;b=c">http://127.0.0.1:8080/email/verify?token=a&amp;b=c</a>` + "\n\n" +
			`(see <a href="https://x.test/help">https://x.test/help</a>).</pre>`,
		`<a class="btn btn-secondary" href="/dev/mail/7/html">View the HTML part</a>`,
		`Back to the mailbox`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("mail view lacks %s", want)
		}
	}
	if strings.Contains(html, "never shown here") {
		t.Error("mail view inlines the HTML part")
	}
}

func TestLinkify(t *testing.T) {
	type seg = textSegment
	link := func(u string) seg { return seg{Text: u, URL: u} }
	tests := []struct {
		in   string
		want []seg
	}{
		{"", nil},
		{"no links here", []seg{{Text: "no links here"}}},
		{"http://a.test", []seg{link("http://a.test")}},
		{"go to https://a.test/x?y=1&z=2.", []seg{{Text: "go to "}, link("https://a.test/x?y=1&z=2"), {Text: "."}}},
		{"(see http://a.test/wiki/Go_(lang)), then", []seg{{Text: "(see "}, link("http://a.test/wiki/Go_(lang)"), {Text: "), then"}}},
		{"a\nHTTPS://A.test/b\nc", []seg{{Text: "a\n"}, link("HTTPS://A.test/b"), {Text: "\nc"}}},
		{"two: http://a.test, http://b.test", []seg{{Text: "two: "}, link("http://a.test"), {Text: ", "}, link("http://b.test")}},
		{"not links: http:// javascript:alert(1) ftp://x.test <http://a.test>", []seg{
			{Text: "not links: http:// javascript:alert(1) ftp://x.test <"}, link("http://a.test"), {Text: ">"},
		}},
		{`"http://a.test/<script>"`, []seg{{Text: `"`}, link("http://a.test/"), {Text: `<script>"`}}},
	}
	for _, tt := range tests {
		if got := linkify(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("linkify(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}
