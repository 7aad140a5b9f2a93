package mail_test

import (
	"context"
	"html"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/mail/mailtest"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

const testFrom = "Dancecard <noreply@dancecard.test>"

// render is the tests' renderer: the subject names the kind and the
// recipient, both bodies carry the link.
func render(o mail.Outgoing) (mail.Rendered, error) {
	r := mail.Rendered{
		Subject: "Dancecard " + string(o.Kind) + " for " + o.To,
		Text:    "Hello " + o.To + "\nnotice: " + o.Data["notice"] + "\n",
		HTML:    "<p>Hello " + html.EscapeString(o.To) + "</p>",
	}
	if o.LinkURL != "" {
		r.Text += "Open " + o.LinkURL + " before " + o.LinkExpiresAt.Format(time.RFC3339) + "\n"
		r.HTML += `<p><a href="` + html.EscapeString(o.LinkURL) + `">Open</a></p>`
	}
	return r, nil
}

var baseURL = &url.URL{Scheme: "https", Host: "dancecard.test", Path: "/"}

// env is one test's database and SMTP server.
type env struct {
	db   *pgxpool.Pool
	sink *mailtest.Server
	smtp mail.Transport
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{db: pgtest.New(t), sink: mailtest.New(t)}
	e.smtp = newSMTP(t, e.sink.URL())
	return e
}

// newSMTP returns the SMTP transport for smtpURL, failing the test when
// NewSMTP refuses it.
func newSMTP(t *testing.T, smtpURL string) mail.Transport {
	t.Helper()
	tr, err := mail.NewSMTP(smtpURL)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// sender returns a sender on e's database and SMTP server that retries at
// once (Backoff 0), changed by edit.
func (e *env) sender(t *testing.T, edit func(*mail.Options)) *mail.Sender {
	t.Helper()
	o := mail.Options{DB: e.db, Transport: e.smtp, Renderer: mail.RendererFunc(render), BaseURL: baseURL,
		From: testFrom, Backoff: func(int) time.Duration { return 0 }}
	if edit != nil {
		edit(&o)
	}
	return mail.NewSender(o)
}

// sendDue runs one SendDue pass and checks how many it sent.
func sendDue(t *testing.T, s *mail.Sender, want int) {
	t.Helper()
	n, err := s.SendDue(context.Background())
	if err != nil || n != want {
		t.Fatalf("SendDue = %d, %v; want %d", n, err, want)
	}
}

// newUser creates an account and returns its id.
func newUser(t *testing.T, db *pgxpool.Pool, email string) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow(context.Background(), `INSERT INTO users (email) VALUES ($1) RETURNING id`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// enqueue enqueues m in a transaction of its own.
func enqueue(t *testing.T, db *pgxpool.Pool, m mail.Message) int64 {
	t.Helper()
	var id int64
	err := postgres.InTx(context.Background(), db, func(tx pgx.Tx) (err error) {
		id, err = mail.Enqueue(context.Background(), tx, m)
		return err
	})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return id
}

// verifyMail is a verification mail for user to addr.
func verifyMail(user int64, addr string) mail.Message {
	return mail.Message{UserID: user, To: addr, Kind: mail.KindVerifyEmail,
		Link: &mail.LinkSpec{Purpose: mail.PurposeVerifyEmail, TTL: time.Hour}}
}

// outbox reads one outbox row's state.
type outboxRow struct {
	Attempts  int
	Sent      bool
	Dead      bool
	LastError string
}

func readOutbox(t *testing.T, db *pgxpool.Pool, id int64) outboxRow {
	t.Helper()
	var r outboxRow
	err := db.QueryRow(context.Background(), `
		SELECT attempts, sent_at IS NOT NULL, dead_at IS NOT NULL, last_error FROM mail_outbox WHERE id = $1`, id,
	).Scan(&r.Attempts, &r.Sent, &r.Dead, &r.LastError)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
