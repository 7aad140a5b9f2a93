package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/paging"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/web"
)

// Errors the HTTP layer itself raises.
var (
	errCSRF          = errors.New("httpserver: csrf check failed")
	errLoginRequired = errors.New("httpserver: login required")
	errRateLimited   = errors.New("httpserver: rate limited")
	// errMFAEnrolmentRequired: mfa.admins_must_enrol and the administrator
	// has no second factor yet.
	errMFAEnrolmentRequired = errors.New("httpserver: administrator without a second factor")
)

// Conditions that are a type or a test rather than one error value: the
// table names each by the sentinel condition turns it into.
var (
	errProviderError = errors.New("httpserver: provider error")       // any *oauth.ProviderError
	errInvalidField  = errors.New("httpserver: invalid field")        // any *accounts.FieldError
	errInvalidFilter = errors.New("httpserver: invalid list filter")  // any *admin.FilterError
	errDatabaseAway  = errors.New("httpserver: database unreachable") // postgres.Unavailable
	errInternal      = errors.New("httpserver: unexpected error")     // any error no other row names
)

// errorRow is how one condition looks to a program (its status and code)
// and to a person (the catalogue ids of its title and message, shown in
// the reader's language on pages and in English in problem documents).
type errorRow struct {
	err            error
	status         int
	code           string
	title, message string
}

