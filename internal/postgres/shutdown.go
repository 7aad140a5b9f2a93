package postgres

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// shutdownWatch resets its pool when the server says it is shutting down
// (a restart, a failover): every other connection in the pool is dead
// too, and without the reset each would be handed out to fail one
// request in turn.
type shutdownWatch struct{ pool atomic.Pointer[pgxpool.Pool] }

func (w *shutdownWatch) check(err error) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || (pe.Code != pgerrcode.AdminShutdown && pe.Code != pgerrcode.CrashShutdown) {
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
