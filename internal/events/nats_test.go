package events_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

const natsURL = "nats://127.0.0.1:4222"

// Events reach a JetStream stream on a subject per kind, with the event id
// as the message id, and a redelivered event is de-duplicated.
func TestNATSPublisher(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err != nil {
		t.Skipf("NATS JetStream is not running at 127.0.0.1:4222 (%v); start nats-server -js to run this test", err)
	} else {
		c.Close()
	}
	db := pgtest.New(t)
	ctx := context.Background()
	tag := make([]byte, 4)
	rand.Read(tag)
	o := events.NATSOptions{URL: natsURL, SubjectPrefix: "dancecard_test_" + hex.EncodeToString(tag) + ".events.",
		Stream: "DANCECARD_TEST_" + hex.EncodeToString(tag)}
	pub, err := events.NewNATSPublisher(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), o.Stream) })

	start(t, events.DispatcherOptions{DB: db, Subscribers: []events.Subscriber{pub.Subscriber()}})
	record(t, db, events.Event{Kind: events.UserCreated, UserID: 4},
		events.Event{Kind: events.ConnectionCreated, UserID: 4, Provider: "github"})
	waitFor(t, 10*time.Second, "publication", pending(db))
	// Deliver event 1 again, as after a lost acknowledgement: JetStream drops it.
	if _, err := db.Exec(ctx, `INSERT INTO event_deliveries (event_id, subscriber, user_id)
		SELECT 1, name, 4 FROM event_subscribers`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "redelivery", pending(db))

	stream, err := js.Stream(ctx, o.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("stream holds %d messages, want 2 (the redelivery de-duplicated)", info.State.Msgs)
	}
	for seq, want := range map[uint64]struct{ subject, id, kind string }{
		1: {o.SubjectPrefix + "user_created", "1", "user_created"},
		2: {o.SubjectPrefix + "connection_created", "2", "connection_created"},
	} {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(m.Data, &body); err != nil {
			t.Fatal(err)
		}
		if m.Subject != want.subject || m.Header.Get("Nats-Msg-Id") != want.id || body.Type != want.kind {
			t.Errorf("message %d: subject %s, id %q, type %s; want %+v", seq, m.Subject, m.Header.Get("Nats-Msg-Id"), body.Type, want)
		}
	}
}
