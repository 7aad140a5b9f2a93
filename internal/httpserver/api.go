package httpserver

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/paging"
	"github.com/dancecard/dancecard/internal/ratelimit"
)

// Errors the JSON API raises itself.
var (
	errUnauthenticated   = errors.New("httpserver: no valid credentials")
	errInsufficientScope = errors.New("httpserver: token scope too narrow")
	errForbidden         = errors.New("httpserver: administrators only")
	errMalformedJSON     = errors.New("httpserver: malformed JSON body")
	errNotJSON           = errors.New("httpserver: body is not JSON")
	// A token cannot mint tokens, so a leaked one cannot make itself permanent.
	errSessionRequired = errors.New("httpserver: creating tokens needs a browser session")
)

const ctxCaller = "dancecard.caller"

// maxJSONBody caps the JSON bodies the API reads (the provider proxy has its
// own, larger cap).
const maxJSONBody = 64 << 10

// caller is who makes an /api/v1 request: a browser session or a personal
// access token.
type caller struct {
	UserID  int64
	Admin   bool
	Scope   accounts.Scope
	TokenID int64 // 0 for a browser session
	User    accounts.User
	Session *accounts.Session // nil for a token
}

func callerFrom(c echo.Context) *caller {
	cl, _ := c.Get(ctxCaller).(*caller)
	return cl
}

// apiAuth authenticates every /api/v1 request by bearer token or, failing
// that, by the browser session; a session's unsafe requests must carry its
// CSRF token in X-CSRF-Token and come from this site. Bearer calls need no
// CSRF token: browsers never attach Authorization headers on their own.
// Failed token attempts count against the client's IP; past the limit they
// get 429 instead of 401.
func (s *Server) apiAuth() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if authz := c.Request().Header.Get(echo.HeaderAuthorization); authz != "" {
				scheme, secret, _ := strings.Cut(authz, " ")
				if !strings.EqualFold(scheme, "Bearer") {
					return errUnauthenticated
				}
				if err := s.setBearerCaller(c, strings.TrimSpace(secret)); err != nil {
					return err
				}
				return next(c)
			}
			sess := sessionFrom(c)
			if sess == nil {
				return errUnauthenticated
			}
			// A cross-site request never acts with the session, even a GET:
			// a top-level navigation carries the Lax cookie, and a provider
			// API's GET may not be as harmless as ours.
			if !s.sameOrigin(c.Request()) {
				return errCSRF
			}
			if !safeMethod(c.Request().Method) {
				got := c.Request().Header.Get("X-CSRF-Token")
				if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
					return errCSRF
				}
			}
			scope := accounts.ScopeProxy
			if sess.User.IsAdmin {
				scope = accounts.ScopeAdmin
			}
			c.Set(ctxCaller, &caller{UserID: sess.UserID, Admin: sess.User.IsAdmin, Scope: scope, User: sess.User, Session: sess})
			return next(c)
		}
	}
}

// setBearerCaller makes the token secret names the request's caller. An
// invalid one counts against the client's IP: only failures do, so a valid
// token costs no rate-limit query on the hot path.
func (s *Server) setBearerCaller(c echo.Context, secret string) error {
	ctx := c.Request().Context()
	tok, u, err := s.opts.Accounts.AuthenticateToken(ctx, secret)
	if errors.Is(err, accounts.ErrTokenInvalid) {
		ok, _, herr := s.opts.Limiter.Hit(ctx, "api-token-ip:"+c.RealIP(), apiTokenFailureLimit)
		if herr != nil {
			return herr
		}
		if !ok {
			return errRateLimited
		}
		return errUnauthenticated
	}
	if err != nil {
		return err
	}
	c.Set(ctxCaller, &caller{UserID: u.ID, Admin: u.IsAdmin, Scope: tok.Scope, TokenID: tok.ID, User: u})
	return nil
}

// apiTokenFailureLimit bounds bad bearer tokens per IP, so tokens cannot be
// guessed online (they cannot anyway: 256 random bits; this keeps the
// database from being the target instead).
var apiTokenFailureLimit = ratelimit.Rule{Max: 20, Window: 5 * time.Minute}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// requireScope lets through callers whose scope allows want. The admin
// scope also needs the caller to be an administrator now, not just when
// the token was made.
func (s *Server) requireScope(want accounts.Scope) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := checkScope(callerFrom(c), want); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// checkScope is requireScope's decision.
func checkScope(cl *caller, want accounts.Scope) error {
	switch {
	case cl == nil:
		return errUnauthenticated
	case want == accounts.ScopeAdmin && !cl.Admin:
		return errForbidden
	case !cl.Scope.Allows(want):
		return errInsufficientScope
	}
	return nil
}

// bindJSON decodes a JSON object body into v, refusing other content
// types, unknown fields, trailing data and bodies over maxJSONBody.
func bindJSON(c echo.Context, v any) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return errNotJSON
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return echo.ErrStatusRequestEntityTooLarge
		}
		return &jsonError{err: err}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &jsonError{err: errors.New("unexpected data after the JSON object")}
	}
	return nil
}

// jsonError says what was wrong with a JSON body, in words a client's
// developer can act on; it matches errMalformedJSON.
type jsonError struct{ err error }

func (e *jsonError) Error() string { return "malformed JSON: " + e.err.Error() }
func (e *jsonError) Is(target error) bool {
	return target == errMalformedJSON
}

// list is the shape of every JSON list.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// writeIDPage answers the page of rows, which are in the list's order by
// id (descending when desc), that the request's limit and cursor ask for.
// The rows are one user's own and few, so they are all read and the page
// cut from them; the cursor is the last id shown, and a row deleted
// between pages moves nothing.
func writeIDPage[T any](c echo.Context, name string, desc bool, rows []T, id func(T) int64) error {
	sort := "id"
	if desc {
		sort = "id DESC"
	}
	limit, err := paging.Limit(c.QueryParam("limit"))
	if err != nil {
		return err
	}
	cur, has, err := paging.Parse(c.QueryParam("cursor"), name, sort)
	if err != nil {
		return err
	}
	page := list[T]{Items: []T{}}
	for _, r := range rows {
		past := id(r) > cur.ID
		if desc {
			past = id(r) < cur.ID
		}
		if has && !past {
			continue
		}
		if len(page.Items) == limit {
			page.NextCursor = paging.Cursor{List: name, Sort: sort, ID: id(page.Items[limit-1])}.String()
			break
		}
		page.Items = append(page.Items, r)
	}
	return c.JSON(http.StatusOK, page)
}

// pathID parses an :id path parameter; a malformed one is 404 like an
// unknown one, so ids cannot be probed by shape.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}
