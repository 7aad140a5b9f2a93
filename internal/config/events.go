package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of the events section.
const (
	defaultMaxAttempts    = 10
	defaultRetention      = 30 * 24 * time.Hour
	defaultWebhookTimeout = 10 * time.Second
	maxMaxAttempts        = 100
	// The names the NATS publisher used before they were configurable:
	// changing them for an existing deployment moves its events elsewhere.
	defaultNATSStream        = "DANCECARD_EVENTS"
	defaultNATSSubjectPrefix = "dancecard.events."
	// startNewest is where a subscriber seen for the first time starts
	// unless configured otherwise: with the events recorded from then on.
	startNewest = "newest"
	startOldest = "oldest"
)

// kindRE is the shape of an event kind; the events package knows which exist.
var kindRE = regexp.MustCompile(`^[a-z][a-z_]{0,63}$`)

// Events configures delivery of recorded events to the built-in subscribers.
type Events struct {
	MaxAttempts int           // events.max_attempts: failed attempts before a delivery is parked as dead
	Retention   time.Duration // events.retention: how long delivered events stay in the audit log
	Log         bool          // events.log: one structured log line per event
	NATSURL     string        // events.nats_url: "" disables the JetStream publisher
	// events.nats_stream: the JetStream stream that stores the events,
	// created when missing.
	NATSStream string
	// events.nats_subject_prefix: an event's subject is this prefix followed
	// by its kind; it ends with ".".
	NATSSubjectPrefix string
	NATSStart         string    // events.nats_start: oldest | newest, for the publisher's first run
	Webhooks          []Webhook // events.webhooks
}

// Webhook is one entry of events.webhooks.
type Webhook struct {
	URL     string        // url
	Secret  string        // secret: whsec_ + base64 of 24 to 64 bytes
	Kinds   []string      // kinds: empty means every kind
	Timeout time.Duration // timeout of one attempt
	Start   string        // start: oldest | newest, for the webhook's first run
}

// eventsFields describes the events mapping.
func eventsFields(e *Events) fields {
	return fields{
		"max_attempts":        &e.MaxAttempts,
		"retention":           &e.Retention,
		"log":                 &e.Log,
		"nats_url":            &e.NATSURL,
		"nats_stream":         &e.NATSStream,
		"nats_subject_prefix": &e.NATSSubjectPrefix,
		"nats_start":          &e.NATSStart,
		"webhooks":            &e.Webhooks,
	}
}

// webhookFields describes one entry of events.webhooks.
func webhookFields(w *Webhook) fields {
	return fields{"url": &w.URL, "secret": &w.Secret, "kinds": &w.Kinds, "timeout": &w.Timeout, "start": &w.Start}
}

// webhooks reads the list of webhooks, each a mapping checked against webhookFields.
// They have no environment overrides of their own; write ${VAR} for the secret.
func (l *loader) webhooks(path string, n *yaml.Node, out *[]Webhook) error {
	return mappingList(l, path, n, out, "a list of webhooks", "a mapping with url and secret",
		func() Webhook { return Webhook{Timeout: defaultWebhookTimeout, Start: startNewest} }, webhookFields)
}

// parseCount accepts a positive whole number.
func parseCount(key string, v value) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v.s))
	if err != nil || n <= 0 {
		return 0, v.at.errorf(key, "must be a whole number above 0, got %q", v.s)
	}
	return n, nil
}

// checkEvents validates the events section.
func (l *loader) checkEvents() error {
	e := &l.cfg.Events
	if e.MaxAttempts > maxMaxAttempts {
		return l.errorf("events.max_attempts", "must be at most %d, got %d", maxMaxAttempts, e.MaxAttempts)
	}
	if e.NATSURL != "" {
		u, err := url.Parse(e.NATSURL)
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return l.errorf("events.nats_url", "must be a nats:// or tls:// URL such as nats://127.0.0.1:4222")
		}
	}
	if err := l.checkNATSNames(e); err != nil {
		return err
	}
	if err := l.checkStart("events.nats_start", &e.NATSStart); err != nil {
		return err
	}
	seen := map[string]int{}
	for i := range e.Webhooks {
		key := fmt.Sprintf("events.webhooks[%d]", i)
		if err := l.checkWebhook(key, &e.Webhooks[i]); err != nil {
			return err
		}
		if j, dup := seen[e.Webhooks[i].URL]; dup {
			return l.errorf(key+".url", "is already the url of events.webhooks[%d]", j)
		}
		seen[e.Webhooks[i].URL] = i
	}
	return nil
}

