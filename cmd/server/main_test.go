package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/postgres/pgtest"
	"github.com/dancecard/dancecard/migrations"
)

// syncBuffer collects run()'s output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// started is a run() serving in the background.
type started struct {
	base   string
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startServe boots run(ctx, ["serve"], ...) on a fresh database in dev mode
// and waits until it listens.
func startServe(t *testing.T, extra map[string]string) *started {
	t.Helper()
	addr := freeAddr(t)
	env := map[string]string{
		"DATABASE_URL":        pgtest.NewURL(t),
		"DANCECARD_ADDR":      addr,
		"DANCECARD_BASE_URL":  "http://" + addr,
		"DANCECARD_DEV":       "true",
		"DANCECARD_LOG_LEVEL": "warn",
	}
	for k, v := range extra {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{base: "http://" + addr, out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, []string{"serve"}, envMap(env), strings.NewReader(""), s.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.out.String(), "listening on") {
		select {
		case err := <-s.done:
			t.Fatalf("run returned early: %v\n%s", err, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

var demoPassword = regexp.MustCompile(`password: (\S+)`)

// TestServeEndToEnd boots the real program and logs in as the demo
// administrator it prints.
func TestServeEndToEnd(t *testing.T) {
	s := startServe(t, nil)
	m := demoPassword.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("demo administrator credentials not printed:\n%s", s.out.String())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.Get(s.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	token := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(body)
	if token == nil {
		t.Fatalf("no csrf token on /login")
	}
	res, err = client.PostForm(s.base+"/login", url.Values{"email": {demoAdminEmail}, "password": {m[1]}, "csrf_token": {string(token[1])}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.Request.URL.Path != "/profile" || !bytes.Contains(body, []byte(demoAdminEmail)) {
		t.Fatalf("demo admin log-in ended at %s", res.Request.URL)
	}
	if !bytes.Contains(body, []byte(`href="/admin/"`)) {
		t.Error("administrator has no Admin link")
	}
	if strings.Contains(logLines(s.out.String()), m[1]) {
		t.Error("the demo password appears in a log line")
	}
}

// logLines keeps only the structured log lines of run's output.
func logLines(out string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "{") {
			b.WriteString(sc.Text() + "\n")
		}
	}
	return b.String()
}

// TestGracefulShutdown starts a request, cancels run's context while the
// request body is still arriving, and checks the request is answered and run
// returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	s := startServe(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "email=a%40example.com&password=xxxxxxxx"
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(100 * time.Millisecond)
	s.cancel()
	time.Sleep(200 * time.Millisecond)
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("connection closed before the in-flight request finished: %v", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request got no response: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden { // no CSRF token: answered, not dropped
		t.Fatalf("in-flight request: %d", res.StatusCode)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
		s.done <- nil
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after shutdown")
	}
}

func TestMigrateCommands(t *testing.T) {
	env := envMap(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "DANCECARD_DEV": "true"})
	versions := migrationVersions(t)
	latest, n := "schema version "+versions[len(versions)-1], strconv.Itoa(len(versions))
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "version"}, latest},
		{[]string{"migrate", "down", "2"}, "schema version " + versions[len(versions)-3]},
		{[]string{"migrate", "up"}, latest},
		{[]string{"migrate", "down", n}, "schema version 0"},
		{[]string{"migrate", "up", "-config", ""}, latest},
	}
	for _, st := range steps {
		var out bytes.Buffer
		if err := run(context.Background(), st.args, env, nil, &out); err != nil {
			t.Fatalf("%v: %v", st.args, err)
		}
		if !strings.Contains(out.String(), st.want) {
			t.Fatalf("%v: %q, want %q", st.args, out.String(), st.want)
		}
	}
	for _, bad := range [][]string{{"migrate"}, {"migrate", "down"}, {"migrate", "down", "-1"}, {"migrate", "sideways"}, {"frobnicate"}} {
		if err := run(context.Background(), bad, env, nil, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestAdminCreate(t *testing.T) {
	env := envMap(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "DANCECARD_DEV": "true"})
	var out bytes.Buffer
	err := run(context.Background(), []string{"admin", "create", "--email", "Boss@Example.com"}, env, strings.NewReader(goodTestPassword+"\nignored\n"), &out)
	if err != nil || !strings.Contains(out.String(), "created administrator boss@example.com") {
		t.Fatalf("admin create: %v %q", err, out.String())
	}
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"admin", "create", "--email", "boss@example.com"}, goodTestPassword, "already exists"},
		{[]string{"admin", "create", "--email", "new@example.com"}, "short\n", "at least 8"},
		{[]string{"admin", "create"}, goodTestPassword, "--email is required"},
		{[]string{"admin", "create", "--email", "not an email"}, goodTestPassword, "email address"},
	} {
		err := run(context.Background(), tc.args, env, strings.NewReader(tc.stdin), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestInvalidConfigStopsStartup(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DANCECARD_DEV": "sometimes"}, "DANCECARD_DEV"},
		{map[string]string{"DANCECARD_BASE_URL": "https://dancecard.example"}, "token_keys"},
		{map[string]string{"DANCECARD_DEV": "true", "DANCECARD_CONFIG": "/nonexistent/dancecard.yaml"}, "dancecard.yaml"},
	} {
		err := run(context.Background(), []string{"serve"}, envMap(tc.env), nil, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to name %q", tc.env, err, tc.want)
		}
	}
}

const goodTestPassword = "correct horse battery staple"

func TestKeysRotateCommand(t *testing.T) {
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64 of 32 bytes
	env := envMap(map[string]string{"DATABASE_URL": pgtest.NewURL(t), "DANCECARD_BASE_URL": "https://dancecard.example",
		"DANCECARD_TOKEN_KEYS": key})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keys", "rotate"}, env, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "re-encrypted the tokens of 0 connections") {
		t.Fatalf("keys rotate: %q", out.String())
	}
	if err := run(context.Background(), []string{"keys", "spin"}, env, nil, io.Discard); err == nil {
		t.Fatal("keys spin: no error")
	}
}

// migrationVersions lists the embedded migrations' versions in order.
func migrationVersions(t *testing.T) []string {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil || len(files) < 3 {
		t.Fatalf("embedded migrations: %v %v", files, err)
	}
	var vs []int
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(f, "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s: %v", f, err)
		}
		vs = append(vs, v)
	}
	slices.Sort(vs)
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.Itoa(v)
	}
	return out
}

