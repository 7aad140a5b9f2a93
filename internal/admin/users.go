package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// UserQuery selects a page of users. The zero value is the first page of
// every user, newest first.
type UserQuery struct {
	Q      string // part of the email
	MFA    string // "" any, "on": with a second factor, "off": without
	Sort   string // "created" (default) or "email"
	Desc   bool
	Cursor string
	Limit  int
}

// UserRow is one user in the list.
type UserRow struct {
	ID            int64     `json:"id"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name"` // from the first linked account that has one
	IsAdmin       bool      `json:"is_admin"`
	Disabled      bool      `json:"disabled"`
	HasPassword   bool      `json:"has_password"`
	Connections   int64     `json:"connections"`
	CreatedAt     time.Time `json:"created_at"`
}

// userSorts maps a sort name to its key expression; each has an index.
var userSorts = map[string]string{
	"created": "u.created_at",
	"email":   "coalesce(u.email, '')",
}

// ParseUserQuery checks the raw query-string values of the users list.
func ParseUserQuery(q, sort, dir, cur, limit string) (UserQuery, error) {
	uq := UserQuery{Q: q, Sort: sort, Cursor: cur}
	if uq.Sort == "" {
		uq.Sort = "created"
	}
	if _, ok := userSorts[uq.Sort]; !ok {
		return UserQuery{}, badFilter("sort", `Sort users by "created" or "email".`)
	}
	var err error
	if uq.Desc, err = parseDir(dir); err != nil {
		return UserQuery{}, err
	}
	if uq.Limit, err = Limit(limit); err != nil {
		return UserQuery{}, err
	}
	return uq, nil
}

// Users answers one page of users and the cursor of the next page ("" on
// the last one).
func (s *Service) Users(ctx context.Context, uq UserQuery) ([]UserRow, string, error) {
	sortKey := uq.Sort
	if sortKey == "" {
		sortKey = "created"
	}
	expr, ok := userSorts[sortKey]
	if !ok {
		return nil, "", badFilter("sort", `Sort users by "created" or "email".`)
	}
	sortID := sortKey + direction(uq.Desc)
	isTime := sortKey == "created"
	c, more, err := decodeCursor(uq.Cursor, sortID, isTime)
	if err != nil {
		return nil, "", err
	}
	var w where
	if uq.Q != "" {
		pat, err := searchPattern(uq.Q)
		if err != nil {
			return nil, "", err
		}
		// Both sides have a trigram index, so PostgreSQL ORs two bitmaps.
		w.add("(u.email ILIKE ? OR u.name ILIKE ?)", pat, pat)
	}
	switch uq.MFA {
	case "on":
		w.add("(EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.secret IS NOT NULL) OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id))")
	case "off":
		w.add("NOT EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.secret IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)")
	}
	if more {
		w.keyset(expr, "u.id", uq.Desc, keyArg(c.Key, isTime), c.ID)
	}
	limit := limitOf(uq.Limit)
	sql := `SELECT u.id, coalesce(u.email, ''), u.email_verified_at IS NOT NULL, u.name, u.is_admin, u.disabled_at IS NOT NULL, u.password_hash IS NOT NULL,
	        (SELECT count(*) FROM connections c WHERE c.user_id = u.id), u.created_at, ` + expr + `::text
	        FROM users u` + w.sql() + ` ORDER BY ` + expr + direction(uq.Desc) + `, u.id` + direction(uq.Desc) +
		fmt.Sprintf(" LIMIT %d", limit+1)
	rows, err := s.db.Query(ctx, sql, customPlan(w.args)...)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	var keys []string
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UserRow, error) {
		var u UserRow
		var k string
		err := r.Scan(&u.ID, &u.Email, &u.EmailVerified, &u.Name, &u.IsAdmin, &u.Disabled, &u.HasPassword, &u.Connections, &u.CreatedAt, &k)
		keys = append(keys, k)
		return u, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	if len(list) <= limit {
		return list, "", nil
	}
	list = list[:limit]
	key := keys[limit-1]
	if isTime {
		key = timeKey(list[limit-1].CreatedAt)
	}
	return list, cursor{Sort: sortID, Key: key, ID: list[limit-1].ID}.encode(), nil
}

// keyArg is a cursor key as a query argument of the sort column's type.
func keyArg(key string, isTime bool) any {
	if isTime {
		t, _ := time.Parse(time.RFC3339Nano, key) // decodeCursor checked it parses
		return t
	}
	return key
}

// ParseMFAFilter checks the users list's second-factor filter.
func ParseMFAFilter(v string) (string, error) {
	switch v {
	case "", "on", "off":
		return v, nil
	}
	return "", badFilter("mfa", `Filter two-step verification by "on" or "off".`)
}
