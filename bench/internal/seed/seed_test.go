package seed

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

func TestSeed(t *testing.T) {
	url := pgtest.NewURL(t)
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ring, _ := links.NewKeyring([][]byte{[]byte("0123456789abcdef0123456789abcdef")})
	var out bytes.Buffer
	if err := Run(t.Context(), db, ring, 40, 100, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "seeded 40 users and 100 connections") {
		t.Fatalf("output %q", out.String())
	}
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
	// Tokens are sealed with the key given and open to a value that is
	// plainly not a credential.
	var provider, puid string
	var sealed []byte
	db.QueryRow(t.Context(), `SELECT provider, provider_user_id, access_token FROM connections LIMIT 1`).Scan(&provider, &puid, &sealed)
	if v, err := ring.Open(sealed, "connection:"+provider+":"+puid+":access_token"); err != nil || v != seedPlaintext {
		t.Fatalf("seeded token opens to %q, %v", v, err)
	}
	if bytes.Contains(sealed, []byte(seedPlaintext)) {
		t.Fatal("seeded token stored in plaintext")
	}
	// Seeding again adds to what is there; a running server's event
	// subscribers are not sent the seeded history, and the dashboard's
	// counters still match.
	if _, err := db.Exec(t.Context(), `INSERT INTO event_subscribers (name) VALUES ('log')`); err != nil {
		t.Fatal(err)
	}
	if err := Run(t.Context(), db, ring, 5, 5, &out); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	if count(`SELECT count(*) FROM users`) != 45 {
		t.Fatal("the second seed did not add users")
	}
	if n := count(`SELECT count(*) FROM events e JOIN event_subscribers s ON (e.tx, e.id) > (s.cursor_tx, s.cursor_id)`); n != 0 {
		t.Fatalf("%d seeded events are past the subscriber's cursor, to be delivered", n)
	}
	st, err := admin.New(db).Dashboard(t.Context())
	if err != nil || st.Users != 45 || st.Connections != 105 || st.NeedsReauth != int64(count(`SELECT count(*) FROM connections WHERE status = 'needs_reauth'`)) ||
		st.LoginsOK30d+st.LoginsFailed30d != 45 {
		t.Fatalf("dashboard after seeding: %+v, %v", st, err)
	}
	for _, bad := range [][2]int{{0, 5}, {5, -1}} {
		if err := Run(t.Context(), db, ring, bad[0], bad[1], &out); err == nil {
			t.Errorf("seed %d users, %d connections: no error", bad[0], bad[1])
		}
	}
}
