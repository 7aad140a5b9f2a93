package httpserver

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/i18n"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/paging"
)

// TestErrorTableNamesEachConditionOnce: every row is reachable (no row
// before it takes its error), names its error once, and has a code and
// words in every language; only bad input, which says itself what is
// wrong, leaves its message to the error.
func TestErrorTableNamesEachConditionOnce(t *testing.T) {
	code := regexp.MustCompile(`^[a-z_]+$`)
	own := map[error]bool{errMalformedJSON: true, errInvalidField: true, errInvalidFilter: true}
	seen := map[error]bool{}
	for i, r := range errorTable {
		if seen[r.err] {
			t.Errorf("row %d: %v has a row already", i, r.err)
		}
		seen[r.err] = true
		if got := rowOf(r.err); got != r {
			t.Errorf("row %d (%v) is shadowed by the row of %v", i, r.err, got.err)
		}
		if r.status < 400 || r.status > 599 || !code.MatchString(r.code) {
			t.Errorf("row %d (%v): status %d, code %q", i, r.err, r.status, r.code)
		}
		if (r.message == "") != own[r.err] {
			t.Errorf("row %d (%v): message %q; only bad input leaves it to the error", i, r.err, r.message)
		}
		for _, lang := range i18n.Languages {
			msgs := i18n.Embedded().Messages(lang.Code)
			for _, id := range []string{r.title, r.message} {
				if m := msgs[id]; id != "" && (m == nil || m.Other == "") {
					t.Errorf("row %d (%v): %s has no %q", i, r.err, lang.Code, id)
				}
			}
		}
	}
}

// TestErrorsThatAreATypeOrATest: errors the table cannot name by value
// find their row, and bring their own words and field.
func TestErrorsThatAreATypeOrATest(t *testing.T) {
	for _, tc := range []struct {
		err         error
		status      int
		code, field string
		ownWords    string
	}{
		{fmt.Errorf("limit: %w", paging.ErrLimit), http.StatusBadRequest, "invalid_limit", "", ""},
		{fmt.Errorf("list users: %w", paging.ErrCursor), http.StatusBadRequest, "invalid_cursor", "", ""},
		{&admin.FilterError{Field: "status", Message: "The status must be one of ..."}, http.StatusBadRequest, "invalid_filter", "status", "The status must be"},
		{fmt.Errorf("sign up: %w", &accounts.FieldError{Field: "email", Message: "Enter your email address."}),
			http.StatusUnprocessableEntity, "invalid_field", "email", "Enter your email"},
		{&jsonError{err: errors.New(`json: unknown field "admin"`)}, http.StatusBadRequest, "malformed_json", "", `documented shape: json: unknown field "admin"`},
		{fmt.Errorf("refresh: %w", &oauth.ProviderError{Step: "token", Code: "invalid_grant"}), http.StatusBadGateway, "provider_error", "", ""},
		{fmt.Errorf("query: %w", &pgconn.ConnectError{}), http.StatusServiceUnavailable, "unavailable", "", ""},
		{echo.ErrNotFound, http.StatusNotFound, "not_found", "", ""},
		{echo.NewHTTPError(http.StatusConflict), http.StatusConflict, "conflict", "", ""},
		{errors.New("surprise"), http.StatusInternalServerError, "internal", "", ""},
		{&problemFields{err: fmt.Errorf("x: %w", errCSRF), fields: map[string]any{"k": 1}}, http.StatusForbidden, "csrf_failed", "", ""},
	} {
		e := lookupError(tc.err)
		if e.status != tc.status || e.code != tc.code {
			t.Errorf("%v: %d %s, want %d %s", tc.err, e.status, e.code, tc.status, tc.code)
		}
		if got, _ := e.extra["field"].(string); got != tc.field {
			t.Errorf("%v: field %q, want %q", tc.err, got, tc.field)
		}
		switch {
		case tc.ownWords == "" && e.own != nil:
			t.Errorf("%v: own words %q", tc.err, e.own.message)
		case tc.ownWords != "" && (e.own == nil || !strings.Contains(e.own.message, tc.ownWords)):
			t.Errorf("%v: own words %+v, want some saying %q", tc.err, e.own, tc.ownWords)
		}
	}
}

// TestPasskeyRefusalsHaveTheirRows: each refusal a passkey ceremony answers
// has its own row; the disabled account's once fell through to a 500.
func TestPasskeyRefusalsHaveTheirRows(t *testing.T) {
	internal := lookupError(errors.New("something else"))
	for _, err := range passkeyRefusals {
		if e := lookupError(err); e.code == internal.code || e.status >= 500 {
			t.Errorf("%v answers %d %s", err, e.status, e.code)
		}
	}
	if e := lookupError(accounts.ErrAccountDisabled); e.status != http.StatusForbidden || e.code != "account_disabled" {
		t.Errorf("a disabled account's passkey answers %d %s, want 403 account_disabled", e.status, e.code)
	}
}
