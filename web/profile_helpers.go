package web

import (
	"net/url"

	"github.com/a-h/templ"
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
func accountTitle(c Connection) string {
	switch {
	case c.Username != "":
		return "@" + c.Username
	case c.Name != "":
		return c.Name
	case c.Email != "":
		return c.Email
	}
	return c.ProviderName + " account"
}

// lastCheckFailed tells whether the last check found a problem: a failed
// check records its problem at the moment it records the check.
func lastCheckFailed(c Connection) bool {
	return c.CheckedAt != nil && c.LastErrorAt != nil && c.LastErrorAt.Equal(*c.CheckedAt)
}

// ProblemText says in a sentence what a connection's last error (a links
// Problem code, with the provider's detail in brackets) means.
func ProblemText(code, detail, provider string) string {
	var s string
	switch code {
	case "token_refused":
		s = provider + " refused the access token"
	case "refresh_refused":
		s = provider + " refused to renew the access token"
	case "needs_reauth":
		s = provider + " no longer accepts this connection's access"
	case "unreachable":
		s = provider + " could not be reached"
	case "provider_error":
		s = provider + " answered with an error"
	case "bad_profile":
		s = provider + " answered with something other than the account's profile"
	case "wrong_account":
		s = "The access now speaks for another " + provider + " account"
	case "misconfigured":
		s = "This server's settings for " + provider + " cannot make the call"
	default:
		s = "Something went wrong with " + provider
	}
	if detail != "" {
		s += " (" + detail + ")"
	}
	return s + "."
}
