package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
)

// createDB makes a fresh database next to the one adminURL names and
// returns its URL and a function that drops it.
func createDB(ctx context.Context, adminURL string) (string, func(), error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("DATABASE_URL must be a postgres:// URL")
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	name := "dancecard_dances_" + randHex(4)
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

// server is the Dancecard process the driver started.
type server struct {
	cmd     *exec.Cmd
	baseURL string
	tmpDir  string
	log     *benchkit.TailWriter
	exited  chan struct{}
	waitErr error
}

// startServer builds ./cmd/server and starts it on a free loopback port with
// one custom OAuth 2 provider, fast, pointing at the fake. extraYAML is
// appended to its configuration file (the events section, for -events).
func startServer(ctx context.Context, dbURL string, f *fake, extraYAML string) (*server, error) {
	dir, err := os.MkdirTemp("", "dancecard-dances-")
	if err != nil {
		return nil, err
	}
	s := &server{tmpDir: dir, log: &benchkit.TailWriter{Max: 64 << 10}, exited: make(chan struct{})}
	bin := filepath.Join(dir, "server")
	if err := benchkit.BuildServer(ctx, bin, os.Stderr); err != nil {
		s.cleanUp()
		return nil, err
	}
	cfgFile := filepath.Join(dir, "dancecard.yaml")
	cfg := fmt.Sprintf(`providers:
  - id: fast
    protocol: oauth2
    name: Fast
    client_id: %s
    client_secret: %s
    auth_url: %s
    token_url: %s
    api_base_url: %s
    userinfo_url: %s
    scopes: [read:user]
    profile: {id: id, username: login, name: name, email: email}
`, f.ClientID(), f.ClientSecret(), f.AuthURL(), f.TokenURL(), f.APIBaseURL(), f.UserinfoURL()) + extraYAML
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		s.cleanUp()
		return nil, err
	}
	port, err := benchkit.FreePort()
	if err != nil {
		s.cleanUp()
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s.baseURL = "http://" + addr
	s.cmd = exec.Command(bin, "serve", "-config", cfgFile)
	s.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"DANCECARD_ADDR="+addr,
		"DANCECARD_BASE_URL="+s.baseURL,
		"DANCECARD_DEV=true",
		"DANCECARD_RATE_LIMITS_ENABLED=false",
		"DANCECARD_LOG_LEVEL=warn",
	)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		s.cleanUp()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second) // the first start migrates
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+"/readyz", nil)
		if resp, err := c.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			s.dumpLog(os.Stderr)
			return fmt.Errorf("the server exited before it was ready: %v", s.waitErr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.dumpLog(os.Stderr)
			return errors.New("the server's /readyz did not answer 200 within 90s")
		}
	}
}

// stop sends SIGTERM and waits; it kills the server after 30 s.
func (s *server) stop() {
	defer s.cleanUp()
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *server) cleanUp() { os.RemoveAll(s.tmpDir) }

func (s *server) pid() int { return s.cmd.Process.Pid }

// dumpLog prints the end of the server's output, without the dev-mode
// administrator's password line.
func (s *server) dumpLog(w io.Writer) {
	fmt.Fprintln(w, "--- end of the server's output ---")
	for _, line := range strings.Split(string(s.log.Bytes()), "\n") {
		if line != "" && !strings.Contains(line, "password:") {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintln(w, "---")
}
