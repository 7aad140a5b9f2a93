package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/config"
)

// serve starts the dispatcher with the configured subscribers: the demo
// administrator's creation reaches a webhook and the event log line.
func TestServeDeliversEvents(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("webhook-signature") != "" {
			bodies = append(bodies, string(b))
		}
	}))
	t.Cleanup(hook.Close)
	path := filepath.Join(t.TempDir(), "dancecard.yaml")
	cfg := "events:\n  webhooks:\n    - url: " + hook.URL + "/in\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n      kinds: [admin_user_created]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, map[string]string{"DANCECARD_CONFIG": path, "DANCECARD_LOG_LEVEL": "info"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(bodies, "\n")
		mu.Unlock()
		logged := strings.Contains(logLines(s.out.String()), `"msg":"event","event_id":1,"kind":"admin_user_created"`)
		res, err := http.Get(s.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(res.Body)
		res.Body.Close()
		counted := strings.Contains(string(metrics), `dancecard_event_deliveries_total{outcome="delivered",subscriber="log"}`) &&
			strings.Contains(string(metrics), `dancecard_event_delivery_lag_seconds_count{subscriber="log"}`)
		if strings.Contains(got, `"type":"admin_user_created"`) && logged && counted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event not delivered (or not counted: %v): webhook got %q; log:\n%s", counted, got, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEventsConfigStopsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dancecard.yaml")
	cfg := "events:\n  webhooks:\n    - url: https://hooks.example.com\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n      kinds: [conection_created]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{"DANCECARD_DEV": "true", "DANCECARD_CONFIG": path, "DANCECARD_ADDR": freeAddr(t)})
	err := run(t.Context(), []string{"serve", "-migrate=false"}, env, nil, io.Discard)
	want := `config: events.webhooks[0].kinds[0]: unknown event kind "conection_created" (did you mean "connection_created"?)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestLogSubscriberRunsOnlyWhenItsLinesAreKept(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		want  []string
	}{
		{slog.LevelInfo, []string{"log"}},
		{slog.LevelDebug, []string{"log"}},
		{slog.LevelWarn, nil},
	} {
		var out strings.Builder
		log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: tc.level}))
		subs, _, err := eventSubscribers(config.Events{Log: true}, log)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range subs {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("level %v: subscribers %v, want %v", tc.level, names, tc.want)
		}
		if said := strings.Contains(out.String(), "log subscriber does not run"); said != (tc.want == nil) {
			t.Errorf("level %v: warning said %v, log %q", tc.level, said, out.String())
		}
	}
}
