package web

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dancecard/dancecard/internal/i18n"
)

// MailData is what one outgoing mail shows. It never holds a secret except
// inside LinkURL, which the mail sender mints just before sending.
type MailData struct {
	Kind          string            // verify_email | email_change | password_reset | login_unlock | signup_exists | notice
	To            string            // the address the mail goes to, named in its text
	Data          map[string]string // per kind: email_change "old_email"; notice "notice", "at" and the notice's own keys (see noticeSpecs)
	LinkURL       string            // the one-time link; "" when the mail has none
	LinkExpiresAt time.Time         // when LinkURL stops working; zero leaves the time out
	BaseURL       string            // e.g. http://127.0.0.1:8080, for links without secrets (log in, forgot password, profile)
	Lang          string            // the language to write it in ("en", "de"); anything else is English
}

// textWidth is where the plain-text part wraps its prose; links are never cut.
const textWidth = 72

// RenderMail renders one mail's subject, plain-text part and HTML part. Both
// parts come from one mailContent, so they always say the same thing. An
// unknown kind or notice, missing data or recipient, or a link or base URL
// that is not an absolute http(s) URL is an error; rendering the same data again fails the
// same way, so the sender should not retry it.
func RenderMail(m MailData) (subject, text, html string, err error) {
	l := i18n.Embedded().Localizer(m.Lang)
	c, err := mailContentFor(l, m)
	if err != nil {
		return "", "", "", err
	}
	var buf bytes.Buffer
	if err := mailHTML(c).Render(i18n.With(context.Background(), l), &buf); err != nil {
		return "", "", "", fmt.Errorf("web: render %s mail: %w", m.Kind, err)
	}
	return c.Subject, mailText(c), buf.String(), nil
}

// mailContent is one mail as words, before it becomes text or HTML.
type mailContent struct {
	Subject string
	Heading string
	Intro   []mailPara // before the link
	Action  string     // the button's label ("Confirm email address"); "" for mails without a one-time link
	Link    string     // the one-time link the button opens
	Expires string     // a sentence saying until when the link works
	Outro   []mailPara // after the link
	Reason  string     // the footer: why this mail came to this address
	BaseURL string     // the site, named in the footer
}

// mailPara is a paragraph of prose, optionally followed by a link on a line
// of its own.
type mailPara struct {
	Text string
	URL  string
}

// mailText lays a mail out as plain text: prose wrapped at textWidth, every
// link on a line of its own so that mail clients keep it whole and clickable,
// and the footer after the conventional "-- " signature line.
func mailText(c mailContent) string {
	var b strings.Builder
	b.WriteString("Dancecard\n\n")
	b.WriteString(wrap(c.Heading, textWidth) + "\n\n")
	writeParas(&b, c.Intro)
	if c.Link != "" {
		writeParas(&b, []mailPara{{Text: c.Action + ":", URL: c.Link}})
		if c.Expires != "" {
			writeParas(&b, []mailPara{{Text: c.Expires}})
		}
	}
	writeParas(&b, c.Outro)
	b.WriteString("-- \n")
	b.WriteString(wrap(c.Reason, textWidth) + "\n")
	b.WriteString("Dancecard · " + c.BaseURL + "\n")
	return b.String()
}

func writeParas(b *strings.Builder, ps []mailPara) {
	for _, p := range ps {
		if p.Text != "" {
			b.WriteString(wrap(p.Text, textWidth) + "\n")
		}
		if p.URL != "" {
			b.WriteString(p.URL + "\n")
		}
		b.WriteString("\n")
	}
}

// wrap breaks prose into lines of at most width characters at spaces. A word
// longer than a line, such as a URL, gets a line to itself rather than being
// cut. Runs of white space, line breaks included, become one space, so data
// cannot add lines of its own.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		l := utf8.RuneCountInString(w)
		switch {
		case n == 0:
		case n+1+l > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += l
	}
	return b.String()
}

// mailTime writes a time for a mail: in UTC, since the server does not know
// the reader's zone, and with the zone named, e.g. "4 Mar 2025 at 10:30 UTC".
func mailTime(l *i18n.Localizer, t time.Time) string {
	return l.T("time.mail", i18n.Data{"Date": localDate(l, t), "Time": t.UTC().Format("15:04")})
}

// oneLine makes a subject a single line of single spaces, whatever the data
// put into it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// absoluteURL tells whether a mail may link to raw: mail has no page to be
// relative to, so only absolute http(s) URLs will do.
func absoluteURL(raw string) bool {
	return webURL(raw) != "" && !strings.HasPrefix(strings.TrimSpace(raw), "/")
}
