package benchkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateDB makes a fresh database named prefix_<random> next to the one
// adminURL names, and returns its URL and a function that drops it.
func CreateDB(ctx context.Context, adminURL, prefix string) (string, func(), error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("DATABASE_URL must be a postgres:// URL")
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	dbURL := *u
	dbURL.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
		}
	}
	return dbURL.String(), drop, nil
}

// Process is a server the driver started: its output is kept (the end of
// it), it gets SIGTERM if the driver dies, and Stop ends it.
type Process struct {
	BaseURL string
	cmd     *exec.Cmd
	log     *TailWriter
	exited  chan struct{}
	waitErr error
}

// Start runs bin with args, the driver's environment plus env, serving at
// baseURL, and waits until its /readyz answers 200 (90 s at most: the first
// start migrates).
func Start(ctx context.Context, bin string, args, env []string, baseURL string) (*Process, error) {
	p := &Process{BaseURL: baseURL, log: &TailWriter{Max: 64 << 10}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitReady(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.BaseURL+"/readyz", nil)
		if resp, err := c.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.exited:
			p.DumpLog(os.Stderr)
			return fmt.Errorf("the server exited before it was ready: %v", p.waitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.DumpLog(os.Stderr)
			return errors.New("the server's /readyz did not answer 200 within 90s")
		}
	}
}

// Stop sends SIGTERM and waits; it kills the server after 30 s.
func (p *Process) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// PID is the server's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// DumpLog prints the end of the server's output, without the dev-mode
// administrator's password line.
func (p *Process) DumpLog(w io.Writer) {
	fmt.Fprintln(w, "--- end of the server's output ---")
	for _, line := range strings.Split(string(p.log.Bytes()), "\n") {
		if line != "" && !strings.Contains(line, "password:") {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintln(w, "---")
}
