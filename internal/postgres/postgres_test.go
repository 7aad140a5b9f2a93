package postgres_test

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

func TestInTxCommitsOrRollsBack(t *testing.T) {
	db := pgtest.New(t)
	ctx := t.Context()
	if _, err := db.Exec(ctx, `CREATE TABLE t (v int)`); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := postgres.InTx(ctx, db, func(tx pgx.Tx) error {
		tx.Exec(ctx, `INSERT INTO t VALUES (1)`)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if err := postgres.InTx(ctx, db, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO t VALUES (2)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = postgres.InTx(ctx, db, func(tx pgx.Tx) error {
			tx.Exec(ctx, `INSERT INTO t VALUES (3)`)
			panic("half-way")
		})
	}()
	var vs []int
	rows, _ := db.Query(ctx, `SELECT v FROM t ORDER BY v`)
	for rows.Next() {
		var v int
		rows.Scan(&v)
		vs = append(vs, v)
	}
	if len(vs) != 1 || vs[0] != 2 {
		t.Fatalf("rows = %v, want only the committed [2]", vs)
	}
}

// TestSecretIsSharedAndStable: concurrent first uses (several replicas
// starting together) agree on one value, and it survives.
func TestSecretIsSharedAndStable(t *testing.T) {
	db := pgtest.New(t)
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Go(func() {
			v, err := postgres.Secret(t.Context(), db, "shared")
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	for _, v := range got {
		if len(v) != 32 || !bytes.Equal(v, got[0]) {
			t.Fatalf("secrets differ or are not 32 bytes: %x vs %x", v, got[0])
		}
	}
	other, _ := postgres.Secret(t.Context(), db, "other")
	if bytes.Equal(other, got[0]) {
		t.Fatal("two names share a secret")
	}
}

func TestOpenRefusesBadURLsWithoutLeakingThePassword(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://user:hunter2@127.0.0.1:1/x?sslmode=bogus")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v", err)
	}
	_, err = postgres.Open(t.Context(), "postgres://user:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=1")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("unreachable server: err = %v", err)
	}
}

func TestMigratorUpDownVersion(t *testing.T) {
	url := pgtest.NewURL(t)
	m, err := postgres.NewMigrator(url)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v, dirty, err := m.Version()
	if err != nil || dirty || v == 0 {
		t.Fatalf("version %d dirty %v err %v", v, dirty, err)
	}
	if err := m.Down(1); err != nil {
		t.Fatal(err)
	}
	if v2, _, _ := m.Version(); v2 >= v {
		t.Fatalf("down 1: version %d, was %d", v2, v)
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
	if v3, _, _ := m.Version(); v3 != v {
		t.Fatalf("up: version %d, want %d", v3, v)
	}
	if err := m.Up(); err != nil {
		t.Fatalf("up when current must be a no-op: %v", err)
	}
}

func TestOpenTurnsJITOffUnlessTheURLSetsIt(t *testing.T) {
	base := pgtest.NewURL(t)
	for _, c := range []struct{ param, want string }{{"", "off"}, {"jit=on", "on"}} {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		if c.param != "" {
			q := u.Query()
			k, v, _ := strings.Cut(c.param, "=")
			q.Set(k, v)
			u.RawQuery = q.Encode()
		}
		pool, err := postgres.Open(t.Context(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		var jit string
		err = pool.QueryRow(t.Context(), `SHOW jit`).Scan(&jit)
		pool.Close()
		if err != nil || jit != c.want {
			t.Errorf("URL with %q: jit = %q (%v), want %s", c.param, jit, err, c.want)
		}
	}
}
