package httpserver

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/oauth"
)

// errorWords are the message ids of an error's title and text on pages.
type errorWords struct{ title, message string }

// errorIDs translates the rows of errorTable that a browser page or flash
// can show. Rows only the JSON API raises (bearer tokens, JSON bodies,
// cursors, the provider proxy) keep their English text: problem documents
// are read by programs, and their wording is part of the API contract.
var errorIDs = map[error]errorWords{
	errCSRF:                    {i18n.ID("error.csrf.title"), i18n.ID("error.csrf.message")},
	errLoginRequired:           {i18n.ID("error.login_required.title"), i18n.ID("error.login_required.message")},
	errForbidden:               {i18n.ID("error.forbidden.title"), i18n.ID("error.forbidden.message")},
	errRateLimited:             {i18n.ID("error.rate_limited.title"), i18n.ID("error.rate_limited.message")},
	accounts.ErrNotFound:       {i18n.ID("error.not_found.title"), i18n.ID("error.not_found.message")},
	accounts.ErrNoCeremony:     {i18n.ID("error.passkey_expired.title"), i18n.ID("error.passkey_expired.message")},
	accounts.ErrPasskeyRefused: {i18n.ID("error.passkey_refused.title"), i18n.ID("error.passkey_refused.message")},
	accounts.ErrNoWebAuthn:     {i18n.ID("error.passkeys_off.title"), i18n.ID("error.passkeys_off.message")},
	links.ErrNotFound:          {i18n.ID("error.not_found.title"), i18n.ID("error.not_found.message")},
	links.ErrUnknownProvider:   {i18n.ID("error.unknown_provider.title"), i18n.ID("error.unknown_provider.message")},
	links.ErrLastLoginMethod:   {i18n.ID("error.last_login_method.title"), i18n.ID("error.last_login_method.message")},
	links.ErrBadScope:          {i18n.ID("error.bad_scope.title"), i18n.ID("error.bad_scope.message")},
	links.ErrStateUnknown:      {i18n.ID("error.invalid_state.title"), i18n.ID("error.invalid_state.message")},
	links.ErrStateExpired:      {i18n.ID("error.expired_state.title"), i18n.ID("error.expired_state.message")},
	links.ErrWrongBrowser:      {i18n.ID("error.wrong_browser.title"), i18n.ID("error.wrong_browser.message")},
	links.ErrLinkedToOtherUser: {i18n.ID("error.linked_to_other_user.title"),
		i18n.ID("error.linked_to_other_user.message")},
	links.ErrNotLinked:           {i18n.ID("error.not_linked.title"), i18n.ID("error.not_linked.message")},
	links.ErrEmailBelongsToOther: {i18n.ID("error.email_belongs_to_other.title"), i18n.ID("error.email_belongs_to_other.message")},
	links.ErrAccountDisabled:     {i18n.ID("error.account_disabled.title"), i18n.ID("error.account_disabled.message")},
	links.ErrVetoed:              {i18n.ID("error.declined.title"), i18n.ID("error.declined.message")},
	oauth.ErrDenied:              {i18n.ID("error.access_denied.title"), i18n.ID("error.access_denied.message")},
	oauth.ErrTimeout:             {i18n.ID("error.provider_timeout.title"), i18n.ID("error.provider_timeout.message")},
	oauth.ErrUnreachable:         {i18n.ID("error.provider_unreachable.title"), i18n.ID("error.provider_unreachable.message")},
	oauth.ErrNoProfileID:         {i18n.ID("error.provider_error.title"), i18n.ID("error.no_profile_id.message")},
	oauth.ErrBadCallback:         {i18n.ID("error.invalid_callback.title"), i18n.ID("error.invalid_callback.message")},
	errProviderError:             {i18n.ID("error.provider_error.title"), i18n.ID("error.provider_error.message")},
	accounts.ErrSelf:             {i18n.ID("error.cannot_change_self.title"), i18n.ID("error.cannot_change_self.message")},
	events.ErrDeliveryNotFound:   {i18n.ID("error.not_found.title"), i18n.ID("error.delivery_not_found.message")},
	events.ErrDeliveryNotDead:    {i18n.ID("error.delivery_not_dead.title"), i18n.ID("error.delivery_not_dead.message")},
	errMFAEnrolmentRequired:      {i18n.ID("error.mfa_enrolment_required.title"), i18n.ID("error.mfa_enrolment_required.message")},
	accounts.ErrNoSealer:         {i18n.ID("error.no_sealer.title"), i18n.ID("error.no_sealer.message")},
	accounts.ErrReauthRequired:   {i18n.ID("error.recent_auth_required.title"), i18n.ID("error.recent_auth_required.message")},
	accounts.ErrEmailUnverified:  {i18n.ID("error.email_unverified.title"), i18n.ID("error.email_unverified.message")},
	accounts.ErrAlreadyVerified:  {i18n.ID("error.already_verified.title"), i18n.ID("error.already_verified.message")},
	accounts.ErrNoEmail:          {i18n.ID("error.no_email.title"), i18n.ID("error.no_email.message")},
	accounts.ErrEmailTaken:       {i18n.ID("error.email_taken.title"), i18n.ID("error.email_taken.message")},
	mail.ErrLinkExpired:          {i18n.ID("error.link_expired.title"), i18n.ID("error.link_expired.message")},
	mail.ErrLinkUsed:             {i18n.ID("error.link_used.title"), i18n.ID("error.link_used.message")},
	mail.ErrLinkNotFound:         {i18n.ID("error.link_invalid.title"), i18n.ID("error.link_invalid.message")},
	mail.ErrNotFound:             {i18n.ID("error.not_found.title"), i18n.ID("error.mail_not_found.message")},
	links.ErrNotYourAccount:      {i18n.ID("error.not_your_account.title"), i18n.ID("error.not_your_account.message")},
	accounts.ErrNoSession:        {i18n.ID("error.login_required.title"), i18n.ID("error.session_ended.message")},
	context.DeadlineExceeded:     {i18n.ID("error.busy.title"), i18n.ID("error.busy.message")},
}

