package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSOptions names where events go: the subject of an event is
// SubjectPrefix + its kind, and Stream (created when missing) captures them.
type NATSOptions struct {
	URL           string
	SubjectPrefix string // default "dancecard.events."
	Stream        string // default "DANCECARD_EVENTS"
}

// NATSPublisher publishes events to NATS JetStream for consumers outside the
// service. The message id is the event id, so JetStream drops the duplicate
// of a redelivery that falls within the stream's de-duplication window.
type NATSPublisher struct {
	o      NATSOptions
	nc     *nats.Conn
	js     jetstream.JetStream
	mu     sync.Mutex
	stream bool // the stream is known to exist
}

// NewNATSPublisher connects to o.URL. An unreachable server is not an error:
// the client keeps reconnecting and publishing fails (and is retried) until
// it is back, so NATS being down never stops the service.
func NewNATSPublisher(o NATSOptions) (*NATSPublisher, error) {
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = "dancecard.events."
	}
	if o.Stream == "" {
		o.Stream = "DANCECARD_EVENTS"
	}
	nc, err := nats.Connect(o.URL, nats.Name("dancecard"), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w", o.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	return &NATSPublisher{o: o, nc: nc, js: js}, nil
}

// Close drops the connection.
func (p *NATSPublisher) Close() { p.nc.Close() }

// Subscriber returns the subscriber that publishes every kind.
func (p *NATSPublisher) Subscriber() Subscriber {
	return Subscriber{Name: "nats", Handle: p.publish}
}

func (p *NATSPublisher) publish(ctx context.Context, e Event) error {
	if err := p.ensureStream(ctx); err != nil {
		return err
	}
	body, err := MarshalEvent(e)
	if err != nil {
		return err
	}
	_, err = p.js.Publish(ctx, p.o.SubjectPrefix+string(e.Kind), body, jetstream.WithMsgID(strconv.FormatInt(e.ID, 10)))
	if err != nil {
		return fmt.Errorf("nats: publish: %w", err)
	}
	return nil
}

// ensureStream creates the stream on first use when it does not exist. An
// existing stream is left as the operator configured it.
func (p *NATSPublisher) ensureStream(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stream {
		return nil
	}
	_, err := p.js.Stream(ctx, p.o.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = p.js.CreateStream(ctx, jetstream.StreamConfig{Name: p.o.Stream, Subjects: []string{p.o.SubjectPrefix + ">"}})
	}
	if err != nil {
		return fmt.Errorf("nats: stream %s: %w", p.o.Stream, err)
	}
	p.stream = true
	return nil
}
