package accounts

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
)

// BenchmarkSecondStep measures what two-step verification adds to a
// log-in after the password (or provider) has been checked: holding the
// log-in (HoldLogin) and completing it with a TOTP code (CompleteLogin:
// open the sealed secret, check and record the code's step, start the
// session and record login_completed), against starting the session
// directly (NewSession), the log-in without a second factor. Every
// iteration uses its own user, enrolled before the timer starts, because a
// TOTP code is accepted once per user and time step.
func BenchmarkSecondStep(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	svc := accounts.New(e.db, accounts.Options{})
	keys, err := links.NewKeyring([][]byte{[]byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		b.Fatal(err)
	}
	svc.SetSecretSealer(keys)
	b.Run("session-only", func(b *testing.B) {
		users := e.seedUsers(b, svc, e.addresses("plain", b.N))
		measure(b, func(i int) error {
			_, err := svc.NewSession(ctx, users[i].ID, "")
			return err
		})
	})
	b.Run("hold-and-totp", func(b *testing.B) {
		users := e.seedUsers(b, svc, e.addresses("mfa", b.N))
		secrets := make([]string, len(users))
		for i, u := range users {
			en, err := svc.BeginTOTP(ctx, u.ID)
			if err != nil {
				b.Fatal(err)
			}
			code, _ := totp.GenerateCode(en.Secret, time.Now())
			if _, err := svc.ConfirmTOTP(ctx, u.ID, code); err != nil {
				b.Fatal(err)
			}
			secrets[i] = en.Secret
		}
		e.analyze(b)
		measure(b, func(i int) error {
			token, err := svc.HoldLogin(ctx, users[i].ID, "browser", "password", "")
			if err != nil {
				return err
			}
			// The next time step: the confirming code used this one.
			code, _ := totp.GenerateCode(secrets[i], time.Now().Add(30*time.Second))
			_, _, err = svc.CompleteLogin(ctx, token, "browser", code, "")
			return err
		})
	})
}
