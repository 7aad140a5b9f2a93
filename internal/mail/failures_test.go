package mail_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/mail/mailtest"
)

// outcomes collects what a sender reports to OnResult.
type outcomes struct {
	mu  sync.Mutex
	got []string
}

func (o *outcomes) record(_ mail.Kind, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, outcome)
}

func (o *outcomes) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.got, " ")
}

func TestServerDownThenUpDeliversOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sink.Stop()
	user := newUser(t, e.db, "nia@example.com")
	id := enqueue(t, e.db, verifyMail(user, "nia@example.com"))
	var res outcomes
	s := e.sender(t, func(o *mail.Options) { o.OnResult = res.record })

	sendDue(t, s, 0)
	r := readOutbox(t, e.db, id)
	if r.Sent || r.Dead || r.Attempts != 1 || r.LastError == "" || strings.Contains(r.LastError, "token") {
		t.Fatalf("after a refused connection: %+v", r)
	}
	e.sink.Start(t)
	sendDue(t, s, 1)
	sendDue(t, s, 0)
	if n := len(e.sink.Messages()); n != 1 {
		t.Fatalf("%d messages arrived, want 1", n)
	}
	if res.String() != "retry sent" {
		t.Errorf("outcomes %q, want \"retry sent\"", res.String())
	}
}

func TestRetryAfter451CarriesTheOnlyWorkingLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "oz@example.com")
	enqueue(t, e.db, verifyMail(user, "oz@example.com"))
	s := e.sender(t, nil)

	e.sink.Reject.Store(true)
	sendDue(t, s, 0)
	e.sink.Reject.Store(false)
	sendDue(t, s, 1)
	if n := len(e.sink.Messages()); n != 1 {
		t.Fatalf("%d messages arrived, want 1", n)
	}
	refused := mailtest.TokenIn(t, mailtest.Parse(t, e.sink.Refused()[0]).Text)
	sent := mailtest.TokenIn(t, mailtest.Parse(t, e.sink.Messages()[0]).Text)
	if refused == sent {
		t.Fatal("the retry reused the refused mail's token")
	}
	if _, err := mail.LookupLink(context.Background(), e.db, refused, mail.PurposeVerifyEmail); !errors.Is(err, mail.ErrLinkNotFound) {
		t.Errorf("the refused mail's link: %v, want ErrLinkNotFound", err)
	}
	if _, err := consume(e.db, sent, mail.PurposeVerifyEmail); err != nil {
		t.Errorf("the delivered mail's link: %v", err)
	}
}

func TestMaxAttemptsParksMailThenRetrySendsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	user := newUser(t, e.db, "pia@example.com")
	id := enqueue(t, e.db, verifyMail(user, "pia@example.com"))
	var res outcomes
	s := e.sender(t, func(o *mail.Options) { o.MaxAttempts, o.OnResult = 3, res.record })

	e.sink.Reject.Store(true)
	for range 4 {
		sendDue(t, s, 0)
	}
	if res.String() != "retry retry dead" || len(e.sink.Refused()) != 3 {
		t.Fatalf("outcomes %q after %d tries, want \"retry retry dead\" after 3", res.String(), len(e.sink.Refused()))
	}
	if r := readOutbox(t, e.db, id); !r.Dead || r.Sent || r.Attempts != 3 || !strings.Contains(r.LastError, "451") {
		t.Fatalf("outbox row %+v, want dead after 3 attempts with the 451", r)
	}
	checkMailFailedEvent(t, e, user, id, "pia@example.com")

	failed, err := mail.ListFailed(ctx, e.db, 10)
	if err != nil || len(failed) != 1 {
		t.Fatalf("ListFailed = %+v, %v", failed, err)
	}
	if f := failed[0]; f.ID != id || f.UserID != user || f.To != "pia@example.com" || f.Kind != "verify_email" || f.Attempts != 3 || f.DeadAt.IsZero() {
		t.Errorf("ListFailed[0] = %+v", f)
	}
	if n, err := mail.CountFailed(ctx, e.db); err != nil || n != 1 {
		t.Errorf("CountFailed = %d, %v; want 1", n, err)
	}

	if err := mail.Retry(ctx, e.db, id+1000, 1); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("Retry of an unknown mail: %v, want ErrNotFound", err)
	}
	if err := mail.Retry(ctx, e.db, id, 1); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if r := readOutbox(t, e.db, id); r.Dead || r.Attempts != 0 {
		t.Errorf("after Retry: %+v, want due with no attempts", r)
	}
	e.sink.Reject.Store(false)
	sendDue(t, s, 1)
	if n, err := mail.CountFailed(ctx, e.db); err != nil || n != 0 {
		t.Errorf("CountFailed after the retry = %d, %v; want 0", n, err)
	}
	if err := mail.Retry(ctx, e.db, id, 1); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("Retry of a sent mail: %v, want ErrNotFound", err)
	}
	token := mailtest.TokenIn(t, mailtest.Parse(t, e.sink.Messages()[0]).Text)
	if _, err := consume(e.db, token, mail.PurposeVerifyEmail); err != nil {
		t.Errorf("the retried mail's link: %v", err)
	}
}

// checkMailFailedEvent checks the one mail_failed event: it names the mail
// and its kind, says why, and holds neither the address nor a link.
func checkMailFailedEvent(t *testing.T, e *env, user, id int64, addr string) {
	t.Helper()
	var userID int64
	var reason, mailID, kind, row string
	err := e.db.QueryRow(context.Background(), `
		SELECT user_id, reason, data->>'mail_id', data->>'kind', ev::text
		FROM events ev WHERE kind = 'mail_failed'`).Scan(&userID, &reason, &mailID, &kind, &row)
	if err != nil {
		t.Fatalf("mail_failed event: %v", err)
	}
	if userID != user || mailID != strconv.FormatInt(id, 10) || kind != "verify_email" || !strings.Contains(reason, "451") {
		t.Errorf("mail_failed event: user %d, mail %s, kind %s, reason %q", userID, mailID, kind, reason)
	}
	if strings.Contains(row, addr) || strings.Contains(row, "token") || strings.Contains(row, "https://") {
		t.Errorf("the mail_failed event leaks the address or the link: %s", row)
	}
}

func TestRenderFailureIsAnAttemptAndHidesTheLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "quinn@example.com")
	id := enqueue(t, e.db, verifyMail(user, "quinn@example.com"))
	broken := mail.RendererFunc(func(o mail.Outgoing) (mail.Rendered, error) {
		return mail.Rendered{}, fmt.Errorf("template broke on %s", o.LinkURL)
	})
	sendDue(t, e.sender(t, func(o *mail.Options) { o.Renderer = broken }), 0)
	r := readOutbox(t, e.db, id)
	if r.Sent || r.Attempts != 1 || !strings.Contains(r.LastError, "template broke") {
		t.Fatalf("after a render failure: %+v", r)
	}
	if strings.Contains(r.LastError, "token") {
		t.Errorf("last_error holds the link: %q", r.LastError)
	}
	sendDue(t, e.sender(t, nil), 1)
}
