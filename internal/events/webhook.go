package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Webhook configures one webhook subscriber.
type Webhook struct {
	URL     string
	Secret  string // whsec_<base64 of 24 to 64 random bytes>
	Kinds   []Kind // empty: every kind
	Timeout time.Duration
	// DB is the database whose events are delivered; it keeps the
	// deployment id that sets this deployment's webhook ids apart.
	DB *pgxpool.Pool
}

// payload is the JSON body of a webhook and of a NATS message, in the shape
// the Standard Webhooks specification recommends: a type, a timestamp (when
// the event happened) and the data, which is the event itself.
type payload struct {
	Type      Kind      `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Wire      `json:"data"`
}

// Wire is an event as every consumer outside the process sees it (webhooks,
// NATS, the administrators' JSON API): every field of the event contract,
// in its order, an empty one null, never left out, so a consumer need not
// tell "absent" from "empty".
type Wire struct {
	ID             int64           `json:"id"`
	Kind           Kind            `json:"kind"`
	UserID         *int64          `json:"user_id"`
	Provider       *string         `json:"provider"`
	ProviderUserID *string         `json:"provider_user_id"`
	ConnectionID   *int64          `json:"connection_id"`
	Reason         *string         `json:"reason"`
	RequestID      *string         `json:"request_id"`
	IP             *string         `json:"ip"`
	UserAgent      *string         `json:"user_agent"`
	CreatedAt      time.Time       `json:"created_at"`
	Data           json.RawMessage `json:"data"`
}

// WireOf is e as consumers see it.
func WireOf(e Event) Wire {
	data := json.RawMessage("null") // like every other empty field
	if len(e.Data) > 0 {
		data, _ = json.Marshal(e.Data) // recorded events always marshal
	}
	return Wire{
		ID: e.ID, Kind: e.Kind, UserID: nullInt(e.UserID), Provider: nullString(e.Provider),
		ProviderUserID: nullString(e.ProviderUserID), ConnectionID: nullInt(e.ConnectionID),
		Reason: nullString(e.Reason), RequestID: nullString(e.Meta.RequestID), IP: nullString(e.Meta.IP),
		UserAgent: nullString(e.Meta.UserAgent), CreatedAt: e.CreatedAt.UTC(), Data: data,
	}
}

// MarshalEvent is the JSON every external consumer (webhooks, NATS) gets.
func MarshalEvent(e Event) ([]byte, error) {
	w := WireOf(e)
	return json.Marshal(payload{Type: e.Kind, Timestamp: w.CreatedAt, Data: w})
}

// NewWebhook returns a subscriber that POSTs each event to w.URL, signed
// following Standard Webhooks (https://www.standardwebhooks.com) so common
// verifier libraries accept it: webhook-id is "evt_<deployment id>_<event
// id>" (stable across retries, for the receiver's de-duplication, and never
// another deployment's or a rebuilt database's), webhook-timestamp the Unix
// time of the attempt, webhook-signature "v1,<base64 HMAC-SHA256 of
// id.timestamp.body>". Anything but a 2xx answer is a failure and is retried;
// redirects are not followed, since the signature is for this URL.
func NewWebhook(w Webhook, client *http.Client) (Subscriber, error) {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Subscriber{}, fmt.Errorf("url: must be an absolute http(s) URL")
	}
	key, err := DecodeWebhookSecret(w.Secret)
	if err != nil {
		return Subscriber{}, fmt.Errorf("secret: %w", err)
	}
	if w.DB == nil {
		return Subscriber{}, errors.New("webhook: the subscriber needs the database, which keeps the deployment id")
	}
	dep := &deployment{db: w.DB}
	if client == nil {
		// Keep a connection per concurrent delivery alive: the default of two
		// idle connections per host would open a new one for most deliveries.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = defaultInFlight
		client = &http.Client{Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return Subscriber{
		// The name leaves out query and credentials, which may be secret; it
		// shows in logs and on the admin page.
		Name:    "webhook:" + u.Scheme + "://" + u.Host + u.EscapedPath(),
		Kinds:   w.Kinds,
		Timeout: w.Timeout,
		Handle: func(ctx context.Context, e Event) error {
			id, err := dep.get(ctx)
			if err != nil {
				return fmt.Errorf("webhook: %w", err)
			}
			return postWebhook(ctx, client, w.URL, key, "evt_"+id+"_"+strconv.FormatInt(e.ID, 10), e)
		},
	}, nil
}

// DecodeWebhookSecret checks and decodes a "whsec_" secret.
func DecodeWebhookSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return nil, errors.New(`must start with "whsec_" followed by base64 (generate one with: echo whsec_$(openssl rand -base64 32))`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New(`is not "whsec_" followed by standard base64`)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("must decode to 24 to 64 bytes, got %d", len(key))
	}
	return key, nil
}

// SignWebhook returns the webhook-signature value for one message.
func SignWebhook(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", id, ts)
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func postWebhook(ctx context.Context, client *http.Client, target string, key []byte, id string, e Event) error {
	body, err := MarshalEvent(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Dancecard-Webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", SignWebhook(key, id, ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: %s answered %s", req.URL.Host, resp.Status)
	}
	return nil
}

// logGap spaces the log subscriber's reads: a log line a quarter of a
// second late loses nothing (it carries the event's time), and under load
// the lane then reads and saves its cursor a dozen times less often.
const logGap = 250 * time.Millisecond

// NewLog returns the subscriber that writes one structured line per event.
func NewLog(log *slog.Logger) Subscriber {
	return Subscriber{Name: "log", Gap: logGap, Handle: func(ctx context.Context, e Event) error {
		log.LogAttrs(ctx, slog.LevelInfo, "event",
			slog.Int64("event_id", e.ID), slog.String("kind", string(e.Kind)),
			slog.Int64("user_id", e.UserID), slog.String("provider", e.Provider),
			slog.String("provider_user_id", e.ProviderUserID), slog.Int64("connection_id", e.ConnectionID),
			slog.String("reason", e.Reason), slog.String("request_id", e.Meta.RequestID),
			slog.String("ip", e.Meta.IP), slog.Time("at", e.CreatedAt))
		return nil
	}}
}
