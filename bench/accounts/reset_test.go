package accounts

import (
	"context"
	"testing"

	"github.com/dancecard/dancecard/internal/accounts"
)

// BenchmarkPasswordReset asks for a password reset for an address with an
// account and for one without, separately and then in turn; the gap between
// the two is the timing signal the forgot-password form gives away. Since
// requests are queued by address (the mail sender looks the address up),
// both cases queue one mail row and the gap should be noise.
//
// Every iteration of the existing case uses its own account, seeded before
// the timer starts. With one account reused, each request would void the
// earlier links of that account and purpose, and the void walks an index
// over every link the account ever had (used links stay in it), so the cost
// would grow with b.N and measure the pile-up, not a request. A real
// account has a handful of reset links at most.
func BenchmarkPasswordReset(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	svc := accounts.New(e.db, accounts.Options{})
	reset := func(emails []string) func(int) error {
		return func(i int) error { return svc.RequestPasswordReset(ctx, emails[i]) }
	}
	b.Run("existing", func(b *testing.B) {
		emails := e.addresses("reset", b.N)
		e.seedUsers(b, svc, emails)
		measure(b, reset(emails))
		e.checkResetMails(b, emails, len(emails))
	})
	b.Run("unknown", func(b *testing.B) {
		emails := e.addresses("reset", b.N)
		measure(b, reset(emails))
		e.checkResetMails(b, emails, len(emails))
	})
	b.Run("alternating", func(b *testing.B) {
		known, unknown := e.addresses("reset", b.N), e.addresses("reset", b.N)
		e.seedUsers(b, svc, known)
		alternate(b, "unknown", reset(unknown), "existing", reset(known))
		e.checkResetMails(b, known, len(known))
		e.checkResetMails(b, unknown, len(unknown))
	})
}

// checkResetMails fails unless emails have want queued reset mails between
// them.
func (e *env) checkResetMails(b testing.TB, emails []string, want int) {
	b.Helper()
	if n := e.count(b, "mail_outbox", "kind = 'password_reset' AND to_addr = ANY ($1)", emails); n != want {
		b.Fatalf("%d password_reset mails for %d requests, want %d", n, len(emails), want)
	}
}

// TestResetCases runs each reset case once, so `go test ./...` notices
// (in well under a second) when a case stops doing what the benchmark
// says it measures: both addresses queue one mail by address, the same
// work (the sender later skips the unknown one).
func TestResetCases(t *testing.T) {
	e := newEnv(t)
	svc := accounts.New(e.db, accounts.Options{})
	known, unknown := e.addresses("reset", 1), e.addresses("reset", 1)
	e.seedUsers(t, svc, known)
	for _, email := range []string{known[0], unknown[0]} {
		if err := svc.RequestPasswordReset(context.Background(), email); err != nil {
			t.Fatalf("RequestPasswordReset(%s): %v", email, err)
		}
	}
	e.checkResetMails(t, known, 1)
	e.checkResetMails(t, unknown, 1)
}
