package web

import (
	"context"
	"strings"

	"github.com/dancecard/dancecard/internal/i18n"
)

// Events record their reason as the code wrote it: a short phrase ("wrong
// password") or a Go error chain ("oauth: finish devhub: token endpoint:
// oauth: provider unreachable"). The admin pages say it in a sentence and
// keep the recorded text one click away.

// reasonTexts maps what a recorded reason contains to the message that says
// what it means. In an
// error chain the innermost cause (the last match) is the one that says
// what happened.
var reasonTexts = []struct{ recorded, id string }{
	// Password, passkey and second-step log-ins (internal/accounts).
	{"wrong password on re-authentication", i18n.ID("reason.wrong_password_reauth")},
	{"wrong password", i18n.ID("reason.wrong_password")},
	{"unknown email", i18n.ID("reason.unknown_email")},
	{"malformed email or password", i18n.ID("reason.malformed_login")},
	{"account disabled", i18n.ID("reason.account_disabled")},
	{"email not verified", i18n.ID("reason.email_not_verified")},
	{"passkey on re-authentication", i18n.ID("reason.passkey_reauth")},
	{"signature counter went back", i18n.ID("reason.counter_went_back")},
	{"unknown credential, or another account's", i18n.ID("reason.unknown_credential")},
	{"wrong or used recovery code", i18n.ID("reason.wrong_or_used_recovery_code")},
	{"code already used", i18n.ID("reason.code_already_used")},
	{"wrong code", i18n.ID("reason.wrong_code")},
	{"malformed code", i18n.ID("reason.malformed_code")},
	{"no authenticator app", i18n.ID("reason.no_authenticator_app")},
	// Provider dances (internal/links and internal/oauth).
	{"links: unknown or disabled provider", i18n.ID("reason.links_unknown_provider")},
	{"links: invalid scope requested", i18n.ID("reason.links_invalid_scope")},
	{"links: unknown, used or tampered dance state", i18n.ID("reason.links_bad_state")},
	{"links: dance expired", i18n.ID("reason.links_dance_expired")},
	{"links: dance started in another browser or session", i18n.ID("reason.links_other_browser")},
	{"links: provider account linked to another user", i18n.ID("reason.links_linked_to_other")},
	{"links: provider account not linked to any user", i18n.ID("reason.links_not_linked")},
	{"links: the provider's email belongs to an existing account", i18n.ID("reason.links_email_taken")},
	{"links: would remove the last way to log in", i18n.ID("reason.links_last_login_method")},
	{"links: an authorized hook declined to store the token", i18n.ID("reason.links_hook_declined")},
	{"links: provider account is not one linked to this user", i18n.ID("reason.links_not_this_user")},
	{"oauth: the user denied access", i18n.ID("reason.oauth_denied")},
	{"oauth: invalid callback", i18n.ID("reason.oauth_invalid_callback")},
	{"oauth: the provider's profile has no user id", i18n.ID("reason.oauth_no_user_id")},
	{"oauth: provider unreachable", i18n.ID("reason.oauth_provider_unreachable")},
	{"oauth: the provider did not answer in time", i18n.ID("reason.oauth_timeout")},
	{"oauth: provider is misconfigured", i18n.ID("reason.oauth_misconfigured")},
	{"oauth: no refresh token", i18n.ID("reason.oauth_no_refresh_token")},
	// Connections (internal/links).
	{"access token about to expire", i18n.ID("reason.token_expiring")},
	{"the provider refused the access token", i18n.ID("reason.token_refused")},
	{"the provider refused the refresh token", i18n.ID("reason.refresh_refused")},
	{"access token refreshed", i18n.ID("reason.access_token_refreshed")},
	{"made primary", i18n.ID("reason.made_primary")},
	{"removed by an administrator", i18n.ID("reason.removed_by_an_administrator")},
	{"account deleted", i18n.ID("reason.account_deleted")},
	{"account claimed by a proven owner of its email", i18n.ID("reason.account_claimed")},
}

// reasonText is what a recorded reason means, in a sentence in the
// language of ctx, or "" when there is no better way to say it than the
// recorded text itself. The match that ends last wins (the innermost cause
// of an error chain), and of those the longest ("wrong password on
// re-authentication" over "wrong password").
func reasonText(ctx context.Context, recorded string) string {
	id, end, size := "", -1, 0
	for _, r := range reasonTexts {
		i := strings.LastIndex(recorded, r.recorded)
		if i < 0 {
			continue
		}
		if e := i + len(r.recorded); e > end || (e == end && len(r.recorded) > size) {
			id, end, size = r.id, e, len(r.recorded)
		}
	}
	if id == "" {
		return ""
	}
	return i18n.T(ctx, id)
}
