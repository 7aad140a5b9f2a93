package admin_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// seedUsers inserts n users u001@list.test... created a minute apart, the
// oldest first, so ids and creation times sort the same way.
func seedUsers(t *testing.T, db *pgxpool.Pool, n int) {
	t.Helper()
	exec(t, db, `INSERT INTO users (email, created_at)
		SELECT 'u' || lpad(i::text, 3, '0') || '@list.test', now() - make_interval(mins => $1 - i) FROM generate_series(1, $1) i`, n)
}

func emails(rows []admin.UserRow) []string {
	var out []string
	for _, u := range rows {
		out = append(out, u.Email)
	}
	return out
}

// TestPagesForwardAndBack walks a list to its end with Next and back to its
// start with Prev, in both sort directions and both sorts, and checks that
// the way back shows exactly the pages of the way there.
func TestPagesForwardAndBack(t *testing.T) {
	db := pgtest.New(t)
	svc := admin.New(db)
	seedUsers(t, db, 23)
	ctx := context.Background()
	// With a search, the list is counted first and read through the
	// trigram index (list.fence): the pages must be the same.
	for _, q := range []admin.UserQuery{{Sort: "created", Desc: true}, {Sort: "created"}, {Sort: "email"}, {Sort: "email", Desc: true},
		{Sort: "email", Q: "list"}, {Sort: "created", Desc: true, Q: "list.test"}} {
		q.Limit = 5
		var forward [][]string
		cur := ""
		for i := 0; ; i++ {
			q.Cursor = cur
			p, err := svc.Users(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if (i == 0) != (p.Prev == "") {
				t.Fatalf("%+v page %d: prev %q", q, i, p.Prev)
			}
			if !p.Total.Exact || p.Total.Count != 23 {
				t.Fatalf("%+v: total %+v, want exactly 23", q, p.Total)
			}
			forward = append(forward, emails(p.Rows))
			if p.Next == "" {
				cur = p.Prev
				break
			}
			cur = p.Next
		}
		if len(forward) != 5 || len(forward[4]) != 3 {
			t.Fatalf("%+v: pages %v", q, forward)
		}
		all := slices.Concat(forward...)
		if !slices.IsSortedFunc(all, func(a, b string) int {
			if q.Desc {
				a, b = b, a
			}
			return cmpStrings(a, b)
		}) || len(all) != 23 {
			t.Fatalf("%+v: rows out of order or missing: %v", q, all)
		}
		// Back from the last page to the first.
		for i := 3; i >= 0; i-- {
			q.Cursor = cur
			p, err := svc.Users(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(emails(p.Rows), forward[i]) {
				t.Fatalf("%+v: back to page %d: %v, want %v", q, i, emails(p.Rows), forward[i])
			}
			if p.Next == "" || (i == 0) != (p.Prev == "") {
				t.Fatalf("%+v: back on page %d: prev %q next %q", q, i, p.Prev, p.Next)
			}
			// The next page from a page reached going back is the one it came from.
			q.Cursor = p.Next
			again, err := svc.Users(ctx, q)
			if err != nil || !slices.Equal(emails(again.Rows), forward[i+1]) {
				t.Fatalf("%+v: next from page %d reached going back: %v, want %v (%v)", q, i, emails(again.Rows), forward[i+1], err)
			}
			cur = p.Prev
		}
	}
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestPreviousPageIsFullAfterDeletes: going back from a page whose
// predecessors shrank under it lands on a full first page, not a stub.
func TestPreviousPageIsFullAfterDeletes(t *testing.T) {
	db := pgtest.New(t)
	svc := admin.New(db)
	seedUsers(t, db, 12)
	ctx := context.Background()
	q := admin.UserQuery{Sort: "created", Desc: true, Limit: 5}
	first, err := svc.Users(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	q.Cursor = first.Next
	second, err := svc.Users(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, db, `DELETE FROM users WHERE email IN ('u012@list.test', 'u011@list.test', 'u010@list.test')`)
	q.Cursor = second.Prev
	back, err := svc.Users(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"u009@list.test", "u008@list.test", "u007@list.test", "u006@list.test", "u005@list.test"}
	if !slices.Equal(emails(back.Rows), want) || back.Prev != "" || back.Next == "" {
		t.Fatalf("back after deletes: %v prev %q next %q, want the full first page %v", emails(back.Rows), back.Prev, back.Next, want)
	}
}

// TestTotalsExactAndEstimated: lists up to CountLimit rows are counted;
// past it, lists the counters cover stay exact and others are estimated
// from the statistics, never below what is known to be there.
func TestTotalsExactAndEstimated(t *testing.T) {
	db := pgtest.New(t)
	svc := admin.New(db)
	ctx := context.Background()
	big := admin.SearchCountLimit + 1_000
	seedUsers(t, db, 40)
	exec(t, db, `UPDATE users SET is_admin = true WHERE id % 10 = 0`)
	exec(t, db, `UPDATE users SET disabled_at = now() WHERE id % 4 = 0`)
	exec(t, db, `UPDATE users SET email_verified_at = now() WHERE id % 5 = 0`)
	exec(t, db, `INSERT INTO connections (user_id, provider, provider_user_id, access_token, status)
		SELECT 1 + i % 40, CASE WHEN i % 3 = 0 THEN 'gh' ELSE 'gl' END, 'pid' || i, '\x00', CASE WHEN i % 7 = 0 THEN 'revoked' ELSE 'active' END
		FROM generate_series(1, $1) i`, big)
	exec(t, db, `INSERT INTO events (kind, user_id) SELECT 'connection_created', 1 + i % 40 FROM generate_series(1, $1) i`, big)
	exec(t, db, `INSERT INTO events (kind, user_id) SELECT 'login_failed', 1 + i % 40 FROM generate_series(1, 30) i`)
	exec(t, db, `ANALYZE users; ANALYZE connections; ANALYZE events`)
	count := func(what string) admin.Total {
		return admin.Total{Count: countRows(t, db, what), Exact: true}
	}
	users := func(q admin.UserQuery) admin.Total {
		p, err := svc.Users(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	conns := func(q admin.ConnectionQuery) admin.Total {
		p, err := svc.Connections(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	evs := func(q admin.EventQuery) admin.Total {
		p, err := svc.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	for name, tc := range map[string]struct{ got, want admin.Total }{
		"users":                    {users(admin.UserQuery{}), count(`SELECT count(*) FROM users`)},
		"admins (counters)":        {users(admin.UserQuery{Role: "admin"}), count(`SELECT count(*) FROM users WHERE is_admin`)},
		"users role=user":          {users(admin.UserQuery{Role: "user"}), count(`SELECT count(*) FROM users WHERE NOT is_admin`)},
		"disabled (counters)":      {users(admin.UserQuery{State: "disabled"}), count(`SELECT count(*) FROM users WHERE disabled_at IS NOT NULL`)},
		"active":                   {users(admin.UserQuery{State: "active"}), count(`SELECT count(*) FROM users WHERE disabled_at IS NULL`)},
		"admin and disabled":       {users(admin.UserQuery{Role: "admin", State: "disabled"}), count(`SELECT count(*) FROM users WHERE is_admin AND disabled_at IS NOT NULL`)},
		"verified (counted)":       {users(admin.UserQuery{Verified: "yes"}), count(`SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL`)},
		"search":                   {users(admin.UserQuery{Q: "u01"}), count(`SELECT count(*) FROM users WHERE email LIKE 'u01%'`)},
		"connections (counters)":   {conns(admin.ConnectionQuery{}), count(`SELECT count(*) FROM connections`)},
		"connections gh revoked":   {conns(admin.ConnectionQuery{Provider: "gh", Status: "revoked"}), count(`SELECT count(*) FROM connections WHERE provider = 'gh' AND status = 'revoked'`)},
		"one user's connections":   {conns(admin.ConnectionQuery{UserID: 3}), count(`SELECT count(*) FROM connections WHERE user_id = 3`)},
		"connections search p123":  {conns(admin.ConnectionQuery{Q: "pid123"}), count(`SELECT count(*) FROM connections WHERE provider_user_id LIKE 'pid123%'`)},
		"events login_failed":      {evs(admin.EventQuery{Kind: "login_failed"}), count(`SELECT count(*) FROM events WHERE kind = 'login_failed'`)},
		"events of user 7":         {evs(admin.EventQuery{UserID: 7}), count(`SELECT count(*) FROM events WHERE user_id = 7`)},
		"events none of this kind": {evs(admin.EventQuery{Kind: "admin_user_disabled"}), admin.Total{Count: 0, Exact: true}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: total %+v, want %+v", name, tc.got, tc.want)
		}
	}
	// Past CountLimit without counters: an estimate, at least CountLimit+1
	// and near what is there.
	all := count(`SELECT count(*) FROM events`).Count
	for name, got := range map[string]admin.Total{
		"every event":        evs(admin.EventQuery{}),
		"connection_created": evs(admin.EventQuery{Kind: "connection_created"}),
	} {
		if got.Exact || got.Count <= admin.CountLimit || got.Count < all*7/10 || got.Count > all*13/10 {
			t.Errorf("%s: total %+v, want an estimate above %d near the %d there are", name, got, admin.CountLimit, all)
		}
	}
	// Searches are counted further: pid12, pid120-129 and pid1200-1299 are
	// 111 of the 6,000 connections and pid1, pid10-19, pid100-199 and
	// pid1000-1999 are 1,111; "pid" matches all 6,000, past
	// SearchCountLimit, so it is estimated (or known to be more).
	if got, want := conns(admin.ConnectionQuery{Q: "pid12"}), count(`SELECT count(*) FROM connections WHERE provider_user_id LIKE 'pid12%'`); got != want || want.Count != 111 {
		t.Errorf("connections q=pid12: total %+v, want %+v", got, want)
	}
	if got, want := conns(admin.ConnectionQuery{Q: "pid1"}), count(`SELECT count(*) FROM connections WHERE provider_user_id LIKE 'pid1%'`); got != want || want.Count != 1111 {
		t.Errorf("connections q=pid1: total %+v, want %+v", got, want)
	}
	if got := conns(admin.ConnectionQuery{Q: "pid"}); got.Exact || got.Count < admin.SearchCountLimit || (got.Count == admin.SearchCountLimit) != got.LowerBound {
		t.Errorf("connections q=pid: total %+v, want an estimate above %d or more than %[2]d", got, admin.SearchCountLimit)
	}
}

func countRows(t *testing.T, db *pgxpool.Pool, sql string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUserFilters checks each role, state, verified and second-factor
// filter, alone and together, against the table.
func TestUserFilters(t *testing.T) {
	db := pgtest.New(t)
	svc := admin.New(db)
	ctx := context.Background()
	seedUsers(t, db, 30)
	exec(t, db, `UPDATE users SET is_admin = true WHERE id % 5 = 0`)
	exec(t, db, `UPDATE users SET disabled_at = now() WHERE id % 3 = 0`)
	exec(t, db, `UPDATE users SET email_verified_at = now() WHERE id % 2 = 0`)
	exec(t, db, `INSERT INTO totp_factors (user_id, secret) SELECT id, '\x00' FROM users WHERE id % 7 = 0`)
	want := func(cond string) []string {
		rows, err := db.Query(ctx, `SELECT email FROM users u WHERE `+cond+` ORDER BY created_at DESC, id DESC`)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for rows.Next() {
			var e string
			rows.Scan(&e)
			out = append(out, e)
		}
		return out
	}
	for _, tc := range []struct {
		q    admin.UserQuery
		cond string
	}{
		{admin.UserQuery{Role: "admin"}, "is_admin"},
		{admin.UserQuery{Role: "user"}, "NOT is_admin"},
		{admin.UserQuery{State: "disabled"}, "disabled_at IS NOT NULL"},
		{admin.UserQuery{State: "active"}, "disabled_at IS NULL"},
		{admin.UserQuery{Verified: "yes"}, "email_verified_at IS NOT NULL"},
		{admin.UserQuery{Verified: "no"}, "email_verified_at IS NULL"},
		{admin.UserQuery{MFA: "on"}, "id % 7 = 0"},
		{admin.UserQuery{MFA: "off"}, "id % 7 <> 0"},
		{admin.UserQuery{Role: "admin", State: "active", Verified: "no"}, "is_admin AND disabled_at IS NULL AND email_verified_at IS NULL"},
		{admin.UserQuery{Role: "user", State: "disabled", MFA: "on"}, "NOT is_admin AND disabled_at IS NOT NULL AND id % 7 = 0"},
	} {
		tc.q.Desc, tc.q.Limit = true, 200
		p, err := svc.Users(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		w := want(tc.cond)
		if got := emails(p.Rows); !slices.Equal(got, w) || p.Total != (admin.Total{Count: int64(len(w)), Exact: true}) {
			t.Errorf("%+v: %v (total %+v), want %v", tc.q, got, p.Total, w)
		}
	}
	for _, bad := range []map[string]string{{"role": "root"}, {"state": "asleep"}, {"verified": "maybe"}, {"mfa": "yes"}} {
		_, err := admin.ParseUserQuery(func(k string) string { return bad[k] })
		var fe *admin.FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%v: %v, want a FilterError", bad, err)
		}
	}
}

// TestLastLoginFollowsLoginEvents: every login_completed moves the user's
// last log-in forward (never back), whoever records it, and an event for
// no existing account changes nothing.
func TestLastLoginFollowsLoginEvents(t *testing.T) {
	db := pgtest.New(t)
	svc := admin.New(db)
	ctx := context.Background()
	seedUsers(t, db, 3)
	exec(t, db, `INSERT INTO events (kind, user_id, created_at) VALUES
		('login_completed', 1, now() - interval '40 days'),
		('login_completed', 1, now() - interval '2 days'),
		('login_completed', 1, now() - interval '5 days'),
		('login_failed', 2, now()),
		('login_completed', 999, now())`)
	p, err := svc.Users(ctx, admin.UserQuery{Sort: "email", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range p.Rows {
		s := "never"
		if u.LastLoginAt != nil {
			s = strconv.Itoa(int(time.Since(*u.LastLoginAt).Hours()/24)) + " days ago"
		}
		got = append(got, u.Email+": "+s)
	}
	want := []string{"u001@list.test: 2 days ago", "u002@list.test: never", "u003@list.test: never"}
	if !slices.Equal(got, want) {
		t.Fatalf("last log-ins %v, want %v", got, want)
	}
	if n := countRows(t, db, `SELECT count(*) FROM last_logins`); n != 1 {
		t.Fatalf("%d last_logins rows, want 1 (none for a user who does not exist)", n)
	}
	exec(t, db, `DELETE FROM users WHERE id = 1`)
	if n := countRows(t, db, `SELECT count(*) FROM last_logins`); n != 0 {
		t.Fatalf("%d last_logins rows after the user was deleted", n)
	}
}

// TestTotalOfAListOnOnePageIsExact: statistics that are out of date (here
// from before most rows were deleted) cannot make a list that fits on one
// page say "about".
func TestTotalOfAListOnOnePageIsExact(t *testing.T) {
	db := pgtest.New(t)
	svc := admin.New(db)
	exec(t, db, `INSERT INTO events (kind) SELECT 'connection_updated' FROM generate_series(1, 12000)`)
	exec(t, db, `ANALYZE events`)
	p, err := svc.Events(context.Background(), admin.EventQuery{})
	if err != nil || p.Total.Exact || p.Total.Count < 10_000 {
		t.Fatalf("12,000 events: total %+v, %v; want an estimate", p.Total, err)
	}
	exec(t, db, `DELETE FROM events WHERE id > 3`)
	p, err = svc.Events(context.Background(), admin.EventQuery{})
	if err != nil || p.Total != (admin.Total{Count: 3, Exact: true}) || len(p.Rows) != 3 {
		t.Fatalf("3 events left, statistics saying 12,000: total %+v (%d rows), %v", p.Total, len(p.Rows), err)
	}
}
