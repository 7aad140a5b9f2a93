package links

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/oauth"
)

// The problems a connection's LastError names. Whatever follows ": " is the
// provider's detail: an HTTP status, an OAuth error code.
const (
	ProblemTokenRefused   = "token_refused"   // the provider answered 401 to the access token
	ProblemRefreshRefused = "refresh_refused" // the provider refused the refresh token
	ProblemNeedsReauth    = "needs_reauth"    // the connection was already waiting for a reconnect
	ProblemUnreachable    = "unreachable"     // no answer, or none in time
	ProblemProviderError  = "provider_error"  // an error status or an OAuth error
	ProblemBadProfile     = "bad_profile"     // an answer that is not a profile with an id
	ProblemWrongAccount   = "wrong_account"   // the token speaks for another account
	ProblemMisconfigured  = "misconfigured"   // this server's settings for the provider cannot make the call
)

// problem joins a Problem code and its detail as LastError holds them.
func problem(code, detail string) string {
	if detail == "" {
		return code
	}
	return events.Clip(code+": "+detail, 300)
}

// SplitProblem parses a LastError into its Problem code and detail.
func SplitProblem(s string) (code, detail string) {
	code, detail, _ = strings.Cut(s, ": ")
	return code, detail
}

// CheckError is a check the provider did not pass: one of the Problem
// codes, and the provider's detail.
type CheckError struct{ Problem, Detail string }

func (e *CheckError) Error() string { return "links: check failed: " + problem(e.Problem, e.Detail) }

// maxCheckBody bounds the profile document a check reads.
const maxCheckBody = 1 << 20

// Check asks the provider who the account of one of userID's connections
// is, through the path a proxied call takes (a stale token is refreshed
// first; a refused one marks the connection needs_reauth), with the
// provider's userinfo endpoint as the call. It returns the connection as
// stored afterwards: checked now, with the provider's current username,
// name, avatar and profile link when the check passed, with the problem as
// its last error when it did not. A failed check is a *CheckError, or a
// *ReauthError when the connection must be reconnected; neither records an
// event (a status change on the way records its own). Nothing is written
// while the provider is asked.
func (s *Service) Check(ctx context.Context, userID, connectionID int64) (Connection, error) {
	var provider, providerUserID string
	err := s.DB.QueryRow(ctx, `SELECT provider, provider_user_id FROM connections WHERE id = $1 AND user_id = $2`,
		connectionID, userID).Scan(&provider, &providerUserID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Connection{}, ErrNotFound
	case err != nil:
		return Connection{}, fmt.Errorf("links: check connection %d: %w", connectionID, err)
	}
	p, ok := s.Catalog.Get(provider)
	if !ok {
		return Connection{}, ErrUnknownProvider
	}
	prof, err := s.checkProfile(ctx, p, APICall{UserID: userID, Provider: provider, ConnectionID: connectionID})
	if err == nil && prof.ID != providerUserID {
		err = &CheckError{Problem: ProblemWrongAccount, Detail: "id " + prof.ID}
	}
	var ce *CheckError
	var stmt string
	args := []any{connectionID, userID}
	switch {
	case err == nil:
		stmt = `checked_at = now(), username = $3, name = $4, profile_url = $5, avatar_url = $6`
		args = append(args, prof.Username, prof.Name, prof.ProfileURL, prof.AvatarURL)
	case errors.As(err, &ce):
		stmt = `checked_at = now(), last_error = $3, last_error_at = now()`
		args = append(args, problem(ce.Problem, ce.Detail))
	case errors.Is(err, ErrReauthRequired):
		// Marked on the way, with its reason, or already waiting.
		stmt = `checked_at = now(), last_error = CASE WHEN last_error = '' THEN $3 ELSE last_error END, last_error_at = now()`
		args = append(args, ProblemNeedsReauth)
	default:
		return Connection{}, err
	}
	c, uerr := scanConnection(s.DB.QueryRow(ctx, `UPDATE connections SET `+stmt+`
		WHERE id = $1 AND user_id = $2 RETURNING `+connectionColumns, args...))
	if uerr != nil {
		return Connection{}, fmt.Errorf("links: record check of connection %d: %w", connectionID, uerr)
	}
	return c, err
}

