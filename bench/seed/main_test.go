package main

import (
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// The command fills an empty database under the dev key, refuses one with
// users, and seeds it again only with -force.
func TestRun(t *testing.T) {
	url := pgtest.NewURL(t)
	if err := run(t.Context(), "", 5, 5, false); err == nil {
		t.Fatal("no DATABASE_URL: no error")
	}
	if err := run(t.Context(), url, 5, 10, false); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), url, 5, 10, false); err == nil || !strings.Contains(err.Error(), "already has users") {
		t.Fatalf("second seed without -force: %v", err)
	}
	if err := run(t.Context(), url, 5, 10, true); err != nil {
		t.Fatalf("second seed with -force: %v", err)
	}
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var users, secrets int
	db.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM app_secrets WHERE name = 'dev-token-key')`).Scan(&users, &secrets)
	if users != 10 || secrets != 1 {
		t.Fatalf("%d users and %d dev keys, want 10 and 1", users, secrets)
	}
}
