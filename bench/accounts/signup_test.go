package accounts

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/postgres"
)

// verifyTTL is the service's default verification-link lifetime.
const verifyTTL = 72 * time.Hour

// BenchmarkSignUp signs up a new account per iteration with verification
// "off" (no mail: the baseline) and "optional" (the same plus a verify_email
// mail and its link in the same transaction), then both in turn. Each
// sign-up hashes its password with argon2id, which dwarfs the enqueue; see
// BenchmarkEnqueue for the enqueue on its own.
func BenchmarkSignUp(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	services := map[accounts.Verification]*accounts.Service{}
	signUp := func(v accounts.Verification, emails []string) func(int) error {
		if services[v] == nil {
			services[v] = accounts.New(e.db, accounts.Options{Verification: v})
		}
		svc := services[v]
		return func(i int) error { _, err := svc.SignUp(ctx, emails[i], password); return err }
	}
	for _, v := range []accounts.Verification{accounts.VerifyOff, accounts.VerifyOptional} {
		b.Run("verification="+string(v), func(b *testing.B) {
			emails := e.addresses("signup", b.N)
			measure(b, signUp(v, emails))
			e.checkVerifyMails(b, emails, v != accounts.VerifyOff)
		})
	}
	b.Run("alternating", func(b *testing.B) {
		off, opt := e.addresses("signup", b.N), e.addresses("signup", b.N)
		alternate(b, "off", signUp(accounts.VerifyOff, off), "optional", signUp(accounts.VerifyOptional, opt))
		e.checkVerifyMails(b, off, false)
		e.checkVerifyMails(b, opt, true)
	})
}

// BenchmarkEnqueue measures the enqueue without the password hash around
// it: an empty transaction against one that only enqueues a verify_email
// mail with its link (to an existing account with no earlier link, as a new
// sign-up has), and a sign-up's transaction without the hash (insert the
// user and record user_created, through CreateProviderUser) with and
// without that enqueue. The last pair is what the enqueue adds to SignUp:
// the transaction writes either way, so its commit waits for the WAL flush
// in both. Two diagnostics split the enqueue's own cost: round-trips-only-tx
// makes as many round trips doing nothing, enqueue-only-tx-async-commit
// enqueues without waiting for the WAL flush at commit.
func BenchmarkEnqueue(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	svc := accounts.New(e.db, accounts.Options{Verification: accounts.VerifyOff})
	enqueue := func(tx pgx.Tx, u accounts.User) error {
		_, err := mail.Enqueue(ctx, tx, mail.Message{UserID: u.ID, To: u.Email, Kind: mail.KindVerifyEmail,
			Link: &mail.LinkSpec{Purpose: mail.PurposeVerifyEmail, Email: u.Email, TTL: verifyTTL}})
		return err
	}
	signUpTx := func(emails []string, withMail bool) func(int) error {
		return func(i int) error {
			return postgres.InTx(ctx, e.db, func(tx pgx.Tx) error {
				u, created, err := svc.CreateProviderUser(ctx, tx, emails[i], "", "")
				if err == nil {
					err = postgres.ExecAll(ctx, tx, created)
				}
				if err != nil || !withMail {
					return err
				}
				return enqueue(tx, u)
			})
		}
	}
	b.Run("empty-tx", func(b *testing.B) {
		measure(b, func(int) error {
			return postgres.InTx(ctx, e.db, func(pgx.Tx) error { return nil })
		})
	})
	// As many round trips as enqueue-only-tx, each doing nothing.
	b.Run("round-trips-only-tx", func(b *testing.B) {
		measure(b, func(int) error {
			return postgres.InTx(ctx, e.db, func(tx pgx.Tx) error {
				for range 4 {
					if _, err := tx.Exec(ctx, `SELECT 1`); err != nil {
						return err
					}
				}
				return nil
			})
		})
	})
	b.Run("enqueue-only-tx", func(b *testing.B) {
		emails := e.addresses("enqueue", b.N)
		users := e.seedUsers(b, svc, emails)
		measure(b, func(i int) error {
			return postgres.InTx(ctx, e.db, func(tx pgx.Tx) error { return enqueue(tx, users[i]) })
		})
		e.checkVerifyMails(b, emails, true)
	})
	// The enqueue on connections whose commits do not wait for the WAL
	// flush (a diagnostic: the service never does this).
	b.Run("enqueue-only-tx-async-commit", func(b *testing.B) {
		async := e.asyncCommitPool(b)
		emails := e.addresses("enqueue", b.N)
		users := e.seedUsers(b, svc, emails)
		measure(b, func(i int) error {
			return postgres.InTx(ctx, async, func(tx pgx.Tx) error { return enqueue(tx, users[i]) })
		})
		e.checkVerifyMails(b, emails, true)
	})
	b.Run("signup-tx", func(b *testing.B) {
		emails := e.addresses("signup", b.N)
		measure(b, signUpTx(emails, false))
		e.checkVerifyMails(b, emails, false)
	})
	b.Run("signup-tx+enqueue", func(b *testing.B) {
		emails := e.addresses("signup", b.N)
		measure(b, signUpTx(emails, true))
		e.checkVerifyMails(b, emails, true)
	})
}

// checkVerifyMails fails unless each of emails has exactly one queued
// verify_email mail (want) or none, so a benchmark cannot silently measure
// a path that mails nothing.
func (e *env) checkVerifyMails(b testing.TB, emails []string, want bool) {
	b.Helper()
	n := e.count(b, "mail_outbox", "kind = 'verify_email' AND to_addr = ANY ($1)", emails)
	if wantN := map[bool]int{true: len(emails), false: 0}[want]; n != wantN {
		b.Fatalf("%d verify_email mails for %d sign-ups, want %d", n, len(emails), wantN)
	}
}

// asyncCommitPool is a second pool on e's database whose sessions commit
// without waiting for the WAL flush (synchronous_commit = off).
func (e *env) asyncCommitPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	cfg := e.db.Config().Copy()
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("async-commit pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	var setting string
	if err := pool.QueryRow(context.Background(), `SHOW synchronous_commit`).Scan(&setting); err != nil || setting != "off" {
		tb.Fatalf("async-commit pool: synchronous_commit = %q, %v", setting, err)
	}
	return pool
}
