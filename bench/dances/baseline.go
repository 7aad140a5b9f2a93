package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"
)

// baseline is the smallest consumer that completes the same dance: a state
// and PKCE verifier in a cookie, the code exchange, one userinfo GET, one
// upsert and a session cookie. It is what any consumer has to do, so
// Dancecard is measured against it.
type baseline struct {
	conf     *oauth2.Config
	userinfo string
	client   *http.Client // to the provider: exchange and userinfo
	db       *pgxpool.Pool
	srv      *http.Server
	ln       net.Listener
	baseURL  string
}

func startBaseline(ctx context.Context, dbURL string, f *fake) (*baseline, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		ln.Close()
		return nil, err
	}
	cfg.MaxConns = 8 // as Dancecard's pool
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS baseline_users (
		provider_user_id text PRIMARY KEY, token text NOT NULL, updated_at timestamptz NOT NULL)`); err != nil {
		ln.Close()
		db.Close()
		return nil, fmt.Errorf("create baseline_users: %w", err)
	}
	b := &baseline{
		conf: &oauth2.Config{
			ClientID: f.ClientID(), ClientSecret: f.ClientSecret(),
			Endpoint:    oauth2.Endpoint{AuthURL: f.AuthURL(), TokenURL: f.TokenURL()},
			RedirectURL: "http://" + ln.Addr().String() + "/callback",
			Scopes:      []string{"read:user"},
		},
		userinfo: f.UserinfoURL(),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			Proxy: nil, MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}},
		db:      db,
		ln:      ln,
		baseURL: "http://" + ln.Addr().String(),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", b.page)
	mux.HandleFunc("POST /start", b.start)
	mux.HandleFunc("GET /callback", b.callback)
	mux.HandleFunc("GET /done", b.page)
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go b.srv.Serve(ln) //nolint:errcheck // ends with Close
	return b, nil
}

func (b *baseline) close() {
	b.srv.Close()
	b.db.Close()
}

// page is the page before the start (Dancecard's /login) and the final one.
func (b *baseline) page(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" && r.URL.Path != "/done" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, `<!doctype html><title>baseline</title><p>ok</p>`)
}

func (b *baseline) start(w http.ResponseWriter, r *http.Request) {
	state := randHex(16)
	verifier := oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: "bl_dance", Value: state + "." + verifier, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, b.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
}

func (b *baseline) callback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("bl_dance")
	if err != nil {
		http.Error(w, "no dance", http.StatusBadRequest)
		return
	}
	state, verifier, ok := strings.Cut(c.Value, ".")
	if !ok || state != r.URL.Query().Get("state") {
		http.Error(w, "bad state", http.StatusBadRequest)
		return
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, b.client)
	tok, err := b.conf.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	id, err := b.fetchID(r.Context(), tok.AccessToken)
	if err != nil {
		http.Error(w, "userinfo: "+err.Error(), http.StatusBadGateway)
		return
	}
	if _, err := b.db.Exec(r.Context(), `INSERT INTO baseline_users (provider_user_id, token, updated_at)
		VALUES ($1, $2, now()) ON CONFLICT (provider_user_id)
		DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at`, id, tok.AccessToken); err != nil {
		http.Error(w, "upsert: "+err.Error(), http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "bl_dance", Value: "", Path: "/", MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: "bl_session", Value: randHex(32), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/done", http.StatusSeeOther)
}

func (b *baseline) fetchID(ctx context.Context, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.userinfo, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	var doc struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", err
	}
	id := strings.Trim(string(doc.ID), `"`)
	if id == "" || id == "null" {
		return "", errors.New("no id")
	}
	return id, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
