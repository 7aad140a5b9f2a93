package events_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancecard/dancecard/internal/events"
)

// failing waits until the delivery of event id has failed at least twice
// (so it is being retried) and checks it was never counted as delivered and
// that the failure is logged with want.
func failing(t *testing.T, dep deployment, id int64, want string) {
	t.Helper()
	waitFor(t, 15*time.Second, "retries", func() (bool, error) {
		return state(t, dep.db, id, "nats").Attempts >= 2, nil
	})
	if s := state(t, dep.db, id, "nats"); s.Delivered || s.Dead || !strings.Contains(s.LastError, want) {
		t.Errorf("delivery %+v, want it pending, failed with %q", s, want)
	}
	if log := dep.log.String(); !strings.Contains(log, "delivery failed; will retry") || !strings.Contains(log, want) {
		t.Errorf("log does not report the failure %q:\n%s", want, log)
	}
}

// count is how many messages a stream holds.
func count(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// A message the configured stream did not store is never counted as
// delivered: it is logged and retried until the stream stores it, once.
func TestNATSNotStoredIsRetried(t *testing.T) {
	js, tag := natsTest(t)
	ctx := context.Background()
	slow := events.DispatcherOptions{Backoff: func(int) time.Duration { return 50 * time.Millisecond }, MaxAttempts: 1000}

	t.Run("subject not bound to the stream", func(t *testing.T) {
		o := events.NATSOptions{SubjectPrefix: "dc_unbound_" + tag + ".", Stream: "DC_UNBOUND_" + tag}
		dropStreams(t, js, o.Stream)
		cfg := jetstream.StreamConfig{Name: o.Stream, Subjects: []string{"dc_elsewhere_" + tag + ".>"}}
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		dep := deploy(t, o, slow)
		record(t, dep.db, events.Event{Kind: events.UserCreated, UserID: 1})
		failing(t, dep, 1, "no stream captures "+o.SubjectPrefix+"user_created")
		cfg.Subjects = append(cfg.Subjects, o.SubjectPrefix+">")
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "delivery once the stream takes the subject", pending(dep.db))
		if n := count(t, js, o.Stream); n != 1 {
			t.Errorf("stream holds %d messages, want 1", n)
		}
	})

	t.Run("another stream captures the subject", func(t *testing.T) {
		o := events.NATSOptions{SubjectPrefix: "dc_stolen_" + tag + ".", Stream: "DC_OURS_" + tag}
		other := "DC_OTHER_" + tag
		dropStreams(t, js, o.Stream, other)
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: o.Stream, Subjects: []string{"dc_ours_" + tag + ".>"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: other, Subjects: []string{o.SubjectPrefix + ">"}}); err != nil {
			t.Fatal(err)
		}
		dep := deploy(t, o, slow)
		record(t, dep.db, events.Event{Kind: events.UserCreated, UserID: 1})
		failing(t, dep, 1, "not stored in stream "+o.Stream)
		if n, m := count(t, js, o.Stream), count(t, js, other); n != 0 || m != 0 {
			t.Errorf("streams hold %d and %d messages, want none", n, m)
		}
	})

	t.Run("stream deleted while in use", func(t *testing.T) {
		o := events.NATSOptions{SubjectPrefix: "dc_deleted_" + tag + ".", Stream: "DC_DELETED_" + tag}
		dropStreams(t, js, o.Stream)
		dep := deploy(t, o, slow)
		record(t, dep.db, events.Event{Kind: events.UserCreated, UserID: 1})
		waitFor(t, 10*time.Second, "publication", pending(dep.db))
		if err := js.DeleteStream(ctx, o.Stream); err != nil {
			t.Fatal(err)
		}
		record(t, dep.db, events.Event{Kind: events.UserCreated, UserID: 2})
		waitFor(t, 10*time.Second, "publication to the stream made again", pending(dep.db))
		if s := state(t, dep.db, 2, "nats"); !s.Delivered || s.Attempts < 2 || !strings.Contains(dep.log.String(), "no stream captures") {
			t.Errorf("delivery %+v, want delivered after a logged failure; log:\n%s", s, dep.log)
		}
		if ms := messages(t, js, o.Stream); len(ms) != 1 || decode(t, ms[0]).Data.ID != 2 {
			t.Errorf("stream holds %d messages, want event 2 alone", len(ms))
		}
	})
}

// A database copied from another deployment's shares its deployment id.
// When the copy's event meets a message of the original under the same id,
// JetStream answers "duplicate"; the publisher sees the stored message is
// not this event, so it is not counted as delivered but retried, and stored
// once the de-duplication window has passed.
func TestNATSDuplicateOfAnotherMessageIsNotDelivered(t *testing.T) {
	js, tag := natsTest(t)
	o := events.NATSOptions{SubjectPrefix: "dc_copy_" + tag + ".", Stream: "DC_COPY_" + tag}
	dropStreams(t, js, o.Stream)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: o.Stream,
		Subjects: []string{o.SubjectPrefix + ">"}, Duplicates: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	sameID := `INSERT INTO app_secrets (name, value) VALUES ('deployment-id', '\x00112233445566778899aabbccddeeff')`
	opts := events.DispatcherOptions{Backoff: func(int) time.Duration { return 100 * time.Millisecond }, MaxAttempts: 1000}
	original := deploy(t, o, opts, sameID)
	record(t, original.db, events.Event{Kind: events.UserCreated, UserID: 1, Reason: "original"})
	waitFor(t, 10*time.Second, "publication", pending(original.db))

	copied := deploy(t, o, opts, sameID)
	record(t, copied.db, events.Event{Kind: events.UserCreated, UserID: 1, Reason: "copy"})
	failing(t, copied, 1, "holds another message under this id")
	waitFor(t, 15*time.Second, "publication after the window", pending(copied.db))
	var reasons []string
	for _, m := range messages(t, js, o.Stream) {
		reasons = append(reasons, decode(t, m).Data.Reason)
	}
	if strings.Join(reasons, ",") != "original,copy" {
		t.Errorf("stream holds %q, want the original's event and the copy's, once each", reasons)
	}
}
