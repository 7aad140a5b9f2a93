package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of NATSOptions: the names the publisher has always used.
const (
	DefaultNATSSubjectPrefix = "dancecard.events."
	DefaultNATSStream        = "DANCECARD_EVENTS"
)

// DeploymentHeader names the deployment a NATS message comes from, so that
// consumers of a stream that several deployments share can tell them apart.
const DeploymentHeader = "Dancecard-Deployment"

// NATSOptions names where events go: the subject of an event is
// SubjectPrefix + its kind, and Stream (created when missing) stores them.
type NATSOptions struct {
	URL string
	// DB is the database whose events are published; it keeps the
	// deployment id that sets this deployment's message ids apart.
	DB            *pgxpool.Pool
	SubjectPrefix string // default DefaultNATSSubjectPrefix; ends with "."
	Stream        string // default DefaultNATSStream
}

// NATSPublisher publishes events to NATS JetStream for consumers outside the
// service. Event ids are unique only within one database, and JetStream
// drops a message whose id it saw in the stream's de-duplication window, so
// the message id is "<deployment id>:<event id>": the deployment id is
// random, made once per database and shared by its replicas. A redelivery of
// one event is dropped as a duplicate; another deployment's event with the
// same number never is, whether or not the two share a stream.
//
// An event counts as delivered only when the configured stream acknowledges
// storing it. A duplicate acknowledgement is accepted after checking that
// the stored message is this one (an earlier attempt whose acknowledgement
// was lost); that check needs permission for $JS.API.STREAM.MSG.GET.<stream>.
// Anything else (no stream for the subject, an error, a timeout) fails the
// delivery, which the dispatcher logs and retries.
type NATSPublisher struct {
	o          NATSOptions
	nc         *nats.Conn
	js         jetstream.JetStream
	deployment *deployment
	mu         sync.Mutex
	stream     jetstream.Stream // nil until the stream is known to exist
}

// NewNATSPublisher connects to o.URL. An unreachable server is not an error:
// the client keeps reconnecting and publishing fails (and is retried) until
// it is back, so NATS being down never stops the service.
func NewNATSPublisher(o NATSOptions) (*NATSPublisher, error) {
	if o.DB == nil {
		return nil, errors.New("nats: the publisher needs the database, which keeps the deployment id")
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultNATSSubjectPrefix
	}
	if o.Stream == "" {
		o.Stream = DefaultNATSStream
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
	return &NATSPublisher{o: o, nc: nc, js: js, deployment: &deployment{db: o.DB}}, nil
}

// Close drops the connection.
func (p *NATSPublisher) Close() { p.nc.Close() }

// Subscriber returns the subscriber that publishes every kind.
func (p *NATSPublisher) Subscriber() Subscriber {
	return Subscriber{Name: "nats", Handle: p.publish}
}

func (p *NATSPublisher) publish(ctx context.Context, e Event) error {
	deployment, stream, err := p.ready(ctx)
	if err != nil {
		return err
	}
	body, err := MarshalEvent(e)
	if err != nil {
		return err
	}
	id := deployment + ":" + strconv.FormatInt(e.ID, 10)
	m := &nats.Msg{Subject: p.o.SubjectPrefix + string(e.Kind), Data: body, Header: nats.Header{}}
	m.Header.Set(DeploymentHeader, deployment)
	// The expected stream makes the server refuse the message rather than
	// store it in another stream that happens to capture the subject.
	ack, err := p.js.PublishMsg(ctx, m, jetstream.WithMsgID(id), jetstream.WithExpectStream(p.o.Stream))
	if errors.Is(err, jetstream.ErrNoStreamResponse) {
		p.forgetStream() // deleted meanwhile? look again (and create it) next time
		return fmt.Errorf("nats: message %s not stored: no stream captures %s (stream %s must have %s> among its subjects): %w",
			id, m.Subject, p.o.Stream, p.o.SubjectPrefix, err)
	}
	if err != nil {
		return fmt.Errorf("nats: message %s not stored in stream %s: %w", id, p.o.Stream, err)
	}
	return p.checkAck(ctx, stream, ack, id, body)
}

// checkAck accepts an acknowledgement only from the configured stream, and
// a duplicate only when the message stored under the id is this one.
func (p *NATSPublisher) checkAck(ctx context.Context, stream jetstream.Stream, ack *jetstream.PubAck, id string, body []byte) error {
	if ack.Stream != p.o.Stream {
		return fmt.Errorf("nats: message %s acknowledged by stream %q, not %s: not counted as delivered", id, ack.Stream, p.o.Stream)
	}
	if !ack.Duplicate {
		return nil
	}
	stored, err := stream.GetMsg(ctx, ack.Sequence)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		// Removed since (limits, a work queue's consumer): it was ours,
		// as no other deployment uses this id.
		return nil
	case err != nil:
		return fmt.Errorf("nats: message %s is a duplicate; reading the stored one (sequence %d) to check it: %w", id, ack.Sequence, err)
	case stored.Header.Get(jetstream.MsgIDHeader) != id || !bytes.Equal(stored.Data, body):
		return fmt.Errorf("nats: message %s not stored: stream %s holds another message under this id (sequence %d); "+
			"a copy of another deployment's database shares its deployment id: delete app_secrets row %q there and restart it",
			id, p.o.Stream, ack.Sequence, deploymentRow)
	}
	return nil
}

// ready returns the deployment id, read from the database on first use, and
// the stream, created on first use when it does not exist. An existing
// stream is left as the operator configured it.
func (p *NATSPublisher) ready(ctx context.Context) (string, jetstream.Stream, error) {
	dep, err := p.deployment.get(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("nats: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stream == nil {
		s, err := p.js.Stream(ctx, p.o.Stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			s, err = p.js.CreateStream(ctx, jetstream.StreamConfig{Name: p.o.Stream, Subjects: []string{p.o.SubjectPrefix + ">"}})
		}
		if err != nil {
			return "", nil, fmt.Errorf("nats: stream %s: %w", p.o.Stream, err)
		}
		p.stream = s
	}
	return dep, p.stream, nil
}

func (p *NATSPublisher) forgetStream() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stream = nil
}