// errorTable is the one place errors become HTTP responses: the first row
// whose err matches (errors.Is) answers. A message may name the provider
// ({{.Provider}}).
var errorTable = []errorRow{
	{errCSRF, http.StatusForbidden, "csrf_failed", i18n.ID("error.csrf.title"), i18n.ID("error.csrf.message")},
	{errLoginRequired, http.StatusUnauthorized, "unauthenticated", i18n.ID("error.login_required.title"), i18n.ID("error.login_required.message")},
	{accounts.ErrNoSession, http.StatusUnauthorized, "unauthenticated", i18n.ID("error.login_required.title"), i18n.ID("error.session_ended.message")},
	{errUnauthenticated, http.StatusUnauthorized, "unauthenticated", i18n.ID("error.unauthenticated.title"), i18n.ID("error.unauthenticated.message")},
	{accounts.ErrTokenInvalid, http.StatusUnauthorized, "unauthenticated", i18n.ID("error.unauthenticated.title"), i18n.ID("error.token_invalid.message")},
	{errInsufficientScope, http.StatusForbidden, "insufficient_scope", i18n.ID("error.insufficient_scope.title"), i18n.ID("error.insufficient_scope.message")},
	{errForbidden, http.StatusForbidden, "forbidden", i18n.ID("error.forbidden.title"), i18n.ID("error.forbidden.message")},
	{errSessionRequired, http.StatusForbidden, "session_required", i18n.ID("error.session_required.title"), i18n.ID("error.session_required.message")},
	{errMFAEnrolmentRequired, http.StatusForbidden, "mfa_enrolment_required", i18n.ID("error.mfa_enrolment_required.title"), i18n.ID("error.mfa_enrolment_required.message")},
	{accounts.ErrReauthRequired, http.StatusForbidden, "recent_auth_required", i18n.ID("error.recent_auth_required.title"), i18n.ID("error.recent_auth_required.message")},
	{errRateLimited, http.StatusTooManyRequests, "rate_limited", i18n.ID("error.rate_limited.title"), i18n.ID("error.rate_limited.message")},
	// Bad input. A message "" is the error's own words (inputOf).
	{errMalformedJSON, http.StatusBadRequest, "malformed_json", i18n.ID("error.malformed_json.title"), ""},
	{errNotJSON, http.StatusUnsupportedMediaType, "unsupported_media_type", i18n.ID("error.not_json.title"), i18n.ID("error.not_json.message")},
	{errInvalidField, http.StatusUnprocessableEntity, "invalid_field", i18n.ID("error.invalid_input.title"), ""},
	{errInvalidFilter, http.StatusBadRequest, "invalid_filter", i18n.ID("filter.title"), ""},
	{paging.ErrLimit, http.StatusBadRequest, "invalid_limit", i18n.ID("error.invalid_limit.title"), i18n.ID("error.invalid_limit.message")},
	{paging.ErrCursor, http.StatusBadRequest, "invalid_cursor", i18n.ID("error.invalid_cursor.title"), i18n.ID("error.invalid_cursor.message")},
	{links.ErrBadScope, http.StatusBadRequest, "bad_scope", i18n.ID("error.bad_scope.title"), i18n.ID("error.bad_scope.message")},
	// Not found: another user's, like an unknown one.
	{accounts.ErrNotFound, http.StatusNotFound, "not_found", i18n.ID("error.not_found.title"), i18n.ID("error.not_found.message")},
	{links.ErrNotFound, http.StatusNotFound, "not_found", i18n.ID("error.not_found.title"), i18n.ID("error.not_found.message")},
	{events.ErrDeliveryNotFound, http.StatusNotFound, "not_found", i18n.ID("error.not_found.title"), i18n.ID("error.delivery_not_found.message")},
	{mail.ErrNotFound, http.StatusNotFound, "not_found", i18n.ID("error.not_found.title"), i18n.ID("error.mail_not_found.message")},
	{links.ErrUnknownProvider, http.StatusNotFound, "unknown_provider", i18n.ID("error.unknown_provider.title"), i18n.ID("error.unknown_provider.message")},
	// Accounts, passkeys and email.
	{accounts.ErrNoCeremony, http.StatusBadRequest, "passkey_expired", i18n.ID("error.passkey_expired.title"), i18n.ID("error.passkey_expired.message")},
	{accounts.ErrPasskeyRefused, http.StatusBadRequest, "passkey_refused", i18n.ID("error.passkey_refused.title"), i18n.ID("error.passkey_refused.message")},
	{accounts.ErrNoWebAuthn, http.StatusNotFound, "passkeys_off", i18n.ID("error.passkeys_off.title"), i18n.ID("error.passkeys_off.message")},
	{accounts.ErrSelf, http.StatusConflict, "cannot_change_self", i18n.ID("error.cannot_change_self.title"), i18n.ID("error.cannot_change_self.message")},
	{accounts.ErrNoSealer, http.StatusServiceUnavailable, "unavailable", i18n.ID("error.no_sealer.title"), i18n.ID("error.no_sealer.message")},
	{accounts.ErrEmailUnverified, http.StatusForbidden, "email_unverified", i18n.ID("error.email_unverified.title"), i18n.ID("error.email_unverified.message")},
	{accounts.ErrAlreadyVerified, http.StatusConflict, "already_verified", i18n.ID("error.already_verified.title"), i18n.ID("error.already_verified.message")},
	{accounts.ErrNoEmail, http.StatusConflict, "no_email", i18n.ID("error.no_email.title"), i18n.ID("error.no_email.message")},
	{accounts.ErrEmailTaken, http.StatusConflict, "email_taken", i18n.ID("error.email_taken.title"), i18n.ID("error.email_taken.message")},
	{mail.ErrLinkExpired, http.StatusBadRequest, "link_expired", i18n.ID("error.link_expired.title"), i18n.ID("error.link_expired.message")},
	{mail.ErrLinkUsed, http.StatusBadRequest, "link_used", i18n.ID("error.link_used.title"), i18n.ID("error.link_used.message")},
	{mail.ErrLinkNotFound, http.StatusBadRequest, "link_invalid", i18n.ID("error.link_invalid.title"), i18n.ID("error.link_invalid.message")},
	// Connections and the OAuth dance.
	{links.ErrLastLoginMethod, http.StatusConflict, "last_login_method", i18n.ID("error.last_login_method.title"), i18n.ID("error.last_login_method.message")},
	{links.ErrStateUnknown, http.StatusBadRequest, "invalid_state", i18n.ID("error.invalid_state.title"), i18n.ID("error.invalid_state.message")},
	{links.ErrStateExpired, http.StatusBadRequest, "expired_state", i18n.ID("error.expired_state.title"), i18n.ID("error.expired_state.message")},
	{links.ErrWrongBrowser, http.StatusBadRequest, "wrong_browser", i18n.ID("error.wrong_browser.title"), i18n.ID("error.wrong_browser.message")},
	{links.ErrLinkedToOtherUser, http.StatusConflict, "linked_to_other_user", i18n.ID("error.linked_to_other_user.title"), i18n.ID("error.linked_to_other_user.message")},
	{links.ErrNotLinked, http.StatusConflict, "not_linked", i18n.ID("error.not_linked.title"), i18n.ID("error.not_linked.message")},
	{links.ErrEmailBelongsToOther, http.StatusConflict, "email_taken", i18n.ID("error.email_belongs_to_other.title"), i18n.ID("error.email_belongs_to_other.message")},
	{accounts.ErrAccountDisabled, http.StatusForbidden, "account_disabled", i18n.ID("error.account_disabled.title"), i18n.ID("error.account_disabled.message")},
	{links.ErrVetoed, http.StatusForbidden, "declined", i18n.ID("error.declined.title"), i18n.ID("error.declined.message")},
	{links.ErrNotYourAccount, http.StatusForbidden, "not_your_account", i18n.ID("error.not_your_account.title"), i18n.ID("error.not_your_account.message")},
	{oauth.ErrDenied, http.StatusBadRequest, "access_denied", i18n.ID("error.access_denied.title"), i18n.ID("error.access_denied.message")},
	{oauth.ErrBadCallback, http.StatusBadRequest, "invalid_callback", i18n.ID("error.invalid_callback.title"), i18n.ID("error.invalid_callback.message")},
	// The provider proxy, and providers that fail (ErrTimeout before
	// ErrUnreachable, which it wraps).
	{oauth.ErrInvalidPath, http.StatusBadRequest, "invalid_path", i18n.ID("error.invalid_path.title"), i18n.ID("error.invalid_path.message")},
	{oauth.ErrInvalidQuery, http.StatusBadRequest, "invalid_query", i18n.ID("error.invalid_query.title"), i18n.ID("error.invalid_query.message")},
	{oauth.ErrNoAPI, http.StatusNotFound, "no_api", i18n.ID("error.no_api.title"), i18n.ID("error.no_api.message")},
	{links.ErrReauthRequired, http.StatusConflict, "reauth_required", i18n.ID("error.reauth_required.title"), i18n.ID("error.reauth_required.message")},
	{errProxyTooLarge, http.StatusRequestEntityTooLarge, "request_entity_too_large", i18n.ID("error.too_large.title"), i18n.ID("error.proxy_too_large.message")},
	{oauth.ErrTimeout, http.StatusGatewayTimeout, "provider_unreachable", i18n.ID("error.provider_timeout.title"), i18n.ID("error.provider_timeout.message")},
	{oauth.ErrUnreachable, http.StatusBadGateway, "provider_unreachable", i18n.ID("error.provider_unreachable.title"), i18n.ID("error.provider_unreachable.message")},
	{oauth.ErrNoProfileID, http.StatusBadGateway, "provider_error", i18n.ID("error.provider_error.title"), i18n.ID("error.no_profile_id.message")},
	{errProviderError, http.StatusBadGateway, "provider_error", i18n.ID("error.provider_error.title"), i18n.ID("error.provider_error.message")},
	// Events.
	{events.ErrDeliveryNotDead, http.StatusConflict, "delivery_not_dead", i18n.ID("error.delivery_not_dead.title"), i18n.ID("error.delivery_not_dead.message")},
	// Our own trouble; the last row answers any error no other row names.
	{errDatabaseAway, http.StatusServiceUnavailable, "unavailable", i18n.ID("error.busy.title"), i18n.ID("error.database.message")},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "unavailable", i18n.ID("error.busy.title"), i18n.ID("error.busy.message")},
	{errInternal, http.StatusInternalServerError, "internal", i18n.ID("error.internal.title"), i18n.ID("error.internal.message")},
}

