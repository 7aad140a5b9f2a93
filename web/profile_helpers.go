package web

import (
	"context"
	"net/url"

	"github.com/a-h/templ"

	"github.com/dancecard/dancecard/internal/i18n"
)

// connectionActionURL is the path of an action on one linked account:
// "check", "primary" or "reconnect".
func connectionActionURL(id, action string) templ.SafeURL {
	return templ.URL("/connections/" + url.PathEscape(id) + "/" + action)
}

// providerGroupID is the id of a provider's group on the connections page.
func providerGroupID(providerID string) string {
	return "provider-" + url.PathEscape(providerID)
}

// accountTitle is how a linked account is headed: its username, else its
// name, else its email, else plainly as an account.
func accountTitle(ctx context.Context, c Connection) string {
	switch {
	case c.Username != "":
		return "@" + c.Username
	case c.Name != "":
		return c.Name
	case c.Email != "":
		return c.Email
	}
	return t(ctx, "profile.conn.provider_account", i18n.Data{"Provider": c.ProviderName})
}

// lastCheckFailed tells whether the last check found a problem: a failed
// check records its problem at the moment it records the check.
func lastCheckFailed(c Connection) bool {
	return c.CheckedAt != nil && c.LastErrorAt != nil && c.LastErrorAt.Equal(*c.CheckedAt)
}

// ProblemText says in a sentence, in the language of ctx, what a
// connection's last error (a links Problem code, with the provider's detail
// in brackets) means.
func ProblemText(ctx context.Context, code, detail, provider string) string {
	d := i18n.Data{"Provider": provider}
	var s string
	switch code {
	case "token_refused":
		s = t(ctx, "problem.token_refused", d)
	case "refresh_refused":
		s = t(ctx, "problem.refresh_refused", d)
	case "needs_reauth":
		s = t(ctx, "problem.needs_reauth", d)
	case "unreachable":
		s = t(ctx, "problem.unreachable", d)
	case "provider_error":
		s = t(ctx, "problem.provider_error", d)
	case "bad_profile":
		s = t(ctx, "problem.bad_profile", d)
	case "wrong_account":
		s = t(ctx, "problem.wrong_account", d)
	case "misconfigured":
		s = t(ctx, "problem.misconfigured", d)
	default:
		s = t(ctx, "problem.unknown", d)
	}
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s + "."
}
