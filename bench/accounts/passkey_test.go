package accounts

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/accounts/passkeytest"
)

// origin is the relying party's origin; its host is the RP ID.
const origin = "https://dancecard.example"

// BenchmarkPasskeyLogin measures the server's side of a log-in with a
// discoverable passkey, which replaces both the password and the second
// step: BeginPasskeyLogin (a challenge and its ceremony row) and
// FinishPasskeyLogin (take the ceremony, find the credential and its user,
// verify the ECDSA P-256 signature, store the counter, start the session
// and record login_completed, in one transaction), against starting the
// session directly (NewSession), as in BenchmarkSecondStep. Every
// iteration logs in its own user, whose passkey was registered before the
// timer starts, so each log-in updates a passkey no other iteration
// touched. The authenticator's signing (passkeytest) is not timed. Beside
// the whole log-in it reports Begin and Finish on their own.
func BenchmarkPasskeyLogin(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	svc := accounts.New(e.db, accounts.Options{})
	base, _ := url.Parse(origin)
	rp, err := accounts.NewRelyingParty(base)
	if err != nil {
		b.Fatal(err)
	}
	svc.SetWebAuthn(rp)
	b.Run("session-only", func(b *testing.B) {
		users := e.seedUsers(b, svc, e.addresses("plain", b.N))
		measure(b, func(i int) error {
			_, err := svc.NewSession(ctx, users[i].ID, "")
			return err
		})
	})
	b.Run("passkey", func(b *testing.B) {
		users := e.seedUsers(b, svc, e.addresses("passkey", b.N))
		keys := registerPasskeys(b, svc, users)
		e.analyze(b)
		if _, err := e.db.Exec(ctx, `ANALYZE passkeys`); err != nil {
			b.Fatal(err)
		}
		begin, finish, total := make(latencies, 0, b.N), make(latencies, 0, b.N), make(latencies, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			options, token, err := svc.BeginPasskeyLogin(ctx, "browser")
			if err != nil {
				b.Fatalf("iteration %d: begin: %v", i, err)
			}
			t1 := time.Now()
			b.StopTimer()
			body, err := keys[i].Assert(options, 1)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			t2 := time.Now()
			u, _, err := svc.FinishPasskeyLogin(ctx, "browser", token, body, "")
			if err != nil || u.ID != users[i].ID {
				b.Fatalf("iteration %d: finish = user %d, %v; want user %d", i, u.ID, err, users[i].ID)
			}
			t3 := time.Now()
			begin = append(begin, t1.Sub(t0))
			finish = append(finish, t3.Sub(t2))
			total = append(total, t1.Sub(t0)+t3.Sub(t2))
		}
		b.StopTimer()
		total.report(b, "")
		b.ReportMetric(begin.mean(), "begin-mean-µs")
		b.ReportMetric(finish.mean(), "finish-mean-µs")
	})
}

// registerPasskeys gives each user a software passkey through the service,
// as the profile page's "Add a passkey" does, and returns the keys.
func registerPasskeys(b *testing.B, svc *accounts.Service, users []accounts.User) []*passkeytest.Key {
	b.Helper()
	ctx := context.Background()
	keys := make([]*passkeytest.Key, len(users))
	for i, u := range users {
		err := func() error {
			options, token, err := svc.BeginPasskeyRegistration(ctx, u.ID, "browser")
			if err != nil {
				return err
			}
			keys[i] = passkeytest.New(origin)
			body, err := keys[i].Register(options)
			if err != nil {
				return err
			}
			_, err = svc.FinishPasskeyRegistration(ctx, u.ID, "browser", token, "Bench key", body)
			return err
		}()
		if err != nil {
			b.Fatal(fmt.Errorf("register a passkey for user %d: %w", u.ID, err))
		}
	}
	return keys
}