// statusWords are the title and message of the errors echo raises itself
// (*echo.HTTPError), by status; their code is the status text in snake
// case. A 4xx not listed reads like a bad request, a 5xx like any
// unexpected error.
var statusWords = map[int][2]string{
	http.StatusNotFound:              {i18n.ID("error.page_not_found.title"), i18n.ID("error.page_not_found.message")},
	http.StatusMethodNotAllowed:      {i18n.ID("error.method_not_allowed.title"), i18n.ID("error.method_not_allowed.message")},
	http.StatusRequestEntityTooLarge: {i18n.ID("error.too_large.title"), i18n.ID("error.too_large.message")},
	http.StatusBadRequest:            {i18n.ID("error.bad_request.title"), i18n.ID("error.bad_request.message")},
	http.StatusUnsupportedMediaType:  {i18n.ID("error.unsupported.title"), i18n.ID("error.unsupported.message")},
}

// errorEntry is the row of one error, with what the error adds to it.
type errorEntry struct {
	errorRow
	// own is the error's own words, in place of the row's message: bad
	// input says itself what is wrong (see inputOf).
	own *inputError
	// extra are more members of the problem document (problemFields).
	extra map[string]any
}

// condition is the error the table names for err: err itself, or the
// sentinel standing for a condition that is a type or a test.
func condition(err error) error {
	switch {
	case errors.As(err, new(*oauth.ProviderError)):
		return errProviderError
	case errors.As(err, new(*admin.FilterError)):
		return errInvalidFilter
	case errors.As(err, new(*accounts.FieldError)):
		return errInvalidField
	case postgres.Unavailable(err): // before the table: a connection that timed out is not a busy server
		return errDatabaseAway
	}
	return err
}

