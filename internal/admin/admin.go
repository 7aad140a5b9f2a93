// Package admin answers administrators' questions about the whole service.
// It only reads: every change an administrator makes goes through the
// package that owns the data, so the same rules and events apply.
package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"
)

// Stats is the dashboard's overview.
type Stats struct {
	Users, Admins, Disabled, Connections, NeedsReauth int64
	LoginsOK24h, LoginsFailed24h                      int64
	LoginsOK30d, LoginsFailed30d                      int64
	ByProvider                                        []ProviderCount
	Days                                              []DayCount // the last 30 UTC days, oldest first
}

// ProviderCount is the number of connections to one provider.
type ProviderCount struct {
	Provider    string
	Count       int64
	NeedsReauth int64
}

// DayCount is one UTC day's log-ins.
type DayCount struct {
	Day        time.Time
	OK, Failed int64
}

// Service reads the overview.
type Service struct {
	db *pgxpool.Pool
}

// New returns a Service.
func New(db *pgxpool.Pool) *Service { return &Service{db: db} }

// Dashboard gathers the overview. Its three queries are independent and run
// at once on separate connections, so the page costs the slowest of them.
func (s *Service) Dashboard(ctx context.Context) (Stats, error) {
	var st Stats
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return s.db.QueryRow(ctx, `
			SELECT (SELECT count(*) FROM users),
			       (SELECT count(*) FROM users WHERE is_admin),
			       (SELECT count(*) FROM users WHERE disabled_at IS NOT NULL),
			       (SELECT count(*) FROM events WHERE kind = 'login_completed' AND created_at > now() - interval '24 hours'),
			       (SELECT count(*) FROM events WHERE kind = 'login_failed' AND created_at > now() - interval '24 hours')`).
			Scan(&st.Users, &st.Admins, &st.Disabled, &st.LoginsOK24h, &st.LoginsFailed24h)
	})
	g.Go(func() error {
		rows, err := s.db.Query(ctx, `SELECT provider, count(*), count(*) FILTER (WHERE status = 'needs_reauth')
			FROM connections GROUP BY provider ORDER BY count(*) DESC, provider`)
		if err != nil {
			return err
		}
		st.ByProvider, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProviderCount, error) {
			var pc ProviderCount
			return pc, r.Scan(&pc.Provider, &pc.Count, &pc.NeedsReauth)
		})
		return err
	})
	g.Go(func() error {
		// One index range scan per day and kind (events_kind_created_idx).
		rows, err := s.db.Query(ctx, `
			SELECT d, (SELECT count(*) FROM events WHERE kind = 'login_completed' AND created_at >= d AND created_at < d + interval '1 day'),
			          (SELECT count(*) FROM events WHERE kind = 'login_failed' AND created_at >= d AND created_at < d + interval '1 day')
			FROM generate_series(date_trunc('day', now() AT TIME ZONE 'UTC') - interval '29 days',
			                     date_trunc('day', now() AT TIME ZONE 'UTC'), interval '1 day') AS g(day),
			     LATERAL (SELECT g.day AT TIME ZONE 'UTC') AS t(d)
			ORDER BY d`)
		if err != nil {
			return err
		}
		st.Days, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DayCount, error) {
			var dc DayCount
			return dc, r.Scan(&dc.Day, &dc.OK, &dc.Failed)
		})
		return err
	})
	if err := g.Wait(); err != nil {
		return Stats{}, fmt.Errorf("dashboard: %w", err)
	}
	for _, pc := range st.ByProvider {
		st.Connections += pc.Count
		st.NeedsReauth += pc.NeedsReauth
	}
	for _, d := range st.Days {
		st.LoginsOK30d += d.OK
		st.LoginsFailed30d += d.Failed
	}
	return st, nil
}
