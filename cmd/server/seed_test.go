package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

func TestAdminSeed(t *testing.T) {
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64 of 32 bytes
	url := pgtest.NewURL(t)
	env := map[string]string{"DATABASE_URL": url, "DANCECARD_BASE_URL": "https://dancecard.example", "DANCECARD_TOKEN_KEYS": key}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "seed", "--users", "40", "--connections", "100"}, envMap(env), nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "seeded 40 users and 100 connections") {
		t.Fatalf("output %q", out.String())
	}
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(sql string) int {
		var n int
		if err := db.QueryRow(t.Context(), sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	for sql, want := range map[string]int{
		`SELECT count(*) FROM users`:                                                    40,
		`SELECT count(*) FROM connections`:                                              100,
		`SELECT count(DISTINCT user_id) FROM connections`:                               40, // everyone has one
		`SELECT count(*) FROM events WHERE kind = 'connection_created'`:                 100,
		`SELECT count(*) FROM events WHERE kind = 'user_created'`:                       40,
		`SELECT count(*) FROM events WHERE kind IN ('login_completed', 'login_failed')`: 40,
		// Ranks count up per user and provider, as the links package keeps them.
		`SELECT count(*) FROM (SELECT user_id, provider FROM connections GROUP BY 1, 2 HAVING max(rank) <> count(*) - 1) x`: 0,
	} {
		if got := count(sql); got != want {
			t.Errorf("%s = %d, want %d", sql, got, want)
		}
	}
	// Tokens are sealed with the configured key and open to a value that is
	// plainly not a credential.
	ring, _ := links.NewKeyring([][]byte{[]byte("0123456789abcdef0123456789abcdef")})
	var provider, puid string
	var sealed []byte
	db.QueryRow(t.Context(), `SELECT provider, provider_user_id, access_token FROM connections LIMIT 1`).Scan(&provider, &puid, &sealed)
	if v, err := ring.Open(sealed, "connection:"+provider+":"+puid+":access_token"); err != nil || v != seedPlaintext {
		t.Fatalf("seeded token opens to %q, %v", v, err)
	}
	if bytes.Contains(sealed, []byte(seedPlaintext)) {
		t.Fatal("seeded token stored in plaintext")
	}
	// A database with users is refused outside dev mode, and seeded again in it.
	err = run(context.Background(), []string{"admin", "seed", "--users", "5", "--connections", "5"}, envMap(env), nil, &out)
	if err == nil || !strings.Contains(err.Error(), "already has users") {
		t.Fatalf("second seed outside dev mode: %v", err)
	}
	// In dev mode it seeds again; a running server's event subscribers are
	// not sent the seeded history, and the dashboard's counters still match.
	env["DANCECARD_DEV"] = "true"
	if _, err := db.Exec(t.Context(), `INSERT INTO event_subscribers (name) VALUES ('log')`); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"admin", "seed", "--users", "5", "--connections", "5"}, envMap(env), nil, &out); err != nil {
		t.Fatalf("second seed in dev mode: %v", err)
	}
	if count(`SELECT count(*) FROM users`) != 45 {
		t.Fatal("dev-mode seed did not add users")
	}
	if n := count(`SELECT count(*) FROM events e JOIN event_subscribers s ON (e.tx, e.id) > (s.cursor_tx, s.cursor_id)`); n != 0 {
		t.Fatalf("%d seeded events are past the subscriber's cursor, to be delivered", n)
	}
	st, err := admin.New(db).Dashboard(t.Context())
	if err != nil || st.Users != 45 || st.Connections != 105 || st.NeedsReauth != int64(count(`SELECT count(*) FROM connections WHERE status = 'needs_reauth'`)) ||
		st.LoginsOK30d+st.LoginsFailed30d != 45 {
		t.Fatalf("dashboard after seeding: %+v, %v", st, err)
	}
	for _, bad := range [][]string{{"admin", "seed", "--users", "0"}, {"admin", "seed", "--connections", "-1"}, {"admin", "seed", "extra"}} {
		if err := run(context.Background(), bad, envMap(env), nil, &out); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
