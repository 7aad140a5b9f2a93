// Package admin answers administrators' questions about the whole service.
// It only reads: every change an administrator makes goes through the
// package that owns the data, so the same rules and events apply.
package admin

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Stats is the dashboard's overview.
type Stats struct {
	Users, Admins, Connections, NeedsReauth int64
	LoginsOK24h, LoginsFailed24h            int64
	ByProvider                              []ProviderCount
}

// ProviderCount is the number of connections to one provider.
type ProviderCount struct {
	Provider string
	Count    int64
}

// Service reads the overview.
type Service struct {
	db *pgxpool.Pool
}

// New returns a Service.
func New(db *pgxpool.Pool) *Service { return &Service{db: db} }

// Dashboard counts users, connections and the last day's log-ins in one
// round trip.
func (s *Service) Dashboard(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM users),
		       (SELECT count(*) FROM users WHERE is_admin),
		       (SELECT count(*) FROM connections),
		       (SELECT count(*) FROM connections WHERE status = 'needs_reauth'),
		       (SELECT count(*) FROM events WHERE kind = 'login_completed' AND created_at > now() - interval '24 hours'),
		       (SELECT count(*) FROM events WHERE kind = 'login_failed' AND created_at > now() - interval '24 hours')`).
		Scan(&st.Users, &st.Admins, &st.Connections, &st.NeedsReauth, &st.LoginsOK24h, &st.LoginsFailed24h)
	if err != nil {
		return Stats{}, fmt.Errorf("dashboard: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT provider, count(*) FROM connections GROUP BY provider ORDER BY count(*) DESC, provider`)
	if err != nil {
		return Stats{}, fmt.Errorf("dashboard: %w", err)
	}
	st.ByProvider, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProviderCount, error) {
		var pc ProviderCount
		return pc, r.Scan(&pc.Provider, &pc.Count)
	})
	return st, err
}
