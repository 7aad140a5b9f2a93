package web

import "strings"

// Events record their reason as the code wrote it: a short phrase ("wrong
// password") or a Go error chain ("oauth: finish devhub: token endpoint:
// oauth: provider unreachable"). The admin pages say it in a sentence and
// keep the recorded text one click away.

// reasonTexts maps what a recorded reason contains to what it means. In an
// error chain the innermost cause (the last match) is the one that says
// what happened.
var reasonTexts = []struct{ recorded, text string }{
	// Password, passkey and second-step log-ins (internal/accounts).
	{"wrong password on re-authentication", "The password was wrong when confirming who they are."},
	{"wrong password", "The password was wrong."},
	{"unknown email", "No account has this email address."},
	{"malformed email or password", "The email address or password could not be read."},
	{"account disabled", "The account is disabled."},
	{"email not verified", "The email address is not verified yet, and this server requires it."},
	{"passkey on re-authentication", "A passkey was refused when confirming who they are."},
	{"signature counter went back", "The passkey's signature counter went back: it may have been copied."},
	{"unknown credential, or another account's", "The passkey is unknown here, or belongs to another account."},
	{"wrong or used recovery code", "The recovery code was wrong or already used."},
	{"code already used", "The code from the authenticator app was already used."},
	{"wrong code", "The code from the authenticator app was wrong."},
	{"malformed code", "The code could not be read."},
	{"no authenticator app", "No authenticator app is set up."},
	// Provider dances (internal/links and internal/oauth).
	{"links: account disabled", "The account is disabled."},
	{"links: unknown or disabled provider", "The provider is unknown or switched off."},
	{"links: invalid scope requested", "A scope the provider does not offer was asked for."},
	{"links: unknown, used or tampered dance state", "The provider's answer did not match an attempt in progress (used already, altered or forged)."},
	{"links: dance expired", "The attempt took longer than 10 minutes and expired."},
	{"links: dance started in another browser or session", "The attempt was started in another browser or session."},
	{"links: provider account linked to another user", "That provider account is linked to another user."},
	{"links: provider account not linked to any user", "That provider account is not linked to any account here."},
	{"links: the provider's email belongs to an existing account", "The provider's email address belongs to another account here."},
	{"links: would remove the last way to log in", "It would have removed the last way to log in."},
	{"links: an authorized hook declined to store the token", "This server's Authorized hook declined it."},
	{"links: provider account is not one linked to this user", "The provider account is not one of this user's."},
	{"oauth: the user denied access", "The person declined access at the provider."},
	{"oauth: invalid callback", "The provider's answer was malformed."},
	{"oauth: the provider's profile has no user id", "The provider's profile had no user id."},
	{"oauth: provider unreachable", "The provider could not be reached."},
	{"oauth: the provider did not answer in time", "The provider did not answer in time."},
	{"oauth: provider is misconfigured", "The provider's configuration here is incomplete or wrong."},
	{"oauth: no refresh token", "There was no refresh token to renew the access with."},
	// Connections (internal/links).
	{"access token about to expire", "The access token is about to expire."},
	{"the provider refused the access token", "The provider refused the access token."},
	{"the provider refused the refresh token", "The provider refused the refresh token."},
	{"access token refreshed", "The access token was renewed."},
	{"made primary", "The user made it their primary account at the provider, the one API calls use by default."},
	{"removed by an administrator", "An administrator removed it."},
	{"account deleted", "The account was deleted."},
	{"account claimed by a proven owner of its email", "Someone who proved they own the email address claimed the account."},
}

// reasonText is what a recorded reason means, in a sentence, or "" when
// there is no better way to say it than the recorded text itself. The
// match that ends last wins (the innermost cause of an error chain), and
// of those the longest ("wrong password on re-authentication" over
// "wrong password").
func reasonText(recorded string) string {
	text, end, size := "", -1, 0
	for _, r := range reasonTexts {
		i := strings.LastIndex(recorded, r.recorded)
		if i < 0 {
			continue
		}
		if e := i + len(r.recorded); e > end || (e == end && len(r.recorded) > size) {
			text, end, size = r.text, e, len(r.recorded)
		}
	}
	return text
}
