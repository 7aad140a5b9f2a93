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
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/web"
)

// Errors the HTTP layer itself raises.
var (
	errCSRF          = errors.New("httpserver: csrf check failed")
	errLoginRequired = errors.New("httpserver: login required")
	errRateLimited   = errors.New("httpserver: rate limited")
	errProviderError = errors.New("httpserver: provider error") // stands for any *oauth.ProviderError
	// errMFAEnrolmentRequired: mfa.admins_must_enrol and the administrator
	// has no second factor yet.
	errMFAEnrolmentRequired = errors.New("httpserver: administrator without a second factor")
)

// errorRow is how one error looks to a person and to a program.
type errorRow struct {
	err     error
	status  int
	code    string
	title   string
	message string
}

// errorEntry is an errorRow for one response, with any more members its
// problem document carries (the field a validation error names, say).
type errorEntry struct {
	errorRow
	extra map[string]any
}

// errorTable is the one place errors become HTTP responses.
var errorTable = []errorRow{
	{errCSRF, http.StatusForbidden, "csrf_failed", "Form expired",
		"This form was opened in another session or has expired. Go back, reload the page and try again."},
	{errLoginRequired, http.StatusUnauthorized, "unauthenticated", "Log in required", "Log in to continue."},
	{errUnauthenticated, http.StatusUnauthorized, "unauthenticated", "Authentication required",
		"Send a personal access token as Authorization: Bearer <token>, or call from a logged-in browser session."},
	{accounts.ErrTokenInvalid, http.StatusUnauthorized, "unauthenticated", "Authentication required",
		"That access token is unknown, revoked or expired."},
	{errInsufficientScope, http.StatusForbidden, "insufficient_scope", "Insufficient scope",
		"This access token's scope does not allow this request. Create a token with a wider scope."},
	{errForbidden, http.StatusForbidden, "forbidden", "Forbidden", "Only administrators may do this."},
	{errSessionRequired, http.StatusForbidden, "session_required", "Session required",
		"Access tokens are created from a logged-in browser session (the profile page), not with another token."},
	{errMalformedJSON, http.StatusBadRequest, "malformed_json", "Malformed JSON", "The request body is not a valid JSON object of the documented shape."},
	{errNotJSON, http.StatusUnsupportedMediaType, "unsupported_media_type", "JSON required", "Send the body as application/json."},
	{errBadCursor, http.StatusBadRequest, "invalid_cursor", "Invalid cursor",
		"The cursor is not one this API returned. Start again without a cursor."},
	{errBadLimit, http.StatusBadRequest, "invalid_limit", "Invalid limit", "limit must be a whole number from 1; larger values are capped at 200."},
	{errRateLimited, http.StatusTooManyRequests, "rate_limited", "Too many attempts", "Too many attempts. Wait a few minutes and try again."},
	{accounts.ErrNotFound, http.StatusNotFound, "not_found", "Not found", "There is nothing here."},
	{accounts.ErrNoCeremony, http.StatusBadRequest, "passkey_expired", "Passkey request expired",
		"That passkey request expired or was already used. Try again."},
	{accounts.ErrPasskeyRefused, http.StatusBadRequest, "passkey_refused", "Passkey not accepted",
		"That passkey was not accepted. Try again, or use another way to log in."},
	{accounts.ErrNoWebAuthn, http.StatusNotFound, "passkeys_off", "Passkeys off", "This server does not offer passkeys."},
	{links.ErrNotFound, http.StatusNotFound, "not_found", "Not found", "There is nothing here."},
	{links.ErrUnknownProvider, http.StatusNotFound, "unknown_provider", "Unknown provider", "There is no such provider here."},
	{links.ErrLastLoginMethod, http.StatusConflict, "last_login_method", "Cannot disconnect",
		"Set a password or connect another account before removing your last way to log in."},
	{links.ErrBadScope, http.StatusBadRequest, "bad_scope", "Invalid scopes",
		"Scopes may contain only letters, digits and : . / _ + -, at most 20 of them."},
	{links.ErrStateUnknown, http.StatusBadRequest, "invalid_state", "Invalid sign-in",
		"That {provider} sign-in link has already been used or is not valid. Nothing was changed; start again."},
	{links.ErrStateExpired, http.StatusBadRequest, "expired_state", "Sign-in expired",
		"The {provider} sign-in took more than 10 minutes. Nothing was changed; start again."},
	{links.ErrWrongBrowser, http.StatusBadRequest, "wrong_browser", "Wrong browser",
		"That {provider} sign-in was started in another browser or session. Nothing was changed; start again here."},
	{links.ErrLinkedToOtherUser, http.StatusConflict, "linked_to_other_user", "Already linked",
		"That {provider} account is already linked to another Dancecard account. Nothing was changed."},
	{links.ErrNotLinked, http.StatusConflict, "not_linked", "Not linked",
		"No account is linked to that {provider} account. Log in and connect it from your profile first."},
	{links.ErrEmailBelongsToOther, http.StatusConflict, "email_taken", "Account exists",
		"An account with that {provider} email already exists. Log in with your password, then connect {provider} from your profile."},
	{links.ErrAccountDisabled, http.StatusForbidden, "account_disabled", "Account disabled",
		"This account has been disabled. Contact an administrator."},
	{links.ErrVetoed, http.StatusForbidden, "declined", "Declined", "Linking that {provider} account was declined."},
	{oauth.ErrDenied, http.StatusBadRequest, "access_denied", "Cancelled",
		"You cancelled at {provider}. Nothing was changed."},
	// The provider proxy's (ErrTimeout before ErrUnreachable, which it wraps).
	{oauth.ErrInvalidPath, http.StatusBadRequest, "invalid_path", "Invalid path",
		"The path must stay under the provider's API: no absolute URLs, no . or .. segments (encoded or not), no encoded slashes or backslashes, no empty segments, no user@host forms, no control characters."},
	{oauth.ErrNoAPI, http.StatusNotFound, "no_api", "No API",
		"This provider is configured without an api_base_url, so its API cannot be called through Dancecard."},
	{oauth.ErrInvalidQuery, http.StatusBadRequest, "invalid_query", "Invalid query",
		"Calls to this OAuth 1 provider are signed, which needs a form-encoded query: no semicolons and no malformed percent-escapes."},
	{links.ErrReauthRequired, http.StatusConflict, "reauth_required", "Reconnect required",
		"{provider} no longer accepts this connection. The user must reconnect it: see reconnect_url."},
	{errProxyTooLarge, http.StatusRequestEntityTooLarge, "request_entity_too_large", "Too large",
		"The request body is larger than the proxy's limit of 10 MiB."},
	{oauth.ErrTimeout, http.StatusGatewayTimeout, "provider_unreachable", "Provider timed out",
		"{provider} did not answer within its timeout. Nothing was changed; try again in a moment."},
	{oauth.ErrUnreachable, http.StatusBadGateway, "provider_unreachable", "Provider unreachable",
		"{provider} did not answer in time. Nothing was changed; try again in a moment."},
	{oauth.ErrNoProfileID, http.StatusBadGateway, "provider_error", "Provider error",
		"{provider} did not say which account you used. Nothing was changed; try again."},
	{oauth.ErrBadCallback, http.StatusBadRequest, "invalid_callback", "Invalid answer",
		"{provider} sent back an answer that does not match this sign-in. Nothing was changed; start again."},
	{errProviderError, http.StatusBadGateway, "provider_error", "Provider error",
		"{provider} reported an error. Nothing was changed; try again in a moment."},
	{accounts.ErrSelf, http.StatusConflict, "cannot_change_self", "Not allowed on your own account",
		"You cannot disable or demote your own account; ask another administrator."},
	{events.ErrDeliveryNotFound, http.StatusNotFound, "not_found", "Not found", "There is no such delivery."},
	{events.ErrDeliveryNotDead, http.StatusConflict, "delivery_not_dead", "Not parked",
		"That delivery is no longer parked: it was delivered or is already queued again. Nothing was changed."},
	{errMFAEnrolmentRequired, http.StatusForbidden, "mfa_enrolment_required", "Second factor required",
		"Administrators here need two-step verification. Set up an authenticator app on the profile page first."},
	{accounts.ErrNoSealer, http.StatusServiceUnavailable, "unavailable", "Not available",
		"Two-step verification needs a token key configured on the server (token_keys)."},
	{accounts.ErrReauthRequired, http.StatusForbidden, "recent_auth_required", "Confirm it's you",
		"This action needs a recent log-in. Re-authenticate at /reauth in the browser, then repeat the request."},
	{accounts.ErrEmailUnverified, http.StatusForbidden, "email_unverified", "Email not verified",
		"Confirm your email address first: use the link we mailed you, or ask for a new one below."},
	{accounts.ErrAlreadyVerified, http.StatusConflict, "already_verified", "Already verified", "Your email address is already verified."},
	{accounts.ErrNoEmail, http.StatusConflict, "no_email", "No email address", "This account has no email address. Add one first."},
	{accounts.ErrEmailTaken, http.StatusConflict, "email_taken", "Address taken", "That address belongs to another account. Nothing was changed."},
	{mail.ErrLinkExpired, http.StatusBadRequest, "link_expired", "Link expired",
		"This link has expired. Nothing was changed; ask for a new one."},
	{mail.ErrLinkUsed, http.StatusBadRequest, "link_used", "Link already used",
		"This link has already been used, or a newer one was sent. Nothing was changed."},
	{mail.ErrLinkNotFound, http.StatusBadRequest, "link_invalid", "Link not valid",
		"This link is not valid: it may be incomplete, or replaced by a newer one. Nothing was changed."},
	{mail.ErrNotFound, http.StatusNotFound, "not_found", "Not found", "There is no such mail."},
	{links.ErrNotYourAccount, http.StatusForbidden, "not_your_account", "Not your account",
		"That {provider} account is not linked to your Dancecard account, so it cannot confirm who you are. Nothing was changed."},
	{accounts.ErrNoSession, http.StatusUnauthorized, "unauthenticated", "Log in required", "Your session has ended. Log in again."},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "unavailable", "Try again", "The service is busy. Try again in a moment."},
}

