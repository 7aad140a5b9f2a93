package mail_test

import (
	"context"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/mail"
)

// changeMail asks user to confirm an address change to addr.
func changeMail(user int64, addr string) mail.Message {
	return mail.Message{UserID: user, To: addr, Kind: mail.KindEmailChange,
		Link: &mail.LinkSpec{Purpose: mail.PurposeEmailChange, Email: addr, TTL: time.Hour}}
}

func TestPendingEmailIsTheNewestLiveLinksAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	user, other := newUser(t, e.db, "max@example.com"), newUser(t, e.db, "ned@example.com")
	pending := func(user int64, purpose mail.Purpose) string {
		t.Helper()
		got, err := mail.PendingEmail(ctx, e.db, user, purpose)
		if err != nil {
			t.Fatalf("PendingEmail: %v", err)
		}
		return got
	}
	if got := pending(user, mail.PurposeEmailChange); got != "" {
		t.Fatalf("no change asked: %q", got)
	}
	enqueue(t, e.db, changeMail(user, "first@example.com"))
	enqueue(t, e.db, changeMail(user, "second@example.com"))
	enqueue(t, e.db, verifyMail(user, "max@example.com"))
	if got := pending(user, mail.PurposeEmailChange); got != "second@example.com" {
		t.Fatalf("pending = %q, want the newest change's address", got)
	}
	if got := pending(user, mail.PurposeVerifyEmail); got != "max@example.com" {
		t.Fatalf("pending verification = %q", got)
	}
	if got := pending(other, mail.PurposeEmailChange); got != "" {
		t.Fatalf("another user's change shows: %q", got)
	}
	if _, err := e.db.Exec(ctx, `UPDATE mail_links SET expires_at = now() - interval '1 second' WHERE email = 'second@example.com'`); err != nil {
		t.Fatal(err)
	}
	if got := pending(user, mail.PurposeEmailChange); got != "" {
		t.Fatalf("an expired change shows: %q", got)
	}
	enqueue(t, e.db, changeMail(user, "third@example.com"))
	if err := mail.VoidLinks(ctx, e.db, user, mail.PurposeEmailChange); err != nil {
		t.Fatal(err)
	}
	if got := pending(user, mail.PurposeEmailChange); got != "" {
		t.Fatalf("a used change shows: %q", got)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if got, err := mail.PendingEmail(cancelled, e.db, user, mail.PurposeVerifyEmail); err == nil || got != "" {
		t.Fatalf("PendingEmail on a cancelled context = %q, %v; want an error", got, err)
	}
}
