package links

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// usage coalesces last-used times in memory, so an API call costs no
// database write; FlushUsage writes them in one statement.
type usage struct {
	mu      sync.Mutex
	pending map[int64]time.Time // connection id -> latest use
}

// touch notes that connection id was used at t.
func (s *Service) touch(id int64, t time.Time) {
	u := &s.usage
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending == nil {
		u.pending = map[int64]time.Time{}
	}
	if t.After(u.pending[id]) {
		u.pending[id] = t
	}
}

// FlushUsage writes the noted last-used times in one UPDATE and reports how
// many connections it covered. A time never moves backwards, so replicas
// flushing in any order agree. On failure the times are kept for the next
// flush.
func (s *Service) FlushUsage(ctx context.Context) (int, error) {
	u := &s.usage
	u.mu.Lock()
	batch := u.pending
	u.pending = nil
	u.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	ids := make([]int64, 0, len(batch))
	times := make([]time.Time, 0, len(batch))
	for id, t := range batch {
		ids = append(ids, id)
		times = append(times, t)
	}
	_, err := s.DB.Exec(ctx, `UPDATE connections c SET last_used_at = v.t
		FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, t)
		WHERE c.id = v.id AND (c.last_used_at IS NULL OR c.last_used_at < v.t)`, ids, times)
	if err != nil {
		for id, t := range batch {
			s.touch(id, t)
		}
		return 0, fmt.Errorf("links: flush last-used times: %w", err)
	}
	return len(batch), nil
}

// RunUsageFlusher flushes last-used times every interval until ctx ends,
// then once more so that a clean shutdown loses none.
func (s *Service) RunUsageFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if _, err := s.FlushUsage(ctx); err != nil {
				s.Logger.Warn("flush last-used times", "err", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := s.FlushUsage(fctx); err != nil {
				s.Logger.Warn("flush last-used times at shutdown", "err", err)
			}
			return
		}
	}
}
