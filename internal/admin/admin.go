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

// Dashboard gathers the overview. Totals come from the counters the
// triggers of migration 000014 keep, so the page costs a few small reads
// however large the tables; only the last 24 hours are counted from the
// event log itself (a short index range).
func (s *Service) Dashboard(ctx context.Context) (Stats, error) {
	var st Stats
	b := &pgx.Batch{}
	b.Queue(`SELECT coalesce(sum(users), 0), coalesce(sum(admins), 0), coalesce(sum(disabled), 0) FROM user_counts`).
		QueryRow(func(r pgx.Row) error { return r.Scan(&st.Users, &st.Admins, &st.Disabled) })
	b.Queue(`SELECT (SELECT count(*) FROM events WHERE kind = 'login_completed' AND created_at > now() - interval '24 hours'),
		       (SELECT count(*) FROM events WHERE kind = 'login_failed' AND created_at > now() - interval '24 hours')`).
		QueryRow(func(r pgx.Row) error { return r.Scan(&st.LoginsOK24h, &st.LoginsFailed24h) })
	b.Queue(`SELECT provider, sum(n), coalesce(sum(n) FILTER (WHERE status = 'needs_reauth'), 0) FROM connection_counts
		GROUP BY provider HAVING sum(n) > 0 ORDER BY sum(n) DESC, provider`).Query(func(rows pgx.Rows) error {
		var err error
		st.ByProvider, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProviderCount, error) {
			var pc ProviderCount
			return pc, r.Scan(&pc.Provider, &pc.Count, &pc.NeedsReauth)
		})
		return err
	})
	b.Queue(`
		SELECT g.day, coalesce(sum(c.n) FILTER (WHERE c.kind = 'login_completed'), 0),
		              coalesce(sum(c.n) FILTER (WHERE c.kind = 'login_failed'), 0)
		FROM generate_series((now() AT TIME ZONE 'UTC')::date - 29, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS g(day)
		LEFT JOIN login_counts c ON c.day = g.day::date
		GROUP BY g.day ORDER BY g.day`).Query(func(rows pgx.Rows) error {
		var err error
		st.Days, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DayCount, error) {
			var dc DayCount
			var day time.Time
			err := r.Scan(&day, &dc.OK, &dc.Failed)
			dc.Day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
			return dc, err
		})
		return err
	})
	if err := s.db.SendBatch(ctx, b).Close(); err != nil {
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

// Providers lists the providers that have connections, from the counters:
// the connection filter offers them even when one is no longer configured.
func (s *Service) Providers(ctx context.Context) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT provider FROM connection_counts GROUP BY provider HAVING sum(n) > 0 ORDER BY provider`)
	if err != nil {
		return nil, fmt.Errorf("providers with connections: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
