package web

import (
	"cmp"
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// providerReauthURL is the path that confirms the signed-in user's identity
// with one of their linked providers.
func providerReauthURL(id string) templ.SafeURL {
	return templ.URL("/auth/" + url.PathEscape(id) + "/reauth")
}

// emailTakenError is the sign-up form's email error when an account already
// uses the address: the handler's words, or these.
func emailTakenError(ctx context.Context, f SignupForm) string {
	if msg := f.Errors["email"]; msg != "" {
		return msg
	}
	return t(ctx, "signup.email_in_use")
}

// deleteConfirmLabel says what to type to confirm deleting an account: its
// email address, or DELETE for an account without one.
func deleteConfirmLabel(ctx context.Context, email string) string {
	if email == "" {
		return t(ctx, "profile.delete.type_delete")
	}
	return t(ctx, "profile.delete.type_email")
}

// devMailURL and devMailHTMLURL are the dev mailbox's pages for one message.
func devMailURL(id int64) templ.SafeURL {
	return templ.SafeURL("/dev/mail/" + strconv.FormatInt(id, 10))
}

func devMailHTMLURL(id int64) templ.SafeURL {
	return templ.SafeURL("/dev/mail/" + strconv.FormatInt(id, 10) + "/html")
}

// newestFirst orders mail for the mailbox's list without touching the
// caller's slice; messages of the same second keep the newer ID on top.
func newestFirst(ms []DevMail) []DevMail {
	out := slices.Clone(ms)
	slices.SortStableFunc(out, func(a, b DevMail) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

// textSegment is a run of plain text or, when URL is set, a link whose text
// is the URL itself.
type textSegment struct {
	Text string
	URL  string
}

// urlRE finds http(s) URLs in plain text: up to the next white space or a
// character that cannot be part of one written out in prose.
var urlRE = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"]+`)

// linkify splits plain text into text and link segments, so a page can show
// a mail's text with its URLs clickable and everything else escaped as text.
// Punctuation that ends a sentence after a URL stays text, and so does a
// closing bracket that the URL did not open.
func linkify(s string) []textSegment {
	var out []textSegment
	last := 0
	for _, m := range urlRE.FindAllStringIndex(s, -1) {
		start, end := m[0], m[0]+len(trimURL(s[m[0]:m[1]]))
		if webURL(s[start:end]) == "" {
			continue
		}
		if start > last {
			out = append(out, textSegment{Text: s[last:start]})
		}
		out = append(out, textSegment{Text: s[start:end], URL: s[start:end]})
		last = end
	}
	if last < len(s) {
		out = append(out, textSegment{Text: s[last:]})
	}
	return out
}

// trimURL drops what prose puts after a URL: a full stop, a comma, a quote,
// or a bracket closing around it.
func trimURL(u string) string {
	for u != "" {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'*", last) >= 0:
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case last == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

// signupEmailError is the sign-up form's email error.
func signupEmailError(ctx context.Context, f SignupForm) string {
	if f.EmailTaken {
		return emailTakenError(ctx, f)
	}
	return f.Errors["email"]
}

// signupEmailMore follows the email error with ways in when the address
// already has an account.
func signupEmailMore(f SignupForm) templ.Component {
	if !f.EmailTaken {
		return nil
	}
	return emailTakenLinks()
}