// checkProfile fetches and maps the userinfo document of call's connection.
// Every failure the provider or its settings cause is a *CheckError; a
// *ReauthError, ErrNotFound and accounts.ErrAccountDisabled come back as they are.
func (s *Service) checkProfile(ctx context.Context, p *oauth.Provider, call APICall) (oauth.Profile, error) {
	endpoint, err := s.Client.UserinfoURL(ctx, p)
	if err != nil {
		return oauth.Profile{}, checkFailure(err)
	}
	if endpoint == "" {
		return oauth.Profile{}, &CheckError{Problem: ProblemMisconfigured, Detail: "no userinfo endpoint"}
	}
	hosts := []string{hostOf(endpoint), hostOf(p.APIBaseURL)}
	get := func(raw string) ([]byte, error) {
		if h := hostOf(raw); h == "" || (!strings.EqualFold(h, hosts[0]) && !strings.EqualFold(h, hosts[1])) {
			return nil, &CheckError{Problem: ProblemMisconfigured, Detail: "URL not on the provider's hosts"}
		}
		return s.checkGet(ctx, p, call, raw, raw == endpoint)
	}
	raw, err := get(endpoint)
	if err != nil {
		return oauth.Profile{}, err
	}
	var prof oauth.Profile
	if p.ProfileFunc != nil {
		prof, err = p.ProfileFunc(raw, get)
	} else {
		prof, err = oauth.MapJSON(raw, p.Profile)
	}
	if err == nil {
		err = prof.Validate()
	}
	if err != nil {
		if ce := (*CheckError)(nil); errors.As(err, &ce) {
			return oauth.Profile{}, ce
		}
		if errors.Is(err, ErrReauthRequired) {
			return oauth.Profile{}, err
		}
		return oauth.Profile{}, &CheckError{Problem: ProblemBadProfile, Detail: events.Clip(err.Error(), 200)}
	}
	return prof, nil
}

// checkGet sends one request of a check through call: to rawURL, under a
// copy of p whose API base URL is rawURL's directory, so the userinfo
// endpoint is reached even where it lies outside the API. The userinfo
// request of a provider that wants one is a POST of its JSON body.
func (s *Service) checkGet(ctx context.Context, p *oauth.Provider, call APICall, rawURL string, userinfo bool) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &CheckError{Problem: ProblemMisconfigured, Detail: "bad userinfo URL"}
	}
	dir, last := u.EscapedPath(), ""
	if i := strings.LastIndex(dir, "/"); i >= 0 {
		dir, last = dir[:i+1], dir[i+1:]
	}
	under := *p
	under.APIBaseURL = u.Scheme + "://" + u.Host + dir
	call.Request = oauth.APIRequest{Method: http.MethodGet, Path: last, RawQuery: u.RawQuery,
		Header: http.Header{"Accept": {"application/json"}}, ContentLength: -1}
	if userinfo && p.UserinfoBody != "" {
		call.Request.Method, call.Request.Body = http.MethodPost, strings.NewReader(p.UserinfoBody)
		call.Request.ContentLength = int64(len(p.UserinfoBody))
		call.Request.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.call(ctx, &under, call, false)
	if err != nil {
		return nil, checkFailure(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCheckBody+1))
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, &CheckError{Problem: ProblemProviderError, Detail: statusDetail(resp.StatusCode, body)}
	case err != nil:
		return nil, checkFailure(err)
	case len(body) > maxCheckBody:
		return nil, &CheckError{Problem: ProblemBadProfile, Detail: "response larger than 1 MiB"}
	}
	return body, nil
}

// checkFailure sorts an error on a check's way into what the page says:
// the connection's own state (reconnect, gone, disabled) as it is, the
// rest as a *CheckError.
func checkFailure(err error) error {
	pe := (*oauth.ProviderError)(nil)
	switch {
	case errors.Is(err, ErrReauthRequired), errors.Is(err, ErrNotFound), errors.Is(err, accounts.ErrAccountDisabled),
		errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, oauth.ErrTimeout):
		return &CheckError{Problem: ProblemUnreachable, Detail: "no answer in time"}
	case errors.Is(err, oauth.ErrUnreachable):
		return &CheckError{Problem: ProblemUnreachable}
	case errors.As(err, &pe):
		detail := pe.Step
		if pe.Status != 0 {
			detail += " HTTP " + strconv.Itoa(pe.Status)
		}
		if pe.Code != "" {
			detail += " " + pe.Code
		}
		return &CheckError{Problem: ProblemProviderError, Detail: detail}
	case errors.Is(err, oauth.ErrMisconfigured), errors.Is(err, oauth.ErrInvalidPath), errors.Is(err, oauth.ErrNoAPI):
		return &CheckError{Problem: ProblemMisconfigured}
	}
	return err
}

// statusDetail is "HTTP 500", with the OAuth error code when the body
// carries one ({"error": "invalid_token"}).
func statusDetail(status int, body []byte) string {
	detail := "HTTP " + strconv.Itoa(status)
	var doc struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil {
		if code, ok := doc.Error.(string); ok && code != "" {
			detail += " " + events.Clip(code, 60)
		}
	}
	return detail
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
