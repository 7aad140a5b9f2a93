package events_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

const natsURL = "nats://127.0.0.1:4222"

// natsTest skips the test unless NATS JetStream runs locally, and returns a
// JetStream client and a random tag for names no other test run uses.
func natsTest(t *testing.T) (jetstream.JetStream, string) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err != nil {
		t.Skipf("NATS JetStream is not running at 127.0.0.1:4222 (%v); start nats-server -js to run this test", err)
	} else {
		c.Close()
	}
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	tag := make([]byte, 4)
	rand.Read(tag)
	return js, hex.EncodeToString(tag)
}

// dropStreams deletes the streams when the test ends.
func dropStreams(t *testing.T, js jetstream.JetStream, names ...string) {
	t.Cleanup(func() {
		for _, n := range names {
			_ = js.DeleteStream(context.Background(), n)
		}
	})
}

// deployment is one Dancecard deployment: its own database, publisher and
// dispatcher, and the dispatcher's log.
type deployment struct {
	db  *pgxpool.Pool
	log *syncBuffer
}

// deploy starts a deployment publishing with o (whose DB it fills in);
// setup runs on its database before the publisher starts.
func deploy(t *testing.T, o events.NATSOptions, d events.DispatcherOptions, setup ...string) deployment {
	t.Helper()
	dep := deployment{db: pgtest.New(t), log: &syncBuffer{}}
	for _, sql := range setup {
		if _, err := dep.db.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	o.URL, o.DB = natsURL, dep.db
	pub, err := events.NewNATSPublisher(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	d.DB, d.Subscribers = dep.db, []events.Subscriber{pub.Subscriber()}
	d.Logger = slog.New(slog.NewTextHandler(dep.log, nil))
	start(t, d)
	return dep
}

// messages reads every message of a stream.
func messages(t *testing.T, js jetstream.JetStream, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// body is what the tests read of a message's payload.
type body struct {
	Type string `json:"type"`
	Data struct {
		ID     int64  `json:"id"`
		Reason string `json:"reason"`
	} `json:"data"`
}

func decode(t *testing.T, m *jetstream.RawStreamMsg) body {
	t.Helper()
	var b body
	if err := json.Unmarshal(m.Data, &b); err != nil {
		t.Fatalf("message %d: %v", m.Sequence, err)
	}
	return b
}

// Events reach a JetStream stream on a subject per kind, with the
// deployment id and event id as the message id and every field of the
// contract in the body, and a redelivered event is de-duplicated.
func TestNATSPublisher(t *testing.T) {
	js, tag := natsTest(t)
	o := events.NATSOptions{SubjectPrefix: "dancecard_test_" + tag + ".events.", Stream: "DANCECARD_TEST_" + tag}
	dropStreams(t, js, o.Stream)
	dep := deploy(t, o, events.DispatcherOptions{})
	ctx := context.Background()
	record(t, dep.db, events.Event{Kind: events.UserCreated, UserID: 4},
		events.Event{Kind: events.ConnectionCreated, UserID: 4, Provider: "github"})
	waitFor(t, 10*time.Second, "publication", pending(dep.db))
	// Deliver event 1 again, as after a lost acknowledgement: JetStream drops it.
	if _, err := dep.db.Exec(ctx, `INSERT INTO event_deliveries (event_id, subscriber, user_id)
		SELECT 1, name, 4 FROM event_subscribers`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "redelivery", pending(dep.db))
	if s := state(t, dep.db, 1, "nats"); !s.Delivered || s.LastError != "" {
		t.Errorf("redelivery %+v, want delivered at once (the duplicate is our own)", s)
	}

	var deploymentID string
	if err := dep.db.QueryRow(ctx, `SELECT encode(substr(value, 1, 16), 'hex') FROM app_secrets WHERE name = 'deployment-id'`).
		Scan(&deploymentID); err != nil {
		t.Fatal(err)
	}
	ms := messages(t, js, o.Stream)
	if len(ms) != 2 {
		t.Fatalf("stream holds %d messages, want 2 (the redelivery de-duplicated)", len(ms))
	}
	for i, want := range []struct{ subject, id, kind string }{
		{o.SubjectPrefix + "user_created", deploymentID + ":1", "user_created"},
		{o.SubjectPrefix + "connection_created", deploymentID + ":2", "connection_created"},
	} {
		m := ms[i]
		if m.Subject != want.subject || m.Header.Get("Nats-Msg-Id") != want.id || decode(t, m).Type != want.kind ||
			m.Header.Get(events.DeploymentHeader) != deploymentID {
			t.Errorf("message %d: subject %s, headers %v, body %s; want %+v", i+1, m.Subject, m.Header, m.Data, want)
		}
	}
	var p struct{ Data map[string]any }
	if err := json.Unmarshal(ms[0].Data, &p); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "kind", "user_id", "provider", "provider_user_id", "connection_id", "reason",
		"request_id", "ip", "user_agent", "created_at", "data"} {
		if _, ok := p.Data[k]; !ok {
			t.Errorf("payload %s lacks %q", ms[0].Data, k)
		}
	}
	if p.Data["provider"] != nil || p.Data["data"] != nil {
		t.Errorf("payload %s: empty fields must be null", ms[0].Data)
	}
}

// Two deployments (two databases, so the same event ids) publish to one
// NATS server, to streams of their own and to one shared stream: every
// event of each is stored exactly once, none is lost to the other's
// de-duplication, and each one's own redelivery is still de-duplicated.
func TestNATSDeploymentsShareAServer(t *testing.T) {
	const perDeployment = 5
	js, tag := natsTest(t)
	for _, tc := range []struct {
		name    string
		options [2]events.NATSOptions
	}{
		{"own streams", [2]events.NATSOptions{
			{SubjectPrefix: "dc_a_" + tag + ".events.", Stream: "DC_A_" + tag},
			{SubjectPrefix: "dc_b_" + tag + ".events.", Stream: "DC_B_" + tag}}},
		{"one stream", [2]events.NATSOptions{
			{SubjectPrefix: "dc_shared_" + tag + ".events.", Stream: "DC_SHARED_" + tag},
			{SubjectPrefix: "dc_shared_" + tag + ".events.", Stream: "DC_SHARED_" + tag}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dropStreams(t, js, tc.options[0].Stream, tc.options[1].Stream)
			var deps []deployment
			for i, o := range tc.options {
				dep := deploy(t, o, events.DispatcherOptions{})
				deps = append(deps, dep)
				for u := range perDeployment {
					record(t, dep.db, events.Event{Kind: events.UserCreated, UserID: int64(u + 1), Reason: fmt.Sprint("deployment ", i)})
				}
			}
			for _, dep := range deps {
				waitFor(t, 10*time.Second, "publication", pending(dep.db))
				if _, err := dep.db.Exec(context.Background(), `INSERT INTO event_deliveries (event_id, subscriber, user_id)
					VALUES (1, 'nats', 1)`); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]int{}
			ids := map[string]bool{}
			for _, dep := range deps {
				waitFor(t, 10*time.Second, "redelivery", pending(dep.db))
				if s := state(t, dep.db, 1, "nats"); !s.Delivered || s.LastError != "" {
					t.Errorf("redelivery %+v, want delivered at once", s)
				}
			}
			streams := slices.Compact([]string{tc.options[0].Stream, tc.options[1].Stream})
			for _, name := range streams {
				for _, m := range messages(t, js, name) {
					b := decode(t, m)
					seen[fmt.Sprint(b.Data.Reason, " event ", b.Data.ID)]++
					ids[m.Header.Get("Nats-Msg-Id")] = true
				}
			}
			for i := range 2 {
				for id := range perDeployment {
					if key := fmt.Sprint("deployment ", i, " event ", id+1); seen[key] != 1 {
						t.Errorf("%s stored %d times, want once; stored: %v", key, seen[key], seen)
					}
				}
			}
			if len(seen) != 2*perDeployment || len(ids) != 2*perDeployment {
				t.Errorf("%d distinct events under %d message ids, want %d of each: %v", len(seen), len(ids), 2*perDeployment, seen)
			}
		})
	}
}

// syncBuffer collects log output written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
