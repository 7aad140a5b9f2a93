// Package accounts holds Go benchmarks of what the mail outbox costs the
// account flows that enqueue a mail in their own transaction: sign-up (a
// verification link) and password-reset requests (a reset link). They run
// against a real PostgreSQL (DATABASE_URL, as make test finds it; skipped
// without one) through the public API of internal/accounts, each beside its
// baseline in the same `go test -bench` invocation. See bench/README.md,
// "Accounts".
package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// password passes the sign-up rules: long enough, not a common password.
const password = "tulip-Quartz-8812-vessel"

// env is one fresh, migrated database shared by the sub-benchmarks of one
// benchmark, so they compare like with like. Every address it hands out is
// new to the database, so no case ever meets a row an earlier case left.
type env struct {
	db  *pgxpool.Pool
	run string // random, so addresses never repeat across calls
	seq int
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	return &env{db: pgtest.New(tb), run: hex.EncodeToString(b)}
}

// addresses returns n addresses no account has, all of the same length, so
// that normalising them costs the same whichever case uses them.
func (e *env) addresses(kind string, n int) []string {
	out := make([]string, n)
	for i := range out {
		e.seq++
		out[i] = fmt.Sprintf("%s-%s-%08d@example.test", kind, e.run, e.seq)
	}
	return out
}

// seedUsers creates an account for each address through the accounts
// package's own API (a provider account: no password, so no argon2id), in
// one transaction, then refreshes the planner's statistics so the measured
// queries are planned for the table as it now is.
func (e *env) seedUsers(tb testing.TB, svc *accounts.Service, emails []string) []accounts.User {
	tb.Helper()
	ctx := context.Background()
	users := make([]accounts.User, 0, len(emails))
	err := postgres.InTx(ctx, e.db, func(tx pgx.Tx) error {
		for _, email := range emails {
			u, created, err := svc.CreateProviderUser(ctx, tx, email, "", "github")
			if err == nil {
				err = postgres.ExecAll(ctx, tx, created)
			}
			if err != nil {
				return err
			}
			users = append(users, u)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("seed %d users: %v", len(emails), err)
	}
	e.analyze(tb)
	return users
}

func (e *env) analyze(tb testing.TB) {
	tb.Helper()
	if _, err := e.db.Exec(context.Background(), `ANALYZE users, mail_links, mail_outbox, events`); err != nil {
		tb.Fatalf("analyze: %v", err)
	}
}

// count returns how many rows of table match where (a fixed SQL condition).
func (e *env) count(tb testing.TB, table, where string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

// latencies records the duration of every iteration, so a benchmark can
// report percentiles beside the mean that ns/op gives.
type latencies []time.Duration

func (l *latencies) since(start time.Time) { *l = append(*l, time.Since(start)) }

// percentile is the nearest-rank p-th latency in microseconds.
func (l latencies) percentile(p float64) float64 {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := max(int(math.Ceil(p*float64(len(s))))-1, 0)
	return float64(s[i].Nanoseconds()) / 1e3
}

func (l latencies) median() float64 { return l.percentile(0.50) }

// mean is in microseconds.
func (l latencies) mean() float64 {
	if len(l) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return float64(sum.Nanoseconds()) / float64(len(l)) / 1e3
}

// report adds the mean, p50 and p99 in microseconds, named with prefix so
// one benchmark can report two series.
func (l latencies) report(b *testing.B, prefix string) {
	b.ReportMetric(l.mean(), prefix+"mean-µs")
	b.ReportMetric(l.median(), prefix+"p50-µs")
	b.ReportMetric(l.percentile(0.99), prefix+"p99-µs")
}

// measure times op(0) … op(b.N-1), one after another, and reports the
// percentiles. The caller prepares everything op needs before calling it.
func measure(b *testing.B, op func(i int) error) {
	b.Helper()
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := op(i); err != nil {
			b.Fatalf("iteration %d: %v", i, err)
		}
		lat.since(start)
	}
	b.StopTimer()
	lat.report(b, "")
}

// alternate times base(i) and other(i) in turn, b.N times each, so both
// meet the same moments of a shared machine, and reports each series and
// the difference of their means and medians (other minus base). ns/op is
// then the cost of the pair.
func alternate(b *testing.B, baseName string, base func(i int) error, otherName string, other func(i int) error) {
	b.Helper()
	lb, lo := make(latencies, 0, b.N), make(latencies, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		for _, c := range []struct {
			op  func(int) error
			lat *latencies
		}{{base, &lb}, {other, &lo}} {
			start := time.Now()
			if err := c.op(i); err != nil {
				b.Fatalf("iteration %d: %v", i, err)
			}
			c.lat.since(start)
		}
	}
	b.StopTimer()
	lb.report(b, baseName+"-")
	lo.report(b, otherName+"-")
	b.ReportMetric(lo.mean()-lb.mean(), "diff-mean-µs")
	b.ReportMetric(lo.median()-lb.median(), "diff-p50-µs")
}
