package mail_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/mail/mailtest"
	"github.com/dancecard/dancecard/internal/postgres"
)

// resolverFunc adapts a function to mail.Resolver.
type resolverFunc func(email string) (int64, bool)

func (f resolverFunc) ResolveRecipient(_ context.Context, _ pgx.Tx, _ mail.Kind, email string) (int64, bool, error) {
	id, ok := f(email)
	return id, ok, nil
}

// TestMailQueuedByAddress: the request stores the same row whether or not
// the address has an account; the sender finds the account, makes the
// link then, and skips an address nobody holds.
func TestMailQueuedByAddress(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var uid int64
	if err := e.db.QueryRow(ctx, `INSERT INTO users (email) VALUES ('known@example.com') RETURNING id`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	s := e.sender(t, func(o *mail.Options) {
		o.Resolver = resolverFunc(func(email string) (int64, bool) { return uid, email == "known@example.com" })
	})
	for _, to := range []string{"known@example.com", "nobody@example.com", "known@example.com"} {
		err := postgres.InTx(ctx, e.db, func(tx pgx.Tx) error {
			_, err := mail.EnqueueForAddress(ctx, tx, to, mail.KindPasswordReset, 3600_000)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var links int
	e.db.QueryRow(ctx, `SELECT count(*) FROM mail_links`).Scan(&links)
	if links != 0 {
		t.Fatalf("%d links made at request time, want none", links)
	}
	sendDue(t, s, 2)
	got := e.sink.Messages()
	if len(got) != 2 {
		t.Fatalf("%d mails sent, want 2 (none to the unknown address)", len(got))
	}
	first, second := mailtest.TokenIn(t, mailtest.Parse(t, got[0]).Text), mailtest.TokenIn(t, mailtest.Parse(t, got[1]).Text)
	if _, err := mail.LookupLink(ctx, e.db, first, mail.PurposePasswordReset); err == nil {
		t.Error("the first link still works after a newer one was sent")
	}
	l, err := mail.LookupLink(ctx, e.db, second, mail.PurposePasswordReset)
	if err != nil || l.UserID != uid || l.Email != "known@example.com" {
		t.Fatalf("newest link: %+v %v", l, err)
	}
	var skipped int
	e.db.QueryRow(ctx, `SELECT count(*) FROM mail_outbox WHERE sent_at IS NOT NULL AND last_error LIKE 'not sent: no account%'`).Scan(&skipped)
	if skipped != 1 {
		t.Fatalf("skipped = %d, want 1", skipped)
	}
	var leftover int
	e.db.QueryRow(ctx, `SELECT count(*) FROM mail_outbox WHERE data ? '_resolve_ttl_ms' AND user_id IS NOT NULL`).Scan(&leftover)
	if leftover != 0 || strings.Contains(mailtest.Parse(t, got[1]).Text, "_resolve") {
		t.Error("the resolver's bookkeeping leaked into the outbox or the mail")
	}
}