// TestSecondServerOnTheSameAddress: make run a second time fails before it
// touches anything (the demo password of the running one still works), and
// the error names both keys that move a server.
func TestSecondServerOnTheSameAddress(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	s := startServe(t, map[string]string{"DATABASE_URL": dbURL})
	first := demoPassword.FindStringSubmatch(s.out.String())
	addr := strings.TrimPrefix(s.base, "http://")
	var out syncBuffer
	err := run(t.Context(), []string{"serve"}, envMap(map[string]string{"DATABASE_URL": dbURL, "DANCECARD_ADDR": addr,
		"DANCECARD_BASE_URL": s.base, "DANCECARD_DEV": "true"}), strings.NewReader(""), &out)
	if err == nil || !strings.Contains(err.Error(), "DANCECARD_ADDR") || !strings.Contains(err.Error(), "DANCECARD_BASE_URL") {
		t.Fatalf("second server: %v", err)
	}
	if strings.Contains(out.String(), "password:") {
		t.Fatal("the second server reset the demo password before failing")
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, _ := client.Get(s.base + "/login")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	token := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindSubmatch(body)
	res, err = client.PostForm(s.base+"/login", url.Values{"email": {demoAdminEmail}, "password": {first[1]}, "csrf_token": {string(token[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/profile" {
		t.Fatalf("the first server's demo password stopped working: ended at %s", res.Request.URL)
	}
}
