package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/bench/internal/benchkit"
	"github.com/dancecard/dancecard/bench/internal/seed"
	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/postgres"
)

// The bench's administrator; the database is a throwaway one on loopback.
const (
	benchAdmin    = "bench-admin@example.test"
	benchPassword = "bench admin password, loopback only"
)

// benchEnv is a seeded database, a server on it, a logged-in browser and an
// admin-scope token, and a traced pool for EXPLAIN.
type benchEnv struct {
	dir      string
	dbURL    string
	proc     *benchkit.Process
	base     string
	browser  *http.Client
	api      *http.Client
	token    string
	seedTime time.Duration
	counts   [3]int64
	pool     *pgxpool.Pool
	tracer   *lastQuery
	svc      *admin.Service
}

func dbURL(pg, name string) string {
	u, _ := url.Parse(pg)
	u.Path = "/" + name
	return u.String()
}

func prepare(ctx context.Context, o options) (*benchEnv, error) {
	dir, err := os.MkdirTemp("", "dancecard-admin-bench-")
	if err != nil {
		return nil, err
	}
	env := &benchEnv{dir: dir, dbURL: dbURL(o.adminURL, o.dbName)}
	bin := filepath.Join(dir, "server")
	if err := benchkit.BuildServer(ctx, bin, os.Stderr); err != nil {
		env.close()
		return nil, err
	}
	if err := env.seed(ctx, o); err != nil {
		env.close()
		return nil, err
	}
	if err := env.ensureAdmin(ctx, bin); err != nil {
		env.close()
		return nil, err
	}
	if err := env.start(ctx, bin); err != nil {
		env.close()
		return nil, err
	}
	if err := env.logIn(ctx); err != nil {
		env.close()
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(env.dbURL)
	if err != nil {
		env.close()
		return nil, err
	}
	env.tracer = &lastQuery{}
	cfg.ConnConfig.Tracer = env.tracer
	cfg.MaxConns = 4
	if env.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		env.close()
		return nil, err
	}
	env.svc = admin.New(env.pool)
	err = env.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM connections), (SELECT count(*) FROM events)`).
		Scan(&env.counts[0], &env.counts[1], &env.counts[2])
	return env, err
}

// seed makes a fresh database and fills it, unless it already holds the
// asked-for number of connections and -reseed is off.
func (env *benchEnv) seed(ctx context.Context, o options) error {
	if !o.reseed {
		if conn, err := pgx.Connect(ctx, env.dbURL); err == nil {
			var n int64
			err := conn.QueryRow(ctx, `SELECT count(*) FROM connections`).Scan(&n)
			conn.Close(ctx)
			if err == nil && n >= int64(o.conns) {
				fmt.Fprintf(os.Stderr, "%s already holds %d connections; -reseed to seed again\n", o.dbName, n)
				return nil
			}
		}
	}
	conn, err := pgx.Connect(ctx, o.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	name := pgx.Identifier{o.dbName}.Sanitize()
	if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeding %d users and %d connections into %s\n", o.users, o.conns, o.dbName)
	start := time.Now()
	if err := postgres.Migrate(env.dbURL); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, env.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// The server runs in dev mode without token_keys: it opens tokens with
	// the key it keeps in the database, so the seed seals under that one.
	keys, err := seed.DevKeys(ctx, db)
	if err != nil {
		return err
	}
	if err := seed.Run(ctx, db, keys, o.users, o.conns, os.Stderr); err != nil {
		return err
	}
	env.seedTime = time.Since(start).Round(time.Second)
	return nil
}

// ensureAdmin creates the bench administrator unless an earlier run did.
func (env *benchEnv) ensureAdmin(ctx context.Context, bin string) error {
	create := exec.CommandContext(ctx, bin, "admin", "create", "--email", benchAdmin)
	create.Env = append(os.Environ(), "DATABASE_URL="+env.dbURL, "DANCECARD_DEV=true", "DANCECARD_LOG_LEVEL=warn")
	create.Stdin = strings.NewReader(benchPassword + "\n")
	if out, err := create.CombinedOutput(); err != nil && !strings.Contains(string(out), "already exists") {
		return fmt.Errorf("admin create: %v: %s", err, out)
	}
	return nil
}

func (env *benchEnv) start(ctx context.Context, bin string) error {
	port, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	env.base = "http://" + addr
	env.proc, err = benchkit.Start(ctx, bin, []string{"serve"}, []string{"DATABASE_URL=" + env.dbURL, "DANCECARD_ADDR=" + addr,
		"DANCECARD_BASE_URL=" + env.base, "DANCECARD_DEV=true", "DANCECARD_RATE_LIMITS_ENABLED=false", "DANCECARD_LOG_LEVEL=warn"}, env.base)
	return err
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

// logIn logs the browser in as the bench administrator and creates an
// admin-scope token for the JSON lists.
func (env *benchEnv) logIn(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	env.browser = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	env.api = &http.Client{}
	page, err := env.get(ctx, env.browser, "/login", "")
	if err != nil {
		return err
	}
	m := csrfMeta.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("no CSRF token on /login")
	}
	form := url.Values{"email": {benchAdmin}, "password": {benchPassword}, "csrf_token": {m[1]}}
	res, err := env.browser.PostForm(env.base+"/login", form)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("log in as %s: %d", benchAdmin, res.StatusCode)
	}
	page, err = env.get(ctx, env.browser, "/profile", "")
	if err != nil {
		return err
	}
	m = csrfMeta.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("no CSRF token on /profile")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.base+"/api/v1/tokens", strings.NewReader(`{"name": "admin bench", "scope": "admin"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", m[1])
	res, err = env.browser.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.Token == "" {
		return fmt.Errorf("create an admin token: %d %v", res.StatusCode, err)
	}
	env.token = tok.Token
	return nil
}

// get fetches path and returns its body; any status but 200 is an error.
func (env *benchEnv) get(ctx context.Context, c *http.Client, path, bearer string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.base+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d: %.300s", path, res.StatusCode, b)
	}
	return string(b), nil
}

func (env *benchEnv) close() {
	if env.pool != nil {
		env.pool.Close()
	}
	if env.proc != nil {
		env.proc.Stop()
	}
	os.RemoveAll(env.dir)
}
