// Package postgres holds the database plumbing every other package shares:
// the connection pool, the one transaction helper, schema migration and the
// server's own generated secrets (Secret). The only tables it knows are the
// migration bookkeeping and app_secrets.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// connectTimeout bounds opening a connection, unless the URL's
// connect_timeout says otherwise.
const connectTimeout = 5 * time.Second

// Open connects a pool to url and checks the server answers, so a wrong URL
// fails at start-up rather than on the first request. Its sessions run
// without JIT compilation unless url sets jit, opening a connection gives
// up after connectTimeout unless url sets connect_timeout, and the pool
// drops all its connections when the server says it is shutting down.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database_url: %w", redact(err))
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		// Every query here is short. JIT compiling pays off only for long
		// analytical ones, and the planner turns it on by estimated cost:
		// for a table without statistics a page's query was estimated
		// costly and spent 30 ms compiling, more than it then ran.
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A request that needs a new connection to a server that does not
		// answer (a failover in progress, a network partition) fails after
		// this long instead of waiting for the kernel to give up. (pgx
		// reads connect_timeout=0 as unset, so it gets this too.)
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 30 * time.Second
	watch := &shutdownWatch{}
	cfg.ConnConfig.Tracer = watch
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	watch.pool.Store(pool)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

// redact keeps a parse error from echoing a password back into a log.
func redact(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid connection string")
	}
	return err
}

// Beginner is what InTx needs: a pool, a connection or an outer transaction.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// InTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise, so no caller can leave a change half-written.
func InTx(ctx context.Context, db Beginner, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db, fn)
}

// Statement is one SQL statement and its arguments. The package that owns a
// table hands one to the package running a transaction, which sends it with
// its own statements in one round trip (Batch). Statements cross packages
// as values; a pgx.Batch, and the results it fills in later, stay inside
// the function that sends it.
type Statement struct {
	SQL  string
	Args []any
}

// Batch queues stmts, in order, on a new batch.
func Batch(stmts ...Statement) *pgx.Batch {
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.SQL, s.Args...)
	}
	return b
}

// ExecAll runs stmts inside tx in one round trip; the first failure fails
// them all.
func ExecAll(ctx context.Context, tx pgx.Tx, stmts ...Statement) error {
	if len(stmts) == 0 {
		return nil
	}
	return tx.SendBatch(ctx, Batch(stmts...)).Close()
}
