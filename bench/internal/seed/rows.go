package seed

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

var connectionCopyColumns = []string{"user_id", "provider", "provider_user_id", "username", "name", "profile_url",
	"avatar_url", "email", "email_verified", "scopes", "access_token", "refresh_token", "token_type", "expires_at",
	"status", "rank", "created_at", "updated_at", "last_used_at"}

// pickProvider draws a provider by weight.
func (s *seeder) pickProvider() string {
	total := 0
	for _, p := range seedProviders {
		total += p.weight
	}
	n := s.rnd.IntN(total)
	for _, p := range seedProviders {
		if n -= p.weight; n < 0 {
			return p.id
		}
	}
	return seedProviders[0].id
}

// pickStatus is mostly active, with the mix a real service sees.
func (s *seeder) pickStatus() string {
	switch n := s.rnd.IntN(100); {
	case n < 5:
		return "needs_reauth"
	case n < 8:
		return "expiring"
	case n < 10:
		return "revoked"
	default:
		return "active"
	}
}

// connections copies m connections over users (every user gets at least
// one while m allows, the rest at random), each with sealed tokens and a
// connection_created event.
func (s *seeder) connections(ctx context.Context, tx pgx.Tx, users []seededUser, m int) error {
	type made struct {
		user           int64
		provider, puid string
		created        time.Time
	}
	rank := map[[2]any]int{}
	events := make([]made, 0, m)
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"connections"}, connectionCopyColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == m {
			return nil, nil
		}
		u := users[i%len(users)]
		if i >= len(users) {
			u = users[s.rnd.IntN(len(users))]
		}
		i++
		p := s.pickProvider()
		key := [2]any{u.id, p}
		r := rank[key]
		rank[key] = r + 1
		puid := s.run + strconv.Itoa(i)
		handle := strings.ReplaceAll(u.name, " ", "") + strconv.Itoa(i%1000)
		age := s.now.Sub(u.created)
		created := u.created.Add(time.Duration(s.rnd.Int64N(int64(age) + 1)))
		var lastUsed *time.Time
		if s.rnd.IntN(10) < 7 {
			t := created.Add(time.Duration(s.rnd.Int64N(int64(s.now.Sub(created)) + 1)))
			lastUsed = &t
		}
		expires := s.now.Add(time.Duration(s.rnd.IntN(48)-24) * time.Hour)
		ctxOf := func(col string) string { return "connection:" + p + ":" + puid + ":" + col }
		events = append(events, made{u.id, p, puid, created})
		return []any{u.id, p, puid, handle, u.name, "https://" + p + ".example/" + handle,
			"", u.email, s.rnd.IntN(2) == 0, []string{"read:user", "email"},
			s.keys.Seal(seedPlaintext, ctxOf("access_token")), s.keys.Seal(seedPlaintext, ctxOf("refresh_token")),
			"bearer", expires, s.pickStatus(), r, created, created, lastUsed}, nil
	}))
	if err != nil {
		return fmt.Errorf("copy connections: %w", err)
	}
	j := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"kind", "user_id", "provider", "provider_user_id", "data", "created_at", "tx"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if j == len(events) {
				return nil, nil
			}
			e := events[j]
			j++
			return []any{"connection_created", e.user, e.provider, e.puid, []byte(`{"seed": true}`), e.created, historyTx}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy connection events: %w", err)
	}
	return nil
}

// logins copies the last 29 days of log-ins: about one per user, a tenth
// of them failures, so the dashboard's charts have something to draw.
func (s *seeder) logins(ctx context.Context, tx pgx.Tx, users []seededUser) error {
	i := 0
	month := int64(29 * 24 * time.Hour) // inside the dashboard's 30 UTC days
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"kind", "user_id", "reason", "data", "created_at", "tx"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(users) {
				return nil, nil
			}
			u := users[i]
			i++
			at := s.now.Add(-time.Duration(s.rnd.Int64N(month)))
			if s.rnd.IntN(10) == 0 {
				return []any{"login_failed", u.id, "wrong password", []byte(`{"method": "password"}`), at, historyTx}, nil
			}
			return []any{"login_completed", u.id, "", []byte(`{"method": "password"}`), at, historyTx}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy log-in events: %w", err)
	}
	return nil
}

// withoutIndexes drops the non-unique indexes of tables inside tx, runs
// fill, and builds them again: building an index once over a million rows
// is many times faster than updating it a million times, above all the
// trigram GIN index. Unique indexes stay, so the seed cannot break them.
// Everything is in the seed's transaction: a failure leaves every index as
// it was. Other sessions wait on the tables until the seed commits.
func withoutIndexes(ctx context.Context, tx pgx.Tx, tables []string, fill func() error) error {
	rows, err := tx.Query(ctx, `
		SELECT i.indexname, i.indexdef FROM pg_indexes i
		JOIN pg_index x ON x.indexrelid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1) AND NOT x.indisunique
		ORDER BY i.indexname`, tables)
	if err != nil {
		return err
	}
	type index struct{ name, def string }
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var ix index
		return ix, r.Scan(&ix.name, &ix.def)
	})
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.name}.Sanitize()); err != nil {
			return fmt.Errorf("drop index %s: %w", ix.name, err)
		}
	}
	if err := fill(); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, ix.def); err != nil {
			return fmt.Errorf("rebuild index %s: %w", ix.name, err)
		}
	}
	return nil
}

// historyTx is the transaction id seeded events carry: 0 sorts before every
// subscriber's cursor (migration 000016), so seeded events are history, not
// news, and the subscribers of a running dev server are not sent them.
const historyTx uint64 = 0

// quietTriggers turns off triggers for the seed's transaction when the
// role may (superusers: session_replication_role): skipping the per-row
// triggers (the events trigger's notification check) and foreign-key checks
// (the seed writes only valid references) makes COPY faster. The admin
// counters the triggers would have kept are recounted at the end (recount).
// Without the right, triggers run.
func quietTriggers(ctx context.Context, tx pgx.Tx, w io.Writer) error {
	var super bool
	if err := tx.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		return err
	}
	if !super {
		fmt.Fprintln(w, "  (not a superuser: triggers stay on, which is slower)")
		return nil
	}
	_, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`)
	return err
}

// recount sets the dashboard's counters (migration 000014) and the last
// log-ins (000027) from the tables.
func recount(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `
		DELETE FROM connection_counts;
		INSERT INTO connection_counts SELECT provider, status, 0, count(*) FROM connections GROUP BY 1, 2;
		DELETE FROM user_counts;
		INSERT INTO user_counts SELECT 0, count(*), count(*) FILTER (WHERE is_admin), count(*) FILTER (WHERE disabled_at IS NOT NULL) FROM users;
		DELETE FROM login_counts;
		INSERT INTO login_counts SELECT (created_at AT TIME ZONE 'UTC')::date, kind, 0, count(*) FROM events
		    WHERE kind IN ('login_completed', 'login_failed') GROUP BY 1, 2;
		INSERT INTO last_logins SELECT user_id, max(created_at) FROM events
		    WHERE kind = 'login_completed' AND user_id IS NOT NULL GROUP BY 1
		    ON CONFLICT (user_id) DO UPDATE SET at = greatest(last_logins.at, excluded.at)`)
	if err != nil {
		return fmt.Errorf("recount the dashboard's counters: %w", err)
	}
	return nil
}
