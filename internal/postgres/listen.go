package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Listen keeps a connection of its own (not the pool's) LISTENing on
// channel until ctx ends, and calls wake once it listens and on every
// notification, so a worker learns of new rows in a round trip rather
// than a poll interval. When PostgreSQL restarts or the connection is
// killed it logs the loss (as name) and reconnects with backoff, 100 ms
// doubling to 5 s; the worker's own polling covers the gap. Notifications
// sent while no connection listened are lost, which is why wake is called
// on every (re)connection: the worker should look.
func Listen(ctx context.Context, db *pgxpool.Pool, channel string, wake func(), log *slog.Logger, name string) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := listenOnce(ctx, db, channel, wake)
		if ctx.Err() != nil {
			return
		}
		if connected {
			wait = 100 * time.Millisecond
		}
		log.Warn(name+": LISTEN connection lost; polling until it is back", "err", err, "retry_in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// listenOnce connects, listens and wakes until the connection fails. It
// reports whether it got as far as listening.
func listenOnce(ctx context.Context, db *pgxpool.Pool, channel string, wake func()) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, db.Config().ConnConfig.Copy())
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		wake()
	}
}
