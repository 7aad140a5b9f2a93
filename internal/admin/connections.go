package admin

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// ConnectionQuery selects a page of connections. The zero value is the
// first page of every connection, newest first.
type ConnectionQuery struct {
	UserID   int64 // one user's connections (the user page); 0 is everyone's
	Provider string
	Status   string // active, expiring, needs_reauth or revoked
	Q        string // part of the username, display name, email or provider user id
	Sort     string // "created" (default) or "last_used"
	Desc     bool
	Cursor   string
	Limit    int
}

// ConnectionRow is one connection in the list; it never carries a token.
type ConnectionRow struct {
	ID             int64      `json:"id"`
	UserID         int64      `json:"user_id"`
	UserEmail      string     `json:"user_email"`
	Provider       string     `json:"provider"`
	ProviderUserID string     `json:"provider_user_id"`
	Username       string     `json:"username"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Status         string     `json:"status"`
	Scopes         []string   `json:"scopes"`
	ExpiresAt      *time.Time `json:"expires_at"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
}

// connectionSorts maps a sort name to its key expression; with each
// provider/status combination it has an index (migration 000014).
var connectionSorts = map[string]string{
	"created":   "c.created_at",
	"last_used": "coalesce(c.last_used_at, 'epoch')",
}

// ConnectionSearchExpr is the expression the trigram index covers; a
// search must use exactly it for the index to apply.
const connectionSearchExpr = "(c.username || ' ' || c.name || ' ' || c.email || ' ' || c.provider_user_id)"

// Statuses are the connection statuses a list can be filtered by.
var Statuses = []string{"active", "expiring", "needs_reauth", "revoked"}

var providerID = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ParseConnectionQuery checks the raw query-string values of the
// connections list.
func ParseConnectionQuery(provider, status, q, sort, dir, cur, limit string) (ConnectionQuery, error) {
	cq := ConnectionQuery{Provider: provider, Status: status, Q: q, Sort: sort, Cursor: cur}
	if cq.Sort == "" {
		cq.Sort = "created"
	}
	if err := cq.check(); err != nil {
		return ConnectionQuery{}, err
	}
	var err error
	if cq.Desc, err = parseDir(dir); err != nil {
		return ConnectionQuery{}, err
	}
	if cq.Limit, err = Limit(limit); err != nil {
		return ConnectionQuery{}, err
	}
	return cq, nil
}

func (cq ConnectionQuery) check() error {
	if _, ok := connectionSorts[cq.Sort]; !ok {
		return badFilter("sort", `Sort connections by "created" or "last_used".`)
	}
	if cq.Provider != "" && !providerID.MatchString(cq.Provider) {
		return badFilter("provider", "A provider id is lower-case letters, digits, dots, dashes and underscores.")
	}
	if cq.Status != "" && !slices.Contains(Statuses, cq.Status) {
		return badFilter("status", "The status must be one of active, expiring, needs_reauth or revoked.")
	}
	return nil
}

// connectionSQL builds the list query for cq: no LIMIT, so the CSV export
// can stream every row of the same filter.
func connectionSQL(cq ConnectionQuery) (string, []any, string, error) {
	if cq.Sort == "" {
		cq.Sort = "created"
	}
	if err := cq.check(); err != nil {
		return "", nil, "", err
	}
	expr := connectionSorts[cq.Sort]
	sortID := cq.Sort + direction(cq.Desc)
	c, more, err := decodeCursor(cq.Cursor, sortID, true)
	if err != nil {
		return "", nil, "", err
	}
	var w where
	if cq.UserID != 0 {
		w.add("c.user_id = ?", cq.UserID)
	}
	if cq.Provider != "" {
		w.add("c.provider = ?", cq.Provider)
	}
	if cq.Status != "" {
		w.add("c.status = ?", cq.Status)
	}
	if cq.Q != "" {
		pat, err := searchPattern(cq.Q)
		if err != nil {
			return "", nil, "", err
		}
		w.add(connectionSearchExpr+" ILIKE ?", pat)
	}
	if more {
		w.keyset(expr, "c.id", cq.Desc, keyArg(c.Key, true), c.ID)
	}
	sql := `SELECT c.id, c.user_id, coalesce(u.email, ''), c.provider, c.provider_user_id, c.username, c.name,
	        c.email, c.status, c.scopes, c.expires_at, c.created_at, c.last_used_at, ` + expr + `
	        FROM connections c JOIN users u ON u.id = c.user_id` + w.sql() +
		` ORDER BY ` + expr + direction(cq.Desc) + `, c.id` + direction(cq.Desc)
	return sql, w.args, sortID, nil
}

func scanConnectionRow(r pgx.Rows) (ConnectionRow, time.Time, error) {
	var cr ConnectionRow
	var key time.Time
	err := r.Scan(&cr.ID, &cr.UserID, &cr.UserEmail, &cr.Provider, &cr.ProviderUserID, &cr.Username, &cr.Name,
		&cr.Email, &cr.Status, &cr.Scopes, &cr.ExpiresAt, &cr.CreatedAt, &cr.LastUsedAt, &key)
	return cr, key, err
}

// Connections answers one page of connections and the next page's cursor
// ("" on the last one).
func (s *Service) Connections(ctx context.Context, cq ConnectionQuery) ([]ConnectionRow, string, error) {
	sql, args, sortID, err := connectionSQL(cq)
	if err != nil {
		return nil, "", err
	}
	limit := limitOf(cq.Limit)
	rows, err := s.db.Query(ctx, sql+fmt.Sprintf(" LIMIT %d", limit+1), customPlan(args)...)
	if err != nil {
		return nil, "", fmt.Errorf("list connections: %w", err)
	}
	defer rows.Close()
	var list []ConnectionRow
	var keys []time.Time
	for rows.Next() {
		cr, key, err := scanConnectionRow(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list connections: %w", err)
		}
		list, keys = append(list, cr), append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list connections: %w", err)
	}
	if len(list) <= limit {
		return list, "", nil
	}
	list = list[:limit]
	return list, cursor{Sort: sortID, Key: timeKey(keys[limit-1]), ID: list[limit-1].ID}.encode(), nil
}

// EachConnection calls fn for every connection matching cq (its cursor and
// limit ignored), streaming rows from one query, for the CSV export.
func (s *Service) EachConnection(ctx context.Context, cq ConnectionQuery, fn func(ConnectionRow) error) error {
	cq.Cursor = ""
	sql, args, _, err := connectionSQL(cq)
	if err != nil {
		return err
	}
	rows, err := s.db.Query(ctx, sql, customPlan(args)...)
	if err != nil {
		return fmt.Errorf("export connections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		cr, _, err := scanConnectionRow(rows)
		if err != nil {
			return fmt.Errorf("export connections: %w", err)
		}
		if err := fn(cr); err != nil {
			return err
		}
	}
	return rows.Err()
}
