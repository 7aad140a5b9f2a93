package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
		if strings.Contains(got, `"type":"admin_user_created"`) && logged {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event not delivered: webhook got %q; log:\n%s", got, s.out.String())
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
