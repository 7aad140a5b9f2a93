package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/paging"
)

// lastQuery remembers the SQL and arguments of the queries a traced pool
// runs, so the bench can EXPLAIN exactly what the admin package sent.
type lastQuery struct {
	mu      sync.Mutex
	queries []traced
}

type traced struct {
	sql  string
	args []any
}

func (t *lastQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !strings.HasPrefix(strings.TrimSpace(d.SQL), "EXPLAIN") {
		t.queries = append(t.queries, traced{d.SQL, d.Args})
	}
	return ctx
}

func (t *lastQuery) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *lastQuery) take() []traced {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.queries
	t.queries = nil
	return q
}

// callService runs the admin query behind path (a page or JSON list, with
// its cursor) through the traced pool.
func callService(ctx context.Context, svc *admin.Service, path string) error {
	u, err := url.Parse(path)
	if err != nil {
		return err
	}
	q := u.Query()
	switch {
	case u.Path == "/admin/":
		_, err = svc.Dashboard(ctx)
	case strings.HasPrefix(u.Path, "/admin/users/"):
		id, perr := strconv.ParseInt(strings.TrimPrefix(u.Path, "/admin/users/"), 10, 64)
		if perr != nil {
			return perr
		}
		if _, err = svc.Connections(ctx, admin.ConnectionQuery{UserID: id, Limit: paging.MaxLimit}); err == nil {
			_, err = svc.Events(ctx, admin.EventQuery{UserID: id, Limit: 20})
		}
	case strings.HasSuffix(u.Path, "/users"):
		var uq admin.UserQuery
		if uq, err = admin.ParseUserQuery(q.Get); err == nil {
			_, err = svc.Users(ctx, uq)
		}
	case strings.HasSuffix(u.Path, "/connections"):
		var cq admin.ConnectionQuery
		if cq, err = admin.ParseConnectionQuery(q.Get); err == nil {
			_, err = svc.Connections(ctx, cq)
		}
	case strings.HasSuffix(u.Path, "/events"):
		var eq admin.EventQuery
		if eq, err = admin.ParseEventQuery(q.Get); err == nil {
			_, err = svc.Events(ctx, eq)
		}
	case strings.HasSuffix(u.Path, "/deliveries"):
		var dq admin.DeliveryQuery
		if dq, err = admin.ParseDeliveryQuery(q.Get); err == nil {
			_, err = svc.DeadDeliveries(ctx, dq)
		}
	case strings.HasSuffix(u.Path, "/mail"):
		var mq admin.MailQuery
		if mq, err = admin.ParseMailQuery(q.Get); err == nil {
			_, err = svc.FailedMail(ctx, mq)
		}
	default:
		err = fmt.Errorf("no admin query for %s", u.Path)
	}
	return err
}

// writePlans writes EXPLAIN (ANALYZE, BUFFERS) of every distinct HTML case's
// queries (a JSON list runs the same query) and the indexes of the tables.
func writePlans(ctx context.Context, env *benchEnv, file string) error {
	var b strings.Builder
	b.WriteString("# Admin query plans\n\nWritten by `go run ./bench/admin -plans FILE` against the seeded database.\n")
	for _, c := range cases(env) {
		if c.JSON {
			continue
		}
		path, err := walk(ctx, env, c, env.browser, "") // the same way as measured
		if err != nil {
			return err
		}
		env.tracer.take()
		if err := callService(ctx, env.svc, path); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		fmt.Fprintf(&b, "\n## %s\n\n`%s`\n", c.Name, path)
		for _, t := range env.tracer.take() {
			if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(t.sql)), "SELECT") {
				continue // the count's BEGIN, SET LOCAL and COMMIT
			}
			b.WriteString("\n")
			if err := writeBlock(ctx, env, &b, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+t.sql, t.args...); err != nil {
				return fmt.Errorf("explain %s: %w", c.Name, err)
			}
		}
	}
	b.WriteString("\n## Indexes\n\n")
	err := writeBlock(ctx, env, &b, `SELECT indexdef || '  -- ' || pg_size_pretty(pg_relation_size((schemaname || '.' || indexname)::regclass))
		FROM pg_indexes WHERE tablename IN ('users', 'connections', 'events') ORDER BY tablename, indexname`)
	if err != nil {
		return err
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

// writeBlock writes the one-column answer of a query as a fenced block.
func writeBlock(ctx context.Context, env *benchEnv, b *strings.Builder, sql string, args ...any) error {
	rows, err := env.pool.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	b.WriteString("```\n" + strings.Join(lines, "\n") + "\n```\n")
	return nil
}
