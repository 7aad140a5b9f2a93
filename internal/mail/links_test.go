package mail_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/mail/mailtest"
	"github.com/dancecard/dancecard/internal/postgres"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// sendLink mails a link of purpose to user and returns its token, read
// from the mail that arrived.
func sendLink(t *testing.T, e *env, user int64, kind mail.Kind, purpose mail.Purpose) string {
	t.Helper()
	before := len(e.sink.Messages())
	enqueue(t, e.db, mail.Message{UserID: user, To: "link@example.com", Kind: kind,
		Link: &mail.LinkSpec{Purpose: purpose, TTL: time.Hour}})
	sendDue(t, e.sender(t, nil), 1)
	got := e.sink.Messages()
	if len(got) != before+1 {
		t.Fatalf("%d messages arrived, want 1", len(got)-before)
	}
	return mailtest.TokenIn(t, mailtest.Parse(t, got[before]).Text)
}

// consume runs ConsumeLink in a transaction of its own.
func consume(db *pgxpool.Pool, token string, purposes ...mail.Purpose) (mail.Link, error) {
	var l mail.Link
	err := postgres.InTx(context.Background(), db, func(tx pgx.Tx) (err error) {
		l, err = mail.ConsumeLink(context.Background(), tx, token, purposes...)
		return err
	})
	return l, err
}

// linksSnapshot is every mail_links row as text.
func linksSnapshot(t *testing.T, db *pgxpool.Pool) string {
	t.Helper()
	var s string
	if err := db.QueryRow(context.Background(), `SELECT coalesce(string_agg(l::text, E'\n' ORDER BY id), '') FROM mail_links l`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLookupLinkChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "fay@example.com")
	token := sendLink(t, e, user, mail.KindPasswordReset, mail.PurposePasswordReset)
	before := linksSnapshot(t, e.db)
	for range 3 {
		if _, err := mail.LookupLink(context.Background(), e.db, token, mail.PurposePasswordReset); err != nil {
			t.Fatalf("LookupLink: %v", err)
		}
	}
	if after := linksSnapshot(t, e.db); after != before {
		t.Fatalf("LookupLink changed mail_links:\n%s\n->\n%s", before, after)
	}
	if _, err := consume(e.db, token, mail.PurposePasswordReset); err != nil {
		t.Fatalf("ConsumeLink after lookups: %v", err)
	}
}

func TestConsumeLinkWorksOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "gus@example.com")
	token := sendLink(t, e, user, mail.KindVerifyEmail, mail.PurposeVerifyEmail)

	// A transaction that rolls back leaves the link usable.
	errRollback := errors.New("roll back")
	err := postgres.InTx(context.Background(), e.db, func(tx pgx.Tx) error {
		if _, err := mail.ConsumeLink(context.Background(), tx, token, mail.PurposeVerifyEmail); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back ConsumeLink: %v", err)
	}
	if l, err := consume(e.db, token, mail.PurposeVerifyEmail); err != nil || l.UserID != user {
		t.Fatalf("first ConsumeLink = %+v, %v", l, err)
	}
	if _, err := consume(e.db, token, mail.PurposeVerifyEmail); !errors.Is(err, mail.ErrLinkUsed) {
		t.Errorf("second ConsumeLink: %v, want ErrLinkUsed", err)
	}
	if _, err := mail.LookupLink(context.Background(), e.db, token, mail.PurposeVerifyEmail); !errors.Is(err, mail.ErrLinkUsed) {
		t.Errorf("LookupLink of a used link: %v, want ErrLinkUsed", err)
	}
}

func TestExpiredLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "hal@example.com")
	token := sendLink(t, e, user, mail.KindLoginUnlock, mail.PurposeLoginUnlock)
	if _, err := e.db.Exec(context.Background(), `UPDATE mail_links SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if _, err := mail.LookupLink(context.Background(), e.db, token, mail.PurposeLoginUnlock); !errors.Is(err, mail.ErrLinkExpired) {
		t.Errorf("LookupLink: %v, want ErrLinkExpired", err)
	}
	if _, err := consume(e.db, token, mail.PurposeLoginUnlock); !errors.Is(err, mail.ErrLinkExpired) {
		t.Errorf("ConsumeLink: %v, want ErrLinkExpired", err)
	}
}

func TestLinkOfAnotherPurposeIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "ida@example.com")
	token := sendLink(t, e, user, mail.KindVerifyEmail, mail.PurposeVerifyEmail)
	if _, err := mail.LookupLink(context.Background(), e.db, token, mail.PurposePasswordReset); !errors.Is(err, mail.ErrLinkNotFound) {
		t.Errorf("LookupLink: %v, want ErrLinkNotFound", err)
	}
	if _, err := consume(e.db, token, mail.PurposePasswordReset, mail.PurposeLoginUnlock); !errors.Is(err, mail.ErrLinkNotFound) {
		t.Errorf("ConsumeLink: %v, want ErrLinkNotFound", err)
	}
	if _, err := consume(e.db, token, mail.PurposeEmailChange, mail.PurposeVerifyEmail); err != nil {
		t.Errorf("ConsumeLink with its purpose among others: %v", err)
	}
}

// failQuerier fails the test if a malformed token reaches the database.
type failQuerier struct {
	mail.Querier
	t *testing.T
}

func (q failQuerier) QueryRow(context.Context, string, ...any) pgx.Row {
	q.t.Fatal("a malformed token was looked up in the database")
	return nil
}

func TestMalformedTokensAreNotFoundWithoutAQuery(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"empty":       "",
		"short":       "abc",
		"too long":    strings.Repeat("A", 129),
		"not base64":  strings.Repeat("*", 43),
		"padded":      strings.Repeat("A", 42) + "=",
		"31 bytes":    strings.Repeat("A", 42),
		"33 bytes":    strings.Repeat("A", 44),
		"with spaces": " " + strings.Repeat("A", 43),
	}
	for name, token := range cases {
		if _, err := mail.LookupLink(context.Background(), failQuerier{t: t}, token, mail.PurposeVerifyEmail); !errors.Is(err, mail.ErrLinkNotFound) {
			t.Errorf("%s: LookupLink: %v, want ErrLinkNotFound", name, err)
		}
		// A nil transaction panics if it is used.
		if _, err := mail.ConsumeLink(context.Background(), nil, token, mail.PurposeVerifyEmail); !errors.Is(err, mail.ErrLinkNotFound) {
			t.Errorf("%s: ConsumeLink: %v, want ErrLinkNotFound", name, err)
		}
	}
}

func TestNewerLinkVoidsOlder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "jo@example.com")
	reset := sendLink(t, e, user, mail.KindPasswordReset, mail.PurposePasswordReset)
	older := sendLink(t, e, user, mail.KindVerifyEmail, mail.PurposeVerifyEmail)
	newer := sendLink(t, e, user, mail.KindVerifyEmail, mail.PurposeVerifyEmail)
	if _, err := mail.LookupLink(context.Background(), e.db, older, mail.PurposeVerifyEmail); !errors.Is(err, mail.ErrLinkUsed) {
		t.Errorf("older link: %v, want ErrLinkUsed", err)
	}
	if _, err := consume(e.db, newer, mail.PurposeVerifyEmail); err != nil {
		t.Errorf("newer link: %v", err)
	}
	if _, err := consume(e.db, reset, mail.PurposePasswordReset); err != nil {
		t.Errorf("a link of another purpose was voided too: %v", err)
	}
}

func TestMailWithAVoidedLinkIsNotSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "kai@example.com")
	first := enqueue(t, e.db, verifyMail(user, "kai@example.com"))
	second := enqueue(t, e.db, verifyMail(user, "kai@example.com"))
	sendDue(t, e.sender(t, nil), 1)
	if r := readOutbox(t, e.db, first); !r.Sent || !strings.Contains(r.LastError, "not sent") {
		t.Errorf("first mail %+v, want closed as not sent", r)
	}
	if r := readOutbox(t, e.db, second); !r.Sent || r.LastError != "" {
		t.Errorf("second mail %+v, want sent", r)
	}
	token := mailtest.TokenIn(t, mailtest.Parse(t, e.sink.Messages()[0]).Text)
	if _, err := consume(e.db, token, mail.PurposeVerifyEmail); err != nil {
		t.Errorf("the one mail's link: %v", err)
	}
}

func TestVoidLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "lee@example.com")
	reset := sendLink(t, e, user, mail.KindPasswordReset, mail.PurposePasswordReset)
	verify := sendLink(t, e, user, mail.KindVerifyEmail, mail.PurposeVerifyEmail)
	if err := mail.VoidLinks(context.Background(), e.db, user, mail.PurposePasswordReset, mail.PurposeLoginUnlock); err != nil {
		t.Fatal(err)
	}
	if _, err := consume(e.db, reset, mail.PurposePasswordReset); !errors.Is(err, mail.ErrLinkUsed) {
		t.Errorf("voided link: %v, want ErrLinkUsed", err)
	}
	if _, err := consume(e.db, verify, mail.PurposeVerifyEmail); err != nil {
		t.Errorf("link of a purpose not voided: %v", err)
	}
}

func TestConcurrentConsumersOneWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "max@example.com")
	token := sendLink(t, e, user, mail.KindPasswordReset, mail.PurposePasswordReset)
	const n = 8
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = consume(e.db, token, mail.PurposePasswordReset)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, mail.ErrLinkUsed):
			t.Errorf("consumer %d: %v, want ErrLinkUsed", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d consumers won, want exactly 1", won)
	}
}

func TestRacingRequestsLeaveOnlyTheNewestLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	user := newUser(t, e.db, "ned@example.com")
	// The first request's transaction is still open when the second
	// commits, so the second could not void the first's link.
	tx, err := e.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := mail.Enqueue(ctx, tx, verifyMail(user, "ned@example.com")); err != nil {
		t.Fatal(err)
	}
	second := enqueue(t, e.db, verifyMail(user, "ned@example.com"))
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	sendDue(t, e.sender(t, nil), 1)
	if r := readOutbox(t, e.db, second); !r.Sent || r.LastError != "" {
		t.Errorf("the newest link's mail %+v, want sent", r)
	}
	token := mailtest.TokenIn(t, mailtest.Parse(t, e.sink.Messages()[0]).Text)
	if _, err := consume(e.db, token, mail.PurposeVerifyEmail); err != nil {
		t.Errorf("the one mail's link: %v", err)
	}
}

func TestPruneKeepsRecentAndPendingMail(t *testing.T) {
	db := pgtest.New(t)
	ctx := t.Context()
	var uid int64
	if err := db.QueryRow(ctx, `INSERT INTO users (email) VALUES ('p@example.com') RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	enqueue := func() {
		t.Helper()
		err := postgres.InTx(ctx, db, func(tx pgx.Tx) error {
			_, err := mail.Enqueue(ctx, tx, mail.Message{UserID: uid, To: "p@example.com", Kind: mail.KindPasswordReset,
				Link: &mail.LinkSpec{Purpose: mail.PurposePasswordReset, TTL: time.Hour}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	enqueue() // old and sent: pruned with its link
	enqueue() // still queued: kept with its link
	db.Exec(ctx, `UPDATE mail_outbox SET sent_at = now() - interval '40 days' WHERE id = (SELECT min(id) FROM mail_outbox)`)
	db.Exec(ctx, `UPDATE mail_links SET used_at = now() - interval '40 days' WHERE id = (SELECT min(id) FROM mail_links)`)
	n, err := mail.Prune(ctx, db, 30*24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d rows (%v), want 2", n, err)
	}
	var outbox, links int
	db.QueryRow(ctx, `SELECT (SELECT count(*) FROM mail_outbox), (SELECT count(*) FROM mail_links)`).Scan(&outbox, &links)
	if outbox != 1 || links != 1 {
		t.Fatalf("left %d mails and %d links, want 1 and 1", outbox, links)
	}
}
