package admin

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/paging"
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

// ParseConnectionQuery checks the connections list's query-string values,
// read by get (url.Values.Get): provider, status, q, sort, dir, cursor and
// limit.
func ParseConnectionQuery(get func(string) string) (ConnectionQuery, error) {
	cq := ConnectionQuery{Provider: get("provider"), Status: get("status"), Q: get("q"), Sort: get("sort"), Cursor: get("cursor")}
	if cq.Sort == "" {
		cq.Sort = "created"
	}
	if err := cq.check(); err != nil {
		return ConnectionQuery{}, err
	}
	var err error
	if cq.Desc, err = parseDir(get("dir")); err != nil {
		return ConnectionQuery{}, err
	}
	if cq.Limit, err = paging.Limit(get("limit")); err != nil {
		return ConnectionQuery{}, err
	}
	return cq, nil
}

func (cq ConnectionQuery) check() error {
	if _, ok := connectionSorts[cq.Sort]; !ok {
		return badFilter(FilterError{Field: "sort", MessageID: "filter.sort_connections", Message: `Sort connections by "created" or "last_used".`})
	}
	if cq.Provider != "" && !providerID.MatchString(cq.Provider) {
		return badFilter(FilterError{Field: "provider", MessageID: "filter.provider",
			Message: "A provider id is lower-case letters, digits, dots, dashes and underscores."})
	}
	if cq.Status != "" && !slices.Contains(Statuses, cq.Status) {
		return badFilter(FilterError{Field: "status", MessageID: "filter.status",
			Message: "The status must be one of active, expiring, needs_reauth or revoked."})
	}
	return nil
}

// connectionWhere is the filters of cq as conditions.
func connectionWhere(cq ConnectionQuery) (where, error) {
	if err := cq.check(); err != nil {
		return where{}, err
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
		if err := w.addSearch(connectionSearchExpr+" ILIKE ?", cq.Q); err != nil {
			return where{}, err
		}
	}
	return w, nil
}

// connectionCols are a ConnectionRow's columns, as scanConnection reads them.
const connectionCols = `c.id, c.user_id, coalesce((SELECT u.email FROM users u WHERE u.id = c.user_id), ''), c.provider,
	c.provider_user_id, c.username, c.name, c.email, c.status, c.scopes, c.expires_at, c.created_at, c.last_used_at`

func scanConnection(r pgx.Rows, more ...any) (ConnectionRow, error) {
	var cr ConnectionRow
	err := r.Scan(append([]any{&cr.ID, &cr.UserID, &cr.UserEmail, &cr.Provider, &cr.ProviderUserID, &cr.Username, &cr.Name,
		&cr.Email, &cr.Status, &cr.Scopes, &cr.ExpiresAt, &cr.CreatedAt, &cr.LastUsedAt}, more...)...)
	return cr, err
}

// Connections answers one page of connections.
func (s *Service) Connections(ctx context.Context, cq ConnectionQuery) (Page[ConnectionRow], error) {
	cq.Sort = cmp.Or(cq.Sort, "created")
	w, err := connectionWhere(cq)
	if err != nil {
		return Page[ConnectionRow]{}, err
	}
	l := list{name: "connections", cols: connectionCols, from: "connections c", sortKey: connectionSorts[cq.Sort], id: "c.id",
		desc: cq.Desc, sortID: cq.Sort + direction(cq.Desc), isTime: true, where: w, limit: paging.Size(cq.Limit)}
	p, err := listPage(ctx, s, l, cq.Cursor, func(r pgx.Rows, key any) (ConnectionRow, int64, error) {
		cr, err := scanConnection(r, key)
		return cr, cr.ID, err
	}, func(ctx context.Context) (Total, error) { return s.connectionTotal(ctx, cq, w) })
	if err != nil {
		return Page[ConnectionRow]{}, wrapList("list connections", err)
	}
	return p, nil
}

// connectionTotal counts the connections cq selects. Provider and status
// (alone, together or neither) are read from the counters the triggers of
// migration 000014 keep, exact at any size; a search or one user's
// connections are counted.
func (s *Service) connectionTotal(ctx context.Context, cq ConnectionQuery, w where) (Total, error) {
	if cq.Q != "" || cq.UserID != 0 {
		return s.count(ctx, "connections c", w)
	}
	var n int64
	err := s.db.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM connection_counts WHERE ($1 = '' OR provider = $1) AND ($2 = '' OR status = $2)`,
		cq.Provider, cq.Status).Scan(&n)
	return exact(n), err
}

// EachConnection calls fn for every connection matching cq (its cursor and
// limit ignored), in the list's order, streaming rows from one query, for
// the CSV export.
func (s *Service) EachConnection(ctx context.Context, cq ConnectionQuery, fn func(ConnectionRow) error) error {
	cq.Sort = cmp.Or(cq.Sort, "created")
	w, err := connectionWhere(cq)
	if err != nil {
		return err
	}
	expr := connectionSorts[cq.Sort]
	rows, err := s.db.Query(ctx, "SELECT "+connectionCols+" FROM connections c"+w.sql()+
		" ORDER BY "+expr+direction(cq.Desc)+", c.id"+direction(cq.Desc), customPlan(w.args)...)
	if err != nil {
		return fmt.Errorf("export connections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		cr, err := scanConnection(rows)
		if err != nil {
			return fmt.Errorf("export connections: %w", err)
		}
		if err := fn(cr); err != nil {
			return err
		}
	}
	return rows.Err()
}
