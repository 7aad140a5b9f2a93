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
	want := Events{MaxAttempts: 10, Retention: 720 * time.Hour, Log: true,
		NATSStream: "DANCECARD_EVENTS", NATSSubjectPrefix: "dancecard.events.", NATSStart: "newest"}
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
  nats_stream: ACME-EVENTS_1
  nats_subject_prefix: acme.dancecard.
  nats_start: oldest
  webhooks:
    - url: https://hooks.example.com/dc
      secret: ${HOOK_SECRET}
      kinds: [connection_created, connection_removed]
      timeout: 3s
      start: oldest
    - url: https://other.example.com/
      secret: ` + testWebhookSecret + `
`
	c, err := Load(writeConfig(t, text), env(map[string]string{"HOOK_SECRET": testWebhookSecret, "DANCECARD_EVENTS_MAX_ATTEMPTS": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Events{MaxAttempts: 7, Retention: 48 * time.Hour, NATSURL: "nats://127.0.0.1:4222",
		NATSStream: "ACME-EVENTS_1", NATSSubjectPrefix: "acme.dancecard.", NATSStart: "oldest", Webhooks: []Webhook{
			{URL: "https://hooks.example.com/dc", Secret: testWebhookSecret, Kinds: []string{"connection_created", "connection_removed"}, Timeout: 3 * time.Second, Start: "oldest"},
			{URL: "https://other.example.com/", Secret: testWebhookSecret, Timeout: 10 * time.Second, Start: "newest"},
		}}
	if !reflect.DeepEqual(c.Events, want) {
		t.Errorf("events = %+v\nwant     %+v", c.Events, want)
	}
	vars := map[string]string{"DANCECARD_EVENTS_LOG": "1", "DANCECARD_EVENTS_RETENTION": "1h", "DANCECARD_EVENTS_NATS_URL": "tls://n.example.com:4222",
		"DANCECARD_EVENTS_NATS_STREAM": "S2", "DANCECARD_EVENTS_NATS_SUBJECT_PREFIX": "a.b.", "DANCECARD_EVENTS_NATS_START": "oldest"}
	if c, err = Load(writeConfig(t, valid), env(vars)); err != nil {
		t.Fatal(err)
	}
	if !c.Events.Log || c.Events.Retention != time.Hour || c.Events.NATSURL != "tls://n.example.com:4222" ||
		c.Events.NATSStream != "S2" || c.Events.NATSSubjectPrefix != "a.b." || c.Events.NATSStart != "oldest" {
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
		{"start", hook(good + "\nstart: first"), nil, `events.webhooks[0].start: must be oldest or newest, got "first"`},
		{"nats start", valid + "events: {nats_start: all}\n", nil, `events.nats_start: must be oldest or newest, got "all"`},
		{"nats start env", valid, map[string]string{"DANCECARD_EVENTS_NATS_START": "Oldest"}, `events.nats_start (from DANCECARD_EVENTS_NATS_START): must be oldest or newest`},
		{"stream dot", valid + "events: {nats_stream: dancecard.events}\n", nil, `events.nats_stream: must be 1-255 printable ASCII characters without ".", "*", ">", "/", "\" or spaces, got "dancecard.events"`},
		{"stream wildcard", valid + "events: {nats_stream: 'EVENTS*'}\n", nil, `events.nats_stream: must be 1-255 printable ASCII characters`},
		{"stream space", valid + "events: {nats_stream: 'MY EVENTS'}\n", nil, `events.nats_stream: must be 1-255 printable ASCII characters`},
		{"stream slash", valid + "events: {nats_stream: 'a/b'}\n", nil, `events.nats_stream: must be 1-255 printable ASCII characters`},
		{"stream long", valid + "events: {nats_stream: " + strings.Repeat("S", 256) + "}\n", nil, `events.nats_stream: must be 1-255 printable ASCII characters`},
		{"stream env", valid, map[string]string{"DANCECARD_EVENTS_NATS_STREAM": "a>b"}, `events.nats_stream (from DANCECARD_EVENTS_NATS_STREAM): must be`},
		{"prefix no dot", valid + "events: {nats_subject_prefix: dancecard.events}\n", nil, `events.nats_subject_prefix: must end with "."`},
		{"prefix empty token", valid + "events: {nats_subject_prefix: dancecard..events.}\n", nil, `events.nats_subject_prefix: token 2 of "dancecard..events." is empty`},
		{"prefix wildcard", valid + "events: {nats_subject_prefix: 'dancecard.*.'}\n", nil, `events.nats_subject_prefix: token 2 of "dancecard.*." must be printable ASCII without "*", ">" or spaces`},
		{"prefix gt", valid + "events: {nats_subject_prefix: 'a>.'}\n", nil, `events.nats_subject_prefix: token 1 of "a>." must be printable ASCII`},
		{"prefix space", valid + "events: {nats_subject_prefix: 'my events.'}\n", nil, `events.nats_subject_prefix: token 1 of "my events." must be printable ASCII`},
		{"prefix system", valid + "events: {nats_subject_prefix: '$JS.events.'}\n", nil, `events.nats_subject_prefix: must not start with "$" (subjects such as $JS and $SYS belong to NATS)`},
		{"prefix env", valid, map[string]string{"DANCECARD_EVENTS_NATS_SUBJECT_PREFIX": "."}, `events.nats_subject_prefix (from DANCECARD_EVENTS_NATS_SUBJECT_PREFIX): token 1 of "." is empty`},
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
