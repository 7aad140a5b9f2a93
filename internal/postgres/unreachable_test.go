package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// forwarder passes TCP connections through to a PostgreSQL server until it
// is silenced: then it cuts the connections it carries and takes new ones
// without ever answering, as a server behind a network partition does.
type forwarder struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	silent bool
	conns  []net.Conn
}

func newForwarder(t *testing.T, target string) *forwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, target: target}
	t.Cleanup(f.close)
	go f.serve()
	return f
}

func (f *forwarder) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		silent := f.silent
		f.mu.Unlock()
		if silent {
			continue // accepted, never answered
		}
		up, err := net.Dial("tcp", f.target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, up)
		f.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// close cuts everything and stops listening, so that connection attempts
// in flight fail at once.
func (f *forwarder) close() {
	f.ln.Close()
	f.silence()
}

// silence cuts every connection and answers no new one.
func (f *forwarder) silence() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.silent = true
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

// TestPoolGivesUpOnAnUnreachableServer: when the server stops answering, a
// query that needs a new connection fails within the connect timeout
// rather than hanging as long as the kernel keeps trying.
func TestPoolGivesUpOnAnUnreachableServer(t *testing.T) {
	u, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	fw := newForwarder(t, u.Host)
	u.Host = fw.ln.Addr().String()
	pool, err := postgres.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	defer fw.close() // before the pool's Close, which waits for connection attempts
	var one int
	if err := pool.QueryRow(context.Background(), `SELECT 1`).Scan(&one); err != nil {
		t.Fatal(err)
	}
	fw.silence()
	start := time.Now()
	// Only so that a pool without the timeout fails this test rather than
	// hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The pool's connection is cut: the first query fails on it at once
	// or, if the pool noticed, waits for a new one.
	for range 2 {
		err = pool.QueryRow(ctx, `SELECT 1`).Scan(&one)
	}
	if err == nil {
		t.Fatal("a query through a silent server succeeded")
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("the query gave up after %v, want about the 5 s connect timeout", took)
	}
}

func TestUnavailable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true}, // a restart terminated the backend
		{&pgconn.PgError{Code: "57P03"}, true}, // still starting
		{&pgconn.PgError{Code: "08006"}, true},
		{fmt.Errorf("load: %w", &pgconn.PgError{Code: "57P02"}), true},
		{&pgconn.PgError{Code: "23505"}, false}, // a unique violation is the request's
		{&pgconn.PgError{Code: "57014"}, false}, // a cancelled statement
		{errors.New("closed pool"), false},
		{nil, false},
	} {
		if got := postgres.Unavailable(c.err); got != c.want {
			t.Errorf("Unavailable(%v) = %v", c.err, got)
		}
	}
	// A server that refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = postgres.Open(t.Context(), "postgres://postgres@"+addr+"/x?sslmode=disable")
	if err == nil || !postgres.Unavailable(err) {
		t.Fatalf("a refused connection: %v, Unavailable %v", err, postgres.Unavailable(err))
	}
}
