package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// shutdownWatch resets its pool when the server says it is shutting down
// (a restart, a failover): every other connection in the pool is dead
// too, and without the reset each would be handed out to fail one
// request in turn. One reset covers the connections that were checked out
// at the time (the pool closes them when they come back), so the errors
// those meet in the following second do not reset the pool again and
// close the fresh connections made since.
type shutdownWatch struct {
	pool      atomic.Pointer[pgxpool.Pool]
	lastReset atomic.Int64 // unix nanoseconds
}

// resetGap is how long after a reset another shutdown error is taken to
// come from a connection that reset already dealt with.
const resetGap = time.Second

func (w *shutdownWatch) check(err error) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || (pe.Code != pgerrcode.AdminShutdown && pe.Code != pgerrcode.CrashShutdown) {
		return
	}
	now, last := time.Now().UnixNano(), w.lastReset.Load()
	if now-last < int64(resetGap) || !w.lastReset.CompareAndSwap(last, now) {
		return
	}
	if p := w.pool.Load(); p != nil {
		p.Reset()
	}
}

// The pgx tracer hooks: queries, and batches query by query.

func (w *shutdownWatch) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (w *shutdownWatch) TraceQueryEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	w.check(d.Err)
}

func (w *shutdownWatch) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (w *shutdownWatch) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	w.check(d.Err)
}

func (w *shutdownWatch) TraceBatchEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	w.check(d.Err)
}