// problemFields adds members to the problem document of err (a
// reconnect_url to a reauth_required).
type problemFields struct {
	err    error
	fields map[string]any
}

func (p *problemFields) Error() string { return p.err.Error() }
func (p *problemFields) Unwrap() error { return p.err }

// statusTexts titles the errors echo raises itself.
var statusTexts = map[int][2]string{
	http.StatusNotFound:              {"Page not found", "There is no page at this address."},
	http.StatusMethodNotAllowed:      {"Not allowed", "This page does not accept that kind of request."},
	http.StatusRequestEntityTooLarge: {"Too large", "What you sent is larger than this form accepts."},
	http.StatusBadRequest:            {"Bad request", "The request could not be understood."},
	http.StatusForbidden:             {"Forbidden", "You do not have access to this page."},
	http.StatusUnsupportedMediaType:  {"Unsupported", "This kind of content is not accepted here."},
}

// text is the entry's message for a person, naming the provider where the
// message speaks of one ("the provider" when it is not known).
func (e errorEntry) text(provider string) string {
	if provider == "" {
		provider = "the provider"
	}
	return strings.ReplaceAll(e.message, "{provider}", provider)
}

func lookupError(err error) errorEntry {
	if pe := (*oauth.ProviderError)(nil); errors.As(err, &pe) {
		err = errProviderError
	}
	if fe := (*admin.FilterError)(nil); errors.As(err, &fe) {
		code, title := "invalid_filter", "Invalid filter"
		if fe.Field == "cursor" {
			code, title = "invalid_cursor", "Invalid cursor"
		}
		return errorEntry{errorRow{status: http.StatusBadRequest, code: code, title: title,
			message: fe.Message}, map[string]any{"field": fe.Field}}
	}
	if pf := (*problemFields)(nil); errors.As(err, &pf) {
		e := lookupError(pf.err)
		e.extra = pf.fields
		return e
	}
	if fe := (*accounts.FieldError)(nil); errors.As(err, &fe) {
		return errorEntry{errorRow{status: http.StatusUnprocessableEntity, code: "invalid_field", title: "Invalid input",
			message: fe.Message}, map[string]any{"field": fe.Field}}
	}
	// Before the table: a connection that timed out is the database's
	// trouble, not a busy server's.
	if postgres.Unavailable(err) {
		return errorEntry{errorRow: errorRow{status: http.StatusServiceUnavailable, code: "unavailable", title: "Try again",
			message: "The service cannot reach its database right now. Try again in a moment."}}
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			if je := (*jsonError)(nil); errors.As(err, &je) {
				e.message = "The request body is not a valid JSON object of the documented shape: " + je.err.Error()
			}
			return errorEntry{errorRow: e}
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		t, ok := statusTexts[he.Code]
		if !ok {
			t = [2]string{http.StatusText(he.Code), http.StatusText(he.Code) + "."}
		}
		return errorEntry{errorRow: errorRow{status: he.Code, code: strings.ReplaceAll(strings.ToLower(http.StatusText(he.Code)), " ", "_"), title: t[0], message: t[1]}}
	}
	return errorEntry{errorRow: errorRow{status: http.StatusInternalServerError, code: "internal", title: "Something went wrong",
		message: "Something went wrong on our side. It has been logged; try again in a moment."}}
}

// handleError renders any error a handler returns: an error page for
// browsers, a problem document under /api/. Unknown errors are logged with
// the request id and shown as a generic 500, never with their text.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := lookupError(err)
	e.message = e.text("")
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
		_ = c.String(e.status, e.message)
	}
}

// problem writes an RFC 9457 problem document with a stable code.
func (s *Server) problem(c echo.Context, e errorEntry) error {
	doc := map[string]any{
		"type": "https://dancecard.dev/problems/" + e.code, "title": e.title, "status": e.status,
		"code": e.code, "detail": e.message,
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
