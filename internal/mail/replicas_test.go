package mail_test

import (
	"context"
	"fmt"
	netmail "net/mail"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/mail/mailtest"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

func TestTwoReplicasSendEachMailOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 50
	want := map[string]bool{}
	for i := range n {
		addr := fmt.Sprintf("r%02d@example.com", i)
		want[addr] = true
		user := newUser(t, e.db, addr)
		if i%2 == 0 {
			enqueue(t, e.db, verifyMail(user, addr))
		} else {
			enqueue(t, e.db, mail.Message{UserID: user, To: addr, Kind: mail.KindNotice, Data: map[string]string{"notice": "token_created"}})
		}
	}
	// Two replicas, each with its own SMTP client, each running three
	// passes at a time, until every mail is out.
	replicas := []*mail.Sender{
		e.sender(t, func(o *mail.Options) { o.Transport = newSMTP(t, e.sink.URL()) }),
		e.sender(t, func(o *mail.Options) { o.Transport = newSMTP(t, e.sink.URL()) }),
	}
	var sent atomic.Int64
	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for _, s := range replicas {
		for range 3 {
			wg.Go(func() {
				for sent.Load() < n && time.Now().Before(deadline) {
					k, err := s.SendDue(context.Background())
					if err != nil {
						t.Errorf("SendDue: %v", err)
						return
					}
					sent.Add(int64(k))
				}
			})
		}
	}
	wg.Wait()
	if sent.Load() != n {
		t.Fatalf("SendDue counted %d sent, want %d", sent.Load(), n)
	}
	got := e.sink.Messages()
	if len(got) != n {
		t.Fatalf("%d messages arrived, want %d", len(got), n)
	}
	for _, raw := range got {
		to, err := netmail.ParseAddress(mailtest.Parse(t, raw).Header.Get("To"))
		if err != nil || !want[to.Address] {
			t.Fatalf("unexpected or repeated recipient %v (%v)", to, err)
		}
		delete(want, to.Address)
	}
}

func TestCrashedSendersMailIsSentAfterItsLease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "sam@example.com")
	id := enqueue(t, e.db, verifyMail(user, "sam@example.com"))
	const lease = 300 * time.Millisecond
	crashed := e.sender(t, func(o *mail.Options) { o.Lease = lease })
	claimedAt := time.Now()
	if k, err := crashed.ClaimAndAbandon(context.Background()); err != nil || k != 1 {
		t.Fatalf("ClaimAndAbandon = %d, %v", k, err)
	}
	other := e.sender(t, func(o *mail.Options) { o.Lease = lease })
	sendDue(t, other, 0) // still leased to the crashed sender
	for {
		k, err := other.SendDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if k == 1 {
			break
		}
		if time.Since(claimedAt) > 5*time.Second {
			t.Fatal("the abandoned mail was not sent after its lease ran out")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := time.Since(claimedAt); d < lease {
		t.Errorf("sent %v after the claim, before the %v lease ran out", d, lease)
	}
	if n := len(e.sink.Messages()); n != 1 {
		t.Errorf("%d messages arrived, want 1", n)
	}
	if r := readOutbox(t, e.db, id); !r.Sent || r.Attempts != 2 {
		t.Errorf("outbox row %+v, want sent on the second claim", r)
	}
}

func TestRunWakesOnNotify(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := e.sender(t, func(o *mail.Options) { o.Poll = time.Hour })
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	user := newUser(t, e.db, "tia@example.com")
	for i := range 2 {
		// Only a notification can wake Run now: it polls hourly and
		// nothing else is pending.
		waitIdle(t, e.db)
		id := enqueue(t, e.db, verifyMail(user, "tia@example.com"))
		e.sink.WaitFor(t, i+1, 5*time.Second)
		waitSent(t, e.db, id)
	}

	// Cut every connection, as a database restart does: Run listens again.
	pgtest.TerminateBackends(t, e.db)
	waitIdle(t, e.db)
	enqueue(t, e.db, verifyMail(user, "tia@example.com"))
	e.sink.WaitFor(t, 3, 5*time.Second)
}

// waitIdle waits until a connection LISTENs for mail, then gives Run a
// moment to finish the pass that listening starts.
func waitIdle(t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		err := db.QueryRow(context.Background(), `
			SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN "dancecard_mail"' AND state = 'idle'`).Scan(&n)
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection listens for mail (%v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
}

// waitSent waits until mail id is marked sent.
func waitSent(t *testing.T, db *pgxpool.Pool, id int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !readOutbox(t, db, id).Sent {
		if time.Now().After(deadline) {
			t.Fatalf("mail %d was not marked sent", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
