// Package pgtest gives each test its own PostgreSQL database, cloned from a
// template that is migrated once per schema version, so tests run against
// the real schema in isolation and in parallel.
//
// The server comes from DATABASE_URL (make test finds or starts one). Without
// it the tests are skipped locally and fail in CI, so CI can never pass by
// testing nothing.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/migrations"
)

// templateOnce builds the template at most once per test binary.
var templateOnce = sync.OnceValues(buildTemplate)

// New returns a pool on a fresh, migrated database that is dropped when the
// test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := NewURL(t)
	// The server's own pool settings, so tests run as it does.
	pool, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewURL creates a fresh, migrated database and returns its URL, for tests
// that boot the whole server from a configuration.
func NewURL(t testing.TB) string {
	t.Helper()
	admin := adminURL(t)
	tmpl, err := templateOnce()
	if err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := "dancecard_test_" + randomHex(6)
	ctx := context.Background()
	if err := withAdmin(ctx, admin, func(conn *pgx.Conn) error {
		return createFromTemplate(ctx, conn, name, tmpl)
	}); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		err := withAdmin(context.Background(), admin, func(conn *pgx.Conn) error {
			_, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			return err
		})
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(t, admin, name)
}

// adminURL is the server to create databases on.
func adminURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("pgtest: DATABASE_URL is not set; run the tests with make test")
		}
		t.Skip("pgtest: DATABASE_URL is not set; run the tests with make test")
	}
	return url
}

// withDatabase returns url pointing at database name.
func withDatabase(t testing.TB, url, name string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatalf("pgtest: parse DATABASE_URL: %v", err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", userinfo(cfg.User, cfg.Password), cfg.Host, cfg.Port, name)
}

func userinfo(user, password string) string {
	if password == "" {
		return user
	}
	return user + ":" + password
}

func withAdmin(ctx context.Context, url string, fn func(*pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return fn(conn)
}

// createFromTemplate retries while another test's CREATE DATABASE holds the
// template, which PostgreSQL reports as object_in_use.
func createFromTemplate(ctx context.Context, conn *pgx.Conn, name, tmpl string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{tmpl}.Sanitize()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		_, err = conn.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			return err
		}
		time.Sleep(time.Duration(20+attempt*10) * time.Millisecond)
	}
	return err
}

// buildTemplate creates and migrates the template for the current set of
// migrations. An advisory lock serialises the test binaries that go test runs
// in parallel; the template is built under a temporary name and renamed, so a
// crash never leaves a half-migrated template behind.
func buildTemplate() (string, error) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return "", errors.New("DATABASE_URL is not set")
	}
	name, err := templateName()
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	err = withAdmin(ctx, url, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7364211)"); err != nil {
			return err
		}
		defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7364211)")
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
			return err
		}
		return migrateTemplate(ctx, conn, url, name)
	})
	return name, err
}

func migrateTemplate(ctx context.Context, conn *pgx.Conn, url, name string) error {
	tmp := name + "_building"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{tmp}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{tmp}.Sanitize()); err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	tmpURL := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", userinfo(cfg.User, cfg.Password), cfg.Host, cfg.Port, tmp)
	if err := postgres.Migrate(tmpURL); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{tmp}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize())
	return err
}

// templateName changes whenever a migration changes, so a stale template is
// never reused.
func templateName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return "dancecard_tmpl_" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TerminateBackends ends every server process connected to db's database,
// as a restart or failover does, and returns how many there were. It
// fails the test when there were none: a test that means to cut
// connections must have some.
func TerminateBackends(t testing.TB, db *pgxpool.Pool) int {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, db.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	var n int
	if err := admin.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("pgtest: terminated %d backends: %v", n, err)
	}
	return n
}
