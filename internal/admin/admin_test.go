package admin_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

func exec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestDashboardCountersFollowEveryChange checks the trigger-kept counters
// against counting the tables, after inserts, status and role changes,
// touches that change nothing counted, deletes and a truncate.
func TestDashboardCountersFollowEveryChange(t *testing.T) {
	db := pgtest.New(t)
	svc := admin.New(db)
	exec(t, db, `INSERT INTO users (email, is_admin) SELECT 'u' || i || '@x.test', i % 10 = 0 FROM generate_series(1, 50) i`)
	exec(t, db, `INSERT INTO connections (user_id, provider, provider_user_id, access_token, status)
		SELECT id, CASE WHEN id % 3 = 0 THEN 'gh' ELSE 'gl' END, 'p' || id, '\x00', 'active' FROM users`)
	exec(t, db, `INSERT INTO events (kind, user_id) SELECT 'login_completed', id FROM users`)
	exec(t, db, `INSERT INTO events (kind, user_id, created_at) SELECT 'login_failed', id, now() - interval '3 days' FROM users WHERE id % 5 = 0`)
	exec(t, db, `INSERT INTO events (kind, user_id, created_at) VALUES ('login_failed', 1, now() - interval '40 days')`) // outside the chart
	steps := []string{
		`UPDATE connections SET status = 'needs_reauth' WHERE id % 4 = 0`,
		`UPDATE connections SET last_used_at = now()`,
		`UPDATE users SET disabled_at = now() WHERE id % 7 = 0`,
		`UPDATE users SET is_admin = NOT is_admin WHERE id < 12`,
		`DELETE FROM connections WHERE id % 6 = 0`,
		`DELETE FROM users WHERE id % 9 = 0`, // cascades to connections
	}
	check := func(step string) {
		t.Helper()
		st, err := svc.Dashboard(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var users, admins, disabled, conns, reauth, ok, failed int64
		db.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE is_admin), count(*) FILTER (WHERE disabled_at IS NOT NULL) FROM users`).
			Scan(&users, &admins, &disabled)
		db.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE status = 'needs_reauth') FROM connections`).Scan(&conns, &reauth)
		db.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE kind = 'login_completed'), count(*) FILTER (WHERE kind = 'login_failed')
			FROM events WHERE created_at > now() - interval '29 days'`).Scan(&ok, &failed)
		got := []int64{st.Users, st.Admins, st.Disabled, st.Connections, st.NeedsReauth, st.LoginsOK30d, st.LoginsFailed30d, st.LoginsOK24h}
		want := []int64{users, admins, disabled, conns, reauth, ok, failed, 50}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("after %q: dashboard %v, tables say %v", step, got, want)
			}
		}
		if len(st.Days) != 30 || st.Days[29].OK != 50 || st.Days[26].Failed != 10 {
			t.Fatalf("after %q: days %+v", step, st.Days)
		}
	}
	check("seeding")
	for _, s := range steps {
		exec(t, db, s)
		check(s)
	}
	exec(t, db, `TRUNCATE connections`)
	if st, _ := svc.Dashboard(context.Background()); st.Connections != 0 || len(st.ByProvider) != 0 {
		t.Fatalf("after truncate: %+v", st)
	}
}

// TestEventRowJSONHasEveryFieldNullWhenEmpty: the admin API's events carry
// every field of the contract, null when empty, never omitted.
func TestEventRowJSONHasEveryFieldNullWhenEmpty(t *testing.T) {
	b, err := json.Marshal(admin.EventRow{ID: 7, Kind: "login_failed", Reason: "wrong password"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(b, &got)
	for _, k := range []string{"id", "kind", "user_id", "provider", "provider_user_id", "connection_id", "reason",
		"request_id", "ip", "user_agent", "data", "created_at"} {
		v, ok := got[k]
		if !ok {
			t.Errorf("%s is missing", k)
		}
		if k == "provider" && v != nil {
			t.Errorf("empty provider is %v, want null", v)
		}
	}
	if got["reason"] != "wrong password" {
		t.Errorf("reason = %v", got["reason"])
	}
}
