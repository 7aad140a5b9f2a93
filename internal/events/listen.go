package events

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel is what the events trigger (migration 000016) notifies on
// commit of an event some subscriber wants, unless it is being polled.
const notifyChannel = "dancecard_events"

// listen keeps a dedicated connection LISTENing and wakes the lanes on every
// notification, so delivery lag is a round trip rather than a poll interval.
// When PostgreSQL restarts or the connection is killed it reconnects with
// backoff; meanwhile the lanes' polling keeps deliveries going.
func (d *Dispatcher) listen(ctx context.Context) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := d.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			wait = 100 * time.Millisecond
		}
		d.o.Logger.Warn("events: LISTEN connection lost; polling until it is back", "err", err, "retry_in", wait.String())
		if !sleep(ctx, wait) {
			return
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// listenOnce connects, listens and forwards notifications until the
// connection fails. It reports whether it got as far as listening.
func (d *Dispatcher) listenOnce(ctx context.Context) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, d.o.DB.Config().ConnConfig.Copy())
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	// Notifications sent while no connection listened are gone: look now.
	d.wakeAll()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		d.wakeAll()
	}
}
