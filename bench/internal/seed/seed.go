// Package seed fills a Dancecard database with benchmark data: users,
// connections with sealed tokens, their events and last log-ins, written
// with COPY. bench/admin seeds its database with it, and bench/seed is its
// command line.
package seed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/postgres"
)

// seedProviders are the providers seeded connections use, with weights that
// roughly follow how often people link them.
var seedProviders = []struct {
	id     string
	weight int
}{{"github", 30}, {"google", 25}, {"twitter", 10}, {"gitlab", 8}, {"slack", 7}, {"discord", 6},
	{"atlassian", 5}, {"microsoft", 5}, {"facebook", 3}, {"dropbox", 1}}

var (
	seedFirst = []string{"ada", "alan", "grace", "linus", "margaret", "dennis", "barbara", "ken", "radia", "tim",
		"frances", "john", "hedy", "edsger", "karen", "donald", "sophie", "guido", "anita", "niklaus"}
	seedLast = []string{"lovelace", "turing", "hopper", "torvalds", "hamilton", "ritchie", "liskov", "thompson",
		"perlman", "berners-lee", "allen", "backus", "lamarr", "dijkstra", "jones", "knuth", "wilson", "rossum", "borg", "wirth"}
	seedDomains = []string{"example.com", "example.org", "example.net", "mail.example", "corp.example"}
)

// seedPlaintext is what every seeded token decrypts to: plainly not a
// credential, so nobody mistakes a seeded database for a real one.
const seedPlaintext = "seed:not-a-real-token"

// Run fills db, a migrated Dancecard database, with users realistic users
// and conns connections spread over them, with their events and last
// log-ins, for benchmarks: through COPY in one transaction (all or
// nothing), tokens sealed under keys. It reports each phase's time on w.
func Run(ctx context.Context, db *pgxpool.Pool, keys *links.Keyring, users, conns int, w io.Writer) error {
	if users < 1 || conns < 0 || users > 10_000_000 || conns > 50_000_000 {
		return fmt.Errorf("seed: want 1 to 10,000,000 users and 0 to 50,000,000 connections, not %d and %d", users, conns)
	}
	start := time.Now()
	s := seeder{keys: keys, rnd: rand.New(rand.NewPCG(uint64(start.UnixNano()), 42)), now: start.UTC(), run: strconv.FormatInt(start.UnixNano()%1e12, 36)}
	err := postgres.InTx(ctx, db, func(tx pgx.Tx) error {
		if err := quietTriggers(ctx, tx, w); err != nil {
			return err
		}
		err := withoutIndexes(ctx, tx, []string{"users", "connections", "events"}, func() error {
			ids, err := s.users(ctx, tx, users)
			if err != nil {
				return err
			}
			s.phase(w, "users")
			if err := s.connections(ctx, tx, ids, conns); err != nil {
				return err
			}
			s.phase(w, "connections")
			if err := s.logins(ctx, tx, ids); err != nil {
				return err
			}
			s.phase(w, "log-in events")
			return nil
		})
		s.phase(w, "indexes")
		if err != nil {
			return err
		}
		return recount(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if _, err := db.Exec(ctx, `ANALYZE users; ANALYZE connections; ANALYZE events; ANALYZE last_logins`); err != nil {
		return fmt.Errorf("seed: analyze: %w", err)
	}
	_, err = fmt.Fprintf(w, "seeded %d users and %d connections in %s\n", users, conns, time.Since(start).Round(time.Millisecond))
	return err
}

type seeder struct {
	last time.Time // when the previous phase ended
	keys *links.Keyring
	rnd  *rand.Rand
	now  time.Time
	run  string // keeps provider user ids of two dev-mode runs apart
}

// phase reports how long the step that just ended took.
func (s *seeder) phase(w io.Writer, name string) {
	now := time.Now()
	if s.last.IsZero() {
		s.last = s.now
	}
	fmt.Fprintf(w, "  %-14s %s\n", name, now.Sub(s.last).Round(time.Millisecond))
	s.last = now
}

// seededUser is what connections need to know of a seeded user.
type seededUser struct {
	id      int64
	created time.Time
	name    string
	email   string
}

// users copies n users created over the last two years, oldest first, with
// a user_created event each, and returns them.
func (s *seeder) users(ctx context.Context, tx pgx.Tx, n int) ([]seededUser, error) {
	var before int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM users`).Scan(&before); err != nil {
		return nil, err
	}
	span := 2 * 365 * 24 * time.Hour
	out := make([]seededUser, n)
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"email", "name", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			f, l := seedFirst[s.rnd.IntN(len(seedFirst))], seedLast[s.rnd.IntN(len(seedLast))]
			u := seededUser{created: s.now.Add(-span + span*time.Duration(i)/time.Duration(n)), name: f + " " + l}
			u.email = f + "." + l + strconv.Itoa(i) + "." + s.run + "@" + seedDomains[i%len(seedDomains)]
			out[i] = u
			i++
			return []any{u.email, u.name, u.created, u.created}, nil
		}))
	if err != nil {
		return nil, fmt.Errorf("copy users: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT id FROM users WHERE id > $1 ORDER BY id`, before)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != n {
		return nil, fmt.Errorf("read seeded user ids: got %d of %d: %v", len(ids), n, err)
	}
	for i := range out {
		out[i].id = ids[i]
	}
	j := 0
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"kind", "user_id", "data", "created_at", "tx"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if j == n {
				return nil, nil
			}
			u := out[j]
			j++
			return []any{"user_created", u.id, []byte(`{"method": "seed"}`), u.created, historyTx}, nil
		}))
	return out, err
}

// DevKeys is the key ring a server in dev mode without token_keys seals
// tokens under: the key it keeps in the database.
func DevKeys(ctx context.Context, db *pgxpool.Pool) (*links.Keyring, error) {
	k, err := postgres.Secret(ctx, db, "dev-token-key")
	if err != nil {
		return nil, err
	}
	return links.NewKeyring([][]byte{k})
}
