package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/paging"
)

// UserQuery selects a page of users. The zero value is the first page of
// every user, newest first.
type UserQuery struct {
	Q        string // part of the email or display name
	Role     string // "" any, "admin" or "user"
	State    string // "" any, "active" or "disabled"
	Verified string // "" any, "yes": a proven address, "no": none proven (or none at all)
	MFA      string // "" any, "on": with a second factor, "off": without
	Sort     string // "created" (default) or "email"
	Desc     bool
	Cursor   string
	Limit    int
}

// UserRow is one user in the list.
type UserRow struct {
	ID            int64      `json:"id"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	Name          string     `json:"name"` // from the first linked account that has one
	IsAdmin       bool       `json:"is_admin"`
	Disabled      bool       `json:"disabled"`
	HasPassword   bool       `json:"has_password"`
	Connections   int64      `json:"connections"`
	CreatedAt     time.Time  `json:"created_at"`
	LastLoginAt   *time.Time `json:"last_login_at"` // the last completed log-in, nil when never
}

// userSorts maps a sort name to its key expression; each has an index.
var userSorts = map[string]string{
	"created": "u.created_at",
	"email":   "coalesce(u.email, '')",
}

// The users list's filters: each value's condition. Every condition has an
// index for its rare side (migrations 000014 and 000027), and the common
// side is read along the sort's index.
var userFilters = map[string]map[string]string{
	"role":     {"admin": "u.is_admin", "user": "NOT u.is_admin"},
	"state":    {"active": "u.disabled_at IS NULL", "disabled": "u.disabled_at IS NOT NULL"},
	"verified": {"yes": "u.email_verified_at IS NOT NULL", "no": "u.email_verified_at IS NULL"},
	// Few accounts have a second factor where it is optional: the IN lets
	// PostgreSQL start from those few instead of testing every account.
	"mfa": {"on": "u.id IN (SELECT f.user_id FROM totp_factors f WHERE f.secret IS NOT NULL UNION ALL SELECT p.user_id FROM passkeys p)",
		"off": "NOT EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.secret IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)"},
}

// userFilterMessages say what each filter takes.
var userFilterMessages = map[string]FilterError{
	"role":     {Field: "role", MessageID: "filter.role", Message: `Filter the role by "admin" or "user".`},
	"state":    {Field: "state", MessageID: "filter.state", Message: `Filter the state by "active" or "disabled".`},
	"verified": {Field: "verified", MessageID: "filter.verified", Message: `Filter the address by "yes" (verified) or "no" (not verified).`},
	"mfa":      {Field: "mfa", MessageID: "filter.mfa", Message: `Filter two-step verification by "on" or "off".`},
}

// ParseUserQuery checks the users list's query-string values, read by get
// (url.Values.Get): q, role, state, verified, mfa, sort, dir, cursor and
// limit.
func ParseUserQuery(get func(string) string) (UserQuery, error) {
	uq := UserQuery{Q: get("q"), Role: get("role"), State: get("state"), Verified: get("verified"), MFA: get("mfa"),
		Sort: get("sort"), Cursor: get("cursor")}
	if uq.Sort == "" {
		uq.Sort = "created"
	}
	if _, ok := userSorts[uq.Sort]; !ok {
		return UserQuery{}, badFilter(FilterError{Field: "sort", MessageID: "filter.sort_users", Message: `Sort users by "created" or "email".`})
	}
	for field, v := range map[string]string{"role": uq.Role, "state": uq.State, "verified": uq.Verified, "mfa": uq.MFA} {
		if _, ok := userFilters[field][v]; v != "" && !ok {
			return UserQuery{}, badFilter(userFilterMessages[field])
		}
	}
	var err error
	if uq.Desc, err = parseDir(get("dir")); err != nil {
		return UserQuery{}, err
	}
	if uq.Limit, err = paging.Limit(get("limit")); err != nil {
		return UserQuery{}, err
	}
	return uq, nil
}

// userWhere is the filters of uq as conditions.
func userWhere(uq UserQuery) (where, error) {
	var w where
	if uq.Q != "" {
		// Both sides have a trigram index, so PostgreSQL ORs two bitmaps.
		if err := w.addSearch("(u.email ILIKE ? OR u.name ILIKE ?)", uq.Q); err != nil {
			return where{}, err
		}
	}
	fields := []string{"role", "state", "verified", "mfa"}
	values := []string{uq.Role, uq.State, uq.Verified, uq.MFA}
	for i, field := range fields {
		if values[i] == "" {
			continue
		}
		cond, ok := userFilters[field][values[i]]
		if !ok {
			return where{}, badFilter(userFilterMessages[field])
		}
		w.add(cond)
	}
	return w, nil
}

// Users answers one page of users.
func (s *Service) Users(ctx context.Context, uq UserQuery) (Page[UserRow], error) {
	sortKey := cmp.Or(uq.Sort, "created")
	expr, ok := userSorts[sortKey]
	if !ok {
		return Page[UserRow]{}, badFilter(FilterError{Field: "sort", MessageID: "filter.sort_users", Message: `Sort users by "created" or "email".`})
	}
	w, err := userWhere(uq)
	if err != nil {
		return Page[UserRow]{}, err
	}
	l := list{
		cols: `u.id, coalesce(u.email, ''), u.email_verified_at IS NOT NULL, u.name, u.is_admin, u.disabled_at IS NOT NULL,
		       u.password_hash IS NOT NULL, (SELECT count(*) FROM connections c WHERE c.user_id = u.id), u.created_at,
		       (SELECT l.at FROM last_logins l WHERE l.user_id = u.id)`,
		name: "users", from: "users u", sortKey: expr, id: "u.id", desc: uq.Desc, sortID: sortKey + direction(uq.Desc),
		isTime: sortKey == "created", where: w, limit: paging.Size(uq.Limit),
	}
	p, err := listPage(ctx, s, l, uq.Cursor, func(r pgx.Rows, key any) (UserRow, int64, error) {
		var u UserRow
		err := r.Scan(&u.ID, &u.Email, &u.EmailVerified, &u.Name, &u.IsAdmin, &u.Disabled, &u.HasPassword, &u.Connections,
			&u.CreatedAt, &u.LastLoginAt, key)
		return u, u.ID, err
	}, func(ctx context.Context) (Total, error) { return s.userTotal(ctx, uq, w) })
	if err != nil {
		return Page[UserRow]{}, wrapList("list users", err)
	}
	return p, nil
}

// userTotal counts the users uq selects. Role or state alone (or no filter
// at all) is read from the counters the triggers of migration 000014 keep,
// exact however many accounts there are; anything else is counted.
func (s *Service) userTotal(ctx context.Context, uq UserQuery, w where) (Total, error) {
	if uq.Q != "" || uq.Verified != "" || uq.MFA != "" || (uq.Role != "" && uq.State != "") {
		return s.count(ctx, "users u", w)
	}
	var users, admins, disabled int64
	err := s.db.QueryRow(ctx, `SELECT coalesce(sum(users), 0), coalesce(sum(admins), 0), coalesce(sum(disabled), 0) FROM user_counts`).
		Scan(&users, &admins, &disabled)
	switch {
	case uq.Role == "admin":
		return exact(admins), err
	case uq.Role == "user":
		return exact(users - admins), err
	case uq.State == "disabled":
		return exact(disabled), err
	case uq.State == "active":
		return exact(users - disabled), err
	}
	return exact(users), err
}

// keyArg is a cursor key as a query argument of the sort column's type.
func keyArg(key string, isTime bool) any {
	if isTime {
		t, _ := time.Parse(time.RFC3339Nano, key) // decodeCursor checked it parses
		return t
	}
	return key
}

// wrapList names the list in an error, leaving a FilterError as it is.
func wrapList(what string, err error) error {
	var fe *FilterError
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// LastLogin is when the user last completed a log-in, nil when never (or
// not since migration 000027 began keeping it for events already pruned).
func (s *Service) LastLogin(ctx context.Context, userID int64) (*time.Time, error) {
	var at *time.Time
	err := s.db.QueryRow(ctx, `SELECT (SELECT at FROM last_logins WHERE user_id = $1)`, userID).Scan(&at)
	if err != nil {
		return nil, fmt.Errorf("last log-in: %w", err)
	}
	return at, nil
}