// statusIDs translates the errors echo raises itself (statusTexts).
var statusIDs = map[int]errorWords{
	http.StatusNotFound:              {i18n.ID("error.page_not_found.title"), i18n.ID("error.page_not_found.message")},
	http.StatusMethodNotAllowed:      {i18n.ID("error.method_not_allowed.title"), i18n.ID("error.method_not_allowed.message")},
	http.StatusRequestEntityTooLarge: {i18n.ID("error.too_large.title"), i18n.ID("error.too_large.message")},
	http.StatusBadRequest:            {i18n.ID("error.bad_request.title"), i18n.ID("error.bad_request.message")},
	http.StatusForbidden:             {i18n.ID("error.forbidden_page.title"), i18n.ID("error.forbidden_page.message")},
	http.StatusUnsupportedMediaType:  {i18n.ID("error.unsupported.title"), i18n.ID("error.unsupported.message")},
}

// localError is an error's title and message for a person, in the
// request's language, naming the provider where the message speaks of one
// ("the provider" when it is not known). An error without a translation
// keeps the English of errorTable.
func localError(c echo.Context, err error, provider string) (title, message string) {
	e := lookupError(err)
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	if provider == "" {
		provider = tr(c, "error.the_provider")
	}
	data := i18n.Data{"Provider": provider}
	words, ok := errorIDs[e.err]
	switch {
	case ok:
	case e.code == "invalid_field":
		if fe := (*accounts.FieldError)(nil); errors.As(err, &fe) {
			return tr(c, "error.invalid_input.title"), fieldErrorText(ctx, fe)
		}
	case e.code == "invalid_filter" || e.code == "invalid_cursor":
		if fe := (*admin.FilterError)(nil); errors.As(err, &fe) && fe.MessageID != "" {
			return tr(c, "filter.title"), filterErrorText(ctx, fe)
		}
	case e.code == "unavailable" && e.err == nil: // the database is away
		words, ok = errorWords{i18n.ID("error.busy.title"), i18n.ID("error.database.message")}, true
	case e.code == "internal":
		words, ok = errorWords{i18n.ID("error.internal.title"), i18n.ID("error.internal.message")}, true
	default:
		if he := (*echo.HTTPError)(nil); errors.As(err, &he) {
			words, ok = statusIDs[he.Code]
		}
	}
	if !ok {
		return e.title, e.text(provider)
	}
	return l.T(words.title, data), l.T(words.message, data)
}

// filterErrorText is a bad admin list filter's message in the language of
// ctx; the JSON API keeps its English Message.
func filterErrorText(ctx context.Context, fe *admin.FilterError) string {
	if fe.MessageID == "" {
		return fe.Message
	}
	data := i18n.Data{}
	for k, v := range fe.Args {
		data[k] = v
	}
	return i18n.T(ctx, fe.MessageID, data)
}

// fieldErrorText is a field error in the language of ctx.
func fieldErrorText(ctx context.Context, fe *accounts.FieldError) string {
	if fe.MessageID == "" {
		return fe.Message
	}
	return i18n.T(ctx, fe.MessageID, fe.Args)
}
