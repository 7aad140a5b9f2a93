package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
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
	log     *tailWriter
	exited  chan struct{}
	waitErr error
}

// startServer builds ./cmd/server and starts it on a free loopback port with
// one custom OAuth 2 provider, fast, pointing at the fake.
func startServer(ctx context.Context, dbURL string, f *fake) (*server, error) {
	dir, err := os.MkdirTemp("", "dancecard-dances-")
	if err != nil {
		return nil, err
	}
	s := &server{tmpDir: dir, log: &tailWriter{max: 64 << 10}, exited: make(chan struct{})}
	bin := filepath.Join(dir, "server")
	if err := buildServer(ctx, bin); err != nil {
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
`, f.ClientID(), f.ClientSecret(), f.AuthURL(), f.TokenURL(), f.APIBaseURL(), f.UserinfoURL())
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		s.cleanUp()
		return nil, err
	}
	port, err := freePort()
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

func buildServer(ctx context.Context, out string) error {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	fmt.Fprintf(os.Stderr, "building %s/cmd/server\n", root)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/server")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build the server: %w", err)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
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
	for _, line := range strings.Split(string(s.log.bytes()), "\n") {
		if line != "" && !strings.Contains(line, "password:") {
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintln(w, "---")
}

// procStatusKiB reads a "Key:  N kB" line of /proc/PID/status.
func procStatusKiB(pid int, key string) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailWriter) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf)
}
