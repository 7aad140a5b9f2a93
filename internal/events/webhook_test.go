package events_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // 24 bytes, the Standard Webhooks example

// verify is an independent Standard Webhooks verifier, written from the
// specification rather than from the code under test: the signed content is
// "id.timestamp.body", the key the base64 after "whsec_", the header a
// space-separated list of "v1,<base64 signature>", the timestamp within five
// minutes.
func verify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id == "" || ts == "" {
		return fmt.Errorf("missing webhook-id or webhook-timestamp")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		version, b64, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no valid signature in %q", h.Get("webhook-signature"))
}

// received is one request a test endpoint accepted.
type received struct {
	header http.Header
	body   []byte
}

// A webhook endpoint receives each wanted event once, signed so that an
// independent verifier accepts it, with the event in the JSON body and a
// webhook-id stable across retries.
func TestWebhookDeliversSignedEvents(t *testing.T) {
	db := pgtest.New(t)
	var mu sync.Mutex
	var got []received
	failures := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, received{r.Header.Clone(), body})
		if failures > 0 { // the first attempt meets an endpoint that is down
			failures--
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if err := verify(testSecret, r.Header, body); err != nil {
			t.Errorf("signature: %v", err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	hook, err := events.NewWebhook(events.Webhook{URL: srv.URL + "/hooks?token=x", Secret: testSecret,
		Kinds: []events.Kind{events.ConnectionCreated}, Timeout: 2 * time.Second, DB: db}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hook.Name != "webhook:"+srv.URL+"/hooks" {
		t.Errorf("name %q shows the query", hook.Name)
	}
	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{hook}})
	record(t, db,
		events.Event{Kind: events.ConnectionCreated, UserID: 3, Provider: "github", ProviderUserID: "octo",
			ConnectionID: 11, Data: map[string]any{"scopes": "read:user"}, Meta: events.Meta{RequestID: "r1", IP: "192.0.2.1"}},
		events.Event{Kind: events.LoginFailed, Reason: "not wanted by this hook"})
	waitFor(t, 10*time.Second, "the webhook", pending(db))

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("endpoint got %d requests, want 2 (one failure, one success)", len(got))
	}
	var dep string
	if err := db.QueryRow(t.Context(), `SELECT encode(substring(value FROM 1 FOR 16), 'hex') FROM app_secrets
	    WHERE name = 'deployment-id'`).Scan(&dep); err != nil || len(dep) != 32 {
		t.Fatalf("deployment id %q: %v", dep, err)
	}
	if a, b := got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"); a != b || a != "evt_"+dep+"_1" {
		t.Errorf("webhook-id %q then %q, want evt_%s_1 both times", a, b, dep)
	}
	var p struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			ID             int64          `json:"id"`
			Kind           string         `json:"kind"`
			UserID         int64          `json:"user_id"`
			Provider       string         `json:"provider"`
			ProviderUserID string         `json:"provider_user_id"`
			ConnectionID   int64          `json:"connection_id"`
			RequestID      string         `json:"request_id"`
			IP             string         `json:"ip"`
			UserAgent      *string        `json:"user_agent"`
			CreatedAt      time.Time      `json:"created_at"`
			Data           map[string]any `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[1].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "connection_created" || p.Data.ID != 1 || p.Data.Kind != "connection_created" || p.Data.UserID != 3 ||
		p.Data.ProviderUserID != "octo" || p.Data.ConnectionID != 11 || p.Data.RequestID != "r1" ||
		p.Data.IP != "192.0.2.1" || p.Data.UserAgent != nil || p.Data.Data["scopes"] != "read:user" ||
		p.Timestamp.IsZero() || !p.Data.CreatedAt.Equal(p.Timestamp) {
		t.Errorf("body %s", got[1].body)
	}
	if ct := got[1].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if s := state(t, db, 1, hook.Name); s.Attempts != 2 || !s.Delivered {
		t.Errorf("delivery %+v, want delivered on the second attempt", s)
	}
}

// A signature made with another secret, or over another body, is refused by
// the independent verifier: the test's verifier is not a yes-man.
func TestWebhookSignatureIsSpecific(t *testing.T) {
	key, err := events.DecodeWebhookSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Unix()
	body := []byte(`{"type":"user_created"}`)
	h := http.Header{}
	h.Set("webhook-id", "evt_9")
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", events.SignWebhook(key, "evt_9", ts, body))
	if err := verify(testSecret, h, body); err != nil {
		t.Fatalf("good signature refused: %v", err)
	}
	if verify(testSecret, h, []byte(`{"type":"user_createD"}`)) == nil {
		t.Error("a changed body verified")
	}
	if verify("whsec_"+base64.StdEncoding.EncodeToString(make([]byte, 24)), h, body) == nil {
		t.Error("another secret verified")
	}
	// The example from the Standard Webhooks specification.
	exKey, _ := events.DecodeWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	got := events.SignWebhook(exKey, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("specification example signs as %s", got)
	}
}

// Event ids are unique only within one database. Two deployments (or a
// database rebuilt after the endpoint saw its first events) number their
// events alike, and an endpoint that drops repeated webhook ids would drop
// the second deployment's event 1 as a repeat of the first's; the replicas
// of one deployment must still agree on an event's id.
func TestWebhookIDsDifferAcrossDeployments(t *testing.T) {
	var mu sync.Mutex
	var ids []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verify(testSecret, r.Header, body); err != nil {
			t.Errorf("signature: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, r.Header.Get("webhook-id"))
	}))
	t.Cleanup(srv.Close)
	first, second := pgtest.New(t), pgtest.New(t)
	e := events.Event{ID: 1, Kind: events.UserCreated, CreatedAt: time.Now()}
	for _, db := range []*pgxpool.Pool{first, first, second} { // two replicas of one deployment, then another deployment
		hook, err := events.NewWebhook(events.Webhook{URL: srv.URL, Secret: testSecret, Timeout: 2 * time.Second, DB: db}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := hook.Handle(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 3 || ids[0] != ids[1] || ids[0] == ids[2] || !strings.HasPrefix(ids[2], "evt_") || !strings.HasSuffix(ids[2], "_1") {
		t.Errorf("webhook ids %q: want the replicas' alike and the other deployment's different", ids)
	}
}

func TestWebhookRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		w    events.Webhook
		want string
	}{
		{events.Webhook{URL: "ftp://x", Secret: testSecret}, "url"},
		{events.Webhook{URL: "/relative", Secret: testSecret}, "url"},
		{events.Webhook{URL: "https://x.test", Secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, `"whsec_"`},
		{events.Webhook{URL: "https://x.test", Secret: "whsec_!!"}, "base64"},
		{events.Webhook{URL: "https://x.test", Secret: "whsec_c2hvcnQ="}, "24 to 64 bytes, got 5"},
		{events.Webhook{URL: "https://x.test", Secret: testSecret}, "needs the database"},
	} {
		_, err := events.NewWebhook(tc.w, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", tc.w, err, tc.want)
		}
	}
}
