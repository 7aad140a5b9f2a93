package postgres

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// One shutdown error resets the pool; those that follow within resetGap
// (from connections the reset already marked) leave the fresh ones alone.
func TestShutdownWatchResetsOnce(t *testing.T) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set")
	}
	pool, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	watch := pool.Config().ConnConfig.Tracer.(*shutdownWatch)
	warm := func() {
		c, err := pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		c.Release()
	}
	shutdown := &pgconn.PgError{Code: "57P01"}
	warm()
	watch.check(&pgconn.PgError{Code: "23505"})
	if n := pool.Stat().TotalConns(); n != 1 {
		t.Fatalf("another error reset the pool: %d connections", n)
	}
	watch.check(shutdown)
	if n := pool.Stat().TotalConns(); n != 0 {
		t.Fatalf("after a shutdown error: %d connections, want none", n)
	}
	warm()
	watch.check(shutdown)
	if n := pool.Stat().TotalConns(); n != 1 {
		t.Fatalf("a second shutdown error right after reset the pool again: %d connections", n)
	}
	watch.lastReset.Store(0) // as if resetGap had passed
	watch.check(shutdown)
	if n := pool.Stat().TotalConns(); n != 0 {
		t.Fatalf("a later shutdown error: %d connections, want none", n)
	}
}