// checkWebhook requires an https URL (http only where base_url may be http too)
// and a Standard Webhooks secret.
func (l *loader) checkWebhook(key string, w *Webhook) error {
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		return l.errorf(key+".url", "is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "":
		return l.errorf(key+".url", "must be an absolute http(s) URL without fragment")
	case u.Scheme == "http" && !l.cfg.Dev && !l.cfg.InsecureTransport:
		return l.errorf(key+".url", "http:// is allowed only with dev: true or insecure_transport: true; use https://")
	}
	b64, ok := strings.CutPrefix(w.Secret, "whsec_")
	if !ok {
		return l.errorf(key+".secret", `must be "whsec_" followed by base64 of 24 to 64 random bytes (generate one with: echo whsec_$(openssl rand -base64 32))`)
	}
	if b, err := base64.StdEncoding.DecodeString(b64); err != nil || len(b) < 24 || len(b) > 64 {
		return l.errorf(key+".secret", `must be "whsec_" followed by standard base64 of 24 to 64 bytes`)
	}
	for j, k := range w.Kinds {
		if !kindRE.MatchString(k) {
			return l.errorf(fmt.Sprintf("%s.kinds[%d]", key, j), "must be an event kind such as connection_created, got %q", k)
		}
	}
	return l.checkStart(key+".start", &w.Start)
}

// checkStart accepts where a subscriber seen for the first time starts;
// empty (an unset ${VAR}) is the default.
func (l *loader) checkStart(key string, start *string) error {
	switch *start {
	case "":
		*start = startNewest
	case startNewest, startOldest:
	default:
		return l.errorf(key, "must be oldest or newest, got %q", *start)
	}
	return nil
}

// checkNATSNames fills in the stream and subject prefix when empty and holds
// them to the NATS naming rules (ADR-6), so a mistake stops start-up rather
// than every publication.
func (l *loader) checkNATSNames(e *Events) error {
	if e.NATSStream == "" {
		e.NATSStream = defaultNATSStream
	}
	if e.NATSSubjectPrefix == "" {
		e.NATSSubjectPrefix = defaultNATSSubjectPrefix
	}
	if len(e.NATSStream) > 255 || !natsName(e.NATSStream, `.*>/\`) {
		return l.errorf("events.nats_stream", `must be 1-255 printable ASCII characters without ".", "*", ">", "/", "\" or spaces, got %q`, e.NATSStream)
	}
	p := e.NATSSubjectPrefix
	body, ok := strings.CutSuffix(p, ".")
	if !ok {
		return l.errorf("events.nats_subject_prefix", `must end with "." (an event's subject is the prefix followed by its kind, e.g. %suser_created), got %q`, p+".", p)
	}
	for i, tok := range strings.Split(body, ".") {
		if tok == "" {
			return l.errorf("events.nats_subject_prefix", "token %d of %q is empty", i+1, p)
		}
		if !natsName(tok, "*>") {
			return l.errorf("events.nats_subject_prefix", `token %d of %q must be printable ASCII without "*", ">" or spaces`, i+1, p)
		}
	}
	if strings.HasPrefix(p, "$") {
		return l.errorf("events.nats_subject_prefix", `must not start with "$" (subjects such as $JS and $SYS belong to NATS), got %q`, p)
	}
	return nil
}

// natsName reports whether s is a non-empty run of printable ASCII (33 to
// 126, so no spaces) without any of the characters in not.
func natsName(s, not string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < 33 || c > 126 || strings.IndexByte(not, c) >= 0 {
			return false
		}
	}
	return true
}
