package postgres_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// Listen wakes its worker once it listens and on every notification; when
// its connection is killed it says so, reconnects and wakes the worker
// again (notifications sent meanwhile are lost), and later notifications
// still arrive.
func TestListenWakesAndSurvivesAKilledConnection(t *testing.T) {
	db := pgtest.New(t)
	wakes := make(chan struct{}, 100)
	var logged bytes.Buffer // read once Listen has returned
	log := slog.New(slog.NewTextHandler(&logged, nil))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		postgres.Listen(ctx, db, "test_channel", func() { wakes <- struct{}{} }, log, "worker")
	}()
	t.Cleanup(func() { cancel(); <-done })
	wake := func(why string) {
		t.Helper()
		select {
		case <-wakes:
		case <-time.After(10 * time.Second):
			t.Fatalf("no wake-up %s", why)
		}
	}
	wake("once listening")
	notify := func() {
		t.Helper()
		if _, err := db.Exec(t.Context(), `SELECT pg_notify('test_channel', '')`); err != nil {
			t.Fatal(err)
		}
	}
	notify()
	wake("on a notification")

	tag, err := db.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminated %d listening backends: %v", tag.RowsAffected(), err)
	}
	wake("after reconnecting")
	notify()
	wake("on a notification after reconnecting")

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not return when its context ended")
	}
	if !strings.Contains(logged.String(), "worker: LISTEN connection lost; polling until it is back") {
		t.Errorf("the loss was not logged: %q", logged.String())
	}
}
