package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestEventsDefaults(t *testing.T) {
	c, err := Load(writeConfig(t, valid), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Events{MaxAttempts: 10, Retention: 720 * time.Hour, Log: true}
	if !reflect.DeepEqual(c.Events, want) {
		t.Errorf("events = %+v, want %+v", c.Events, want)
	}
}

func TestEventsValues(t *testing.T) {
	text := valid + `events:
  max_attempts: 5
  retention: 48h
  log: false
  nats_url: nats://127.0.0.1:4222
  webhooks:
    - url: https://hooks.example.com/dc
      secret: ${HOOK_SECRET}
      kinds: [connection_created, connection_removed]
      timeout: 3s
    - url: https://other.example.com/
      secret: ` + testWebhookSecret + `
`
	c, err := Load(writeConfig(t, text), env(map[string]string{"HOOK_SECRET": testWebhookSecret, "DANCECARD_EVENTS_MAX_ATTEMPTS": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Events{MaxAttempts: 7, Retention: 48 * time.Hour, NATSURL: "nats://127.0.0.1:4222", Webhooks: []Webhook{
		{URL: "https://hooks.example.com/dc", Secret: testWebhookSecret, Kinds: []string{"connection_created", "connection_removed"}, Timeout: 3 * time.Second},
		{URL: "https://other.example.com/", Secret: testWebhookSecret, Timeout: 10 * time.Second},
	}}
	if !reflect.DeepEqual(c.Events, want) {
		t.Errorf("events = %+v\nwant     %+v", c.Events, want)
	}
	vars := map[string]string{"DANCECARD_EVENTS_LOG": "1", "DANCECARD_EVENTS_RETENTION": "1h", "DANCECARD_EVENTS_NATS_URL": "tls://n.example.com:4222"}
	if c, err = Load(writeConfig(t, valid), env(vars)); err != nil {
		t.Fatal(err)
	}
	if !c.Events.Log || c.Events.Retention != time.Hour || c.Events.NATSURL != "tls://n.example.com:4222" {
		t.Errorf("environment overrides not applied: %+v", c.Events)
	}
}

func TestEventsErrors(t *testing.T) {
	hook := func(lines string) string {
		return valid + "events:\n  webhooks:\n    - " + strings.ReplaceAll(lines, "\n", "\n      ") + "\n"
	}
	good := "url: https://h.example.com\nsecret: " + testWebhookSecret
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"attempts zero", valid + "events: {max_attempts: 0}\n", nil, "events.max_attempts: must be a whole number above 0, got \"0\""},
		{"attempts word", valid + "events: {max_attempts: ten}\n", nil, "events.max_attempts: must be a whole number above 0"},
		{"attempts huge", valid + "events: {max_attempts: 1000}\n", nil, "events.max_attempts: must be at most 100"},
		{"attempts env", valid, map[string]string{"DANCECARD_EVENTS_MAX_ATTEMPTS": "-2"}, "events.max_attempts (from DANCECARD_EVENTS_MAX_ATTEMPTS): must be a whole number"},
		{"retention", valid + "events: {retention: forever}\n", nil, "events.retention: must be a duration"},
		{"log", valid + "events: {log: maybe}\n", nil, "events.log: must be true or false"},
		{"nats scheme", valid + "events: {nats_url: 'http://127.0.0.1:4222'}\n", nil, "events.nats_url: must be a nats:// or tls:// URL"},
		{"unknown key", valid + "events: {max_attempt: 3}\n", nil, `unknown key "events.max_attempt" (did you mean "max_attempts"?)`},
		{"webhooks not list", valid + "events: {webhooks: https://x}\n", nil, "events.webhooks: must be a list of webhooks"},
		{"webhook not mapping", valid + "events: {webhooks: [https://x]}\n", nil, "events.webhooks[0]: must be a mapping with url and secret"},
		{"webhook unknown key", hook(good + "\nsecrets: x"), nil, `unknown key "events.webhooks[0].secrets"`},
		{"no url", hook("secret: " + testWebhookSecret), nil, "events.webhooks[0].url: is required"},
		{"relative url", hook("url: /hook\nsecret: " + testWebhookSecret), nil, "events.webhooks[0].url: must be an absolute http(s) URL"},
		{"http url", hook("url: http://h.example.com\nsecret: " + testWebhookSecret), nil, "events.webhooks[0].url: http:// is allowed only with dev: true"},
		{"no secret", hook("url: https://h.example.com"), nil, `events.webhooks[0].secret: must be "whsec_"`},
		{"unset secret", hook("url: https://h.example.com\nsecret: ${NOPE}"), nil, `events.webhooks[0].secret: must be "whsec_"`},
		{"short secret", hook("url: https://h.example.com\nsecret: whsec_c2hvcnQ="), nil, "events.webhooks[0].secret: must be \"whsec_\" followed by standard base64 of 24 to 64 bytes"},
		{"bad kind", hook(good + "\nkinds: [Connection-Created]"), nil, `events.webhooks[0].kinds[0]: must be an event kind such as connection_created, got "Connection-Created"`},
		{"bad timeout", hook(good + "\ntimeout: 0s"), nil, "events.webhooks[0].timeout: must be positive"},
		{"same url twice", valid + "events:\n  webhooks:\n    - {url: 'https://h.example.com', secret: " + testWebhookSecret + "}\n    - {url: 'https://h.example.com', secret: " + testWebhookSecret + "}\n", nil, "events.webhooks[1].url: is already the url of events.webhooks[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.yaml), env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
