// Package ratelimit counts attempts in fixed windows stored in PostgreSQL,
// so every replica enforces the same limit on the same key.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Rule is a limit of Max hits per Window.
type Rule struct {
	Max    int
	Window time.Duration
}

// Limiter is safe for concurrent use. A disabled limiter allows everything,
// for load tests on loopback.
type Limiter struct {
	db      *pgxpool.Pool
	enabled bool
}

// New returns a Limiter; enabled false turns every check into a yes.
func New(db *pgxpool.Pool, enabled bool) *Limiter {
	return &Limiter{db: db, enabled: enabled}
}

// Hit counts one attempt under key and reports whether it is within r, and
// if not, how long until the window resets.
func (l *Limiter) Hit(ctx context.Context, key string, r Rule) (ok bool, retryAfter time.Duration, err error) {
	if !l.enabled {
		return true, 0, nil
	}
	var hits int
	var reset time.Time
	err = l.db.QueryRow(ctx, `
		INSERT INTO rate_limits AS r (key, window_start, hits) VALUES ($1, now(), 1)
		ON CONFLICT (key) DO UPDATE SET
		    window_start = CASE WHEN r.window_start <= now() - make_interval(secs => $2) THEN now() ELSE r.window_start END,
		    hits         = CASE WHEN r.window_start <= now() - make_interval(secs => $2) THEN 1 ELSE r.hits + 1 END
		RETURNING hits, window_start + make_interval(secs => $2)`, key, r.Window.Seconds()).Scan(&hits, &reset)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if hits > r.Max {
		return false, time.Until(reset).Round(time.Second), nil
	}
	return true, 0, nil
}

// Peek reports whether key is still within r without counting an attempt;
// per-account log-in limits count only failures, so they peek first.
func (l *Limiter) Peek(ctx context.Context, key string, r Rule) (ok bool, retryAfter time.Duration, err error) {
	if !l.enabled {
		return true, 0, nil
	}
	var hits int
	var reset time.Time
	err = l.db.QueryRow(ctx, `
		SELECT coalesce(max(hits), 0), coalesce(max(window_start), now()) + make_interval(secs => $2)
		FROM rate_limits WHERE key = $1 AND window_start > now() - make_interval(secs => $2)`,
		key, r.Window.Seconds()).Scan(&hits, &reset)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if hits >= r.Max {
		return false, time.Until(reset).Round(time.Second), nil
	}
	return true, 0, nil
}

// Reset forgets key, as after a successful log-in.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if !l.enabled {
		return nil
	}
	_, err := l.db.Exec(ctx, `DELETE FROM rate_limits WHERE key = $1`, key)
	return err
}

// Prune deletes windows that ended long ago.
func (l *Limiter) Prune(ctx context.Context, olderThan time.Duration) error {
	_, err := l.db.Exec(ctx, `DELETE FROM rate_limits WHERE window_start < now() - make_interval(secs => $1)`, olderThan.Seconds())
	return err
}