// lookupError is err's row, with the words and members err adds.
func lookupError(err error) errorEntry {
	e := errorEntry{errorRow: rowOf(condition(err))}
	if in, ok := inputOf(err); ok {
		e.own = &in
		if in.field != "" {
			e.extra = map[string]any{"field": in.field}
		}
	}
	if pf := (*problemFields)(nil); errors.As(err, &pf) {
		e.extra = pf.fields
	}
	return e
}

// rowOf is the table's row for cond; echo's own errors get their status.
func rowOf(cond error) errorRow {
	for _, r := range errorTable {
		if errors.Is(cond, r.err) {
			return r
		}
	}
	internal := errorTable[len(errorTable)-1]
	he := (*echo.HTTPError)(nil)
	if !errors.As(cond, &he) {
		return internal
	}
	w, ok := statusWords[he.Code]
	switch {
	case ok:
	case he.Code < http.StatusInternalServerError:
		w = statusWords[http.StatusBadRequest]
	default:
		w = [2]string{internal.title, internal.message}
	}
	return errorRow{he, he.Code, strings.ReplaceAll(strings.ToLower(http.StatusText(he.Code)), " ", "_"), w[0], w[1]}
}

// problemFields adds members to the problem document of err (a
// reconnect_url to a reauth_required).
type problemFields struct {
	err    error
	fields map[string]any
}

func (p *problemFields) Error() string { return p.err.Error() }
func (p *problemFields) Unwrap() error { return p.err }

// handleError renders any error a handler returns: an error page for
// browsers, a problem document under /api/. Unknown errors are logged with
// the request id and shown as a generic 500, never with their text.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := lookupError(err)
	if e.status >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed", "err", err.Error(),
			"path", c.Request().URL.Path, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	h := c.Response().Header()
	switch e.status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
	case http.StatusTooManyRequests:
		if h.Get("Retry-After") == "" {
			h.Set("Retry-After", "60")
		}
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") {
		if e.status == http.StatusUnauthorized {
			challenge := `Bearer realm="dancecard"`
			if errors.Is(err, accounts.ErrTokenInvalid) {
				challenge += `, error="invalid_token"`
			}
			h.Set("WWW-Authenticate", challenge)
		}
		_ = s.problem(c, e)
		return
	}
	if e.status == http.StatusUnauthorized && c.Request().Method == http.MethodGet {
		_ = c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	if e.status == http.StatusNotFound {
		h.Del(echo.HeaderAllow)
	}
	title, message := localError(c, err, "")
	if rerr := render(c, e.status, web.ErrorPage(s.page(c, title), e.status, title, message)); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		_ = c.String(e.status, message)
	}
}

// problem writes an RFC 9457 problem document with a stable code. Its
// words are English whatever the request's language: programs read them,
// and their wording is part of the API contract.
func (s *Server) problem(c echo.Context, e errorEntry) error {
	english := i18n.Embedded().Localizer(i18n.Default)
	title := english.T(e.title)
	var detail string
	if e.own != nil {
		detail = e.own.message
	} else {
		detail = english.T(e.message, i18n.Data{"Provider": english.T("error.the_provider")})
	}
	doc := map[string]any{
		"type": "https://dancecard.dev/problems/" + e.code, "title": title, "status": e.status,
		"code": e.code, "detail": detail,
	}
	if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
		doc["request_id"] = id
	}
	for k, v := range e.extra {
		doc[k] = v
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return c.Blob(e.status, "application/problem+json", body)
}
