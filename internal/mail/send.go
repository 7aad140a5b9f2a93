package mail

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/postgres"
)

// claimed is one mail this sender holds the lease on. attempts is the
// count its claim set: the outcome is written only while the row still has
// it, so a sender whose lease ran out and was re-claimed cannot overwrite
// the new holder's outcome.
type claimed struct {
	id, userID int64
	to         string
	kind       Kind
	data       map[string]string
	linkID     *int64
	attempts   int
	lang       string
}

// errLeaseLost: another sender claimed the mail after this one's lease ran out.
var errLeaseLost = errors.New("the claim passed to another sender")

// linkGone is the last_error of a mail not sent because its link could no
// longer be honoured. Such a mail is marked sent rather than failed: no
// retry could make it right, and it must not show up in the dead list.
const linkGone = "not sent: its link was used, replaced, expired or deleted before it could go out"

// SendDue claims and sends every mail due now, in batches of up to 20,
// each mail once, and returns how many were sent. A mail that fails is left
// for a later pass (after its backoff), so SendDue never waits for a retry.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	sent := 0
	var after int64
	for {
		batch, err := s.claim(ctx, after)
		if err != nil {
			return sent, err
		}
		for i, c := range batch {
			if ctx.Err() != nil {
				s.release(batch[i:])
				return sent, ctx.Err()
			}
			if s.deliver(ctx, c) {
				sent++
			}
			after = c.id
		}
		if len(batch) < batchSize {
			return sent, nil
		}
	}
}

// claim leases up to batchSize due mails with ids above after, oldest
// first. Rows another sender is claiming right now are skipped, not waited
// for, and a claimed row is not due again until its lease runs out.
func (s *Sender) claim(ctx context.Context, after int64) ([]claimed, error) {
	rows, err := s.o.DB.Query(ctx, `
		UPDATE mail_outbox SET locked_until = now() + $1 * interval '1 millisecond', attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM mail_outbox
			WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
			  AND (locked_until IS NULL OR locked_until <= now()) AND id > $2
			ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING id, coalesce(user_id, 0), to_addr, kind, data, link_id, attempts, lang`,
		s.o.Lease.Milliseconds(), after, batchSize)
	if err != nil {
		return nil, fmt.Errorf("mail: claim: %w", err)
	}
	batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		err := r.Scan(&c.id, &c.userID, &c.to, &c.kind, &c.data, &c.linkID, &c.attempts, &c.lang)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("mail: claim: %w", err)
	}
	slices.SortFunc(batch, func(a, b claimed) int { return cmp.Compare(a.id, b.id) })
	return batch, nil
}

// release gives back claims this sender will not get to (it is stopping),
// so the mails go out at once elsewhere instead of after the lease, with
// the attempt not counted.
func (s *Sender) release(batch []claimed) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	for _, c := range batch {
		if _, err := s.o.DB.Exec(ctx, `
			UPDATE mail_outbox SET locked_until = NULL, attempts = attempts - 1
			WHERE id = $1 AND attempts = $2 AND sent_at IS NULL`, c.id, c.attempts); err != nil {
			s.o.Logger.Warn("mail: releasing a claim failed", "mail_id", c.id, "kind", c.kind, "err", err)
			return
		}
	}
}

// deliver mints the link, renders and sends one claimed mail, and records
// the outcome. It reports whether the mail went out.
func (s *Sender) deliver(ctx context.Context, c claimed) bool {
	out, token, err := s.prepare(ctx, c)
	switch {
	case errors.Is(err, errLeaseLost):
		s.o.Logger.Debug("mail: claim lost before sending", "mail_id", c.id, "kind", c.kind)
		return false
	case errors.Is(err, errLinkGone):
		s.finish(ctx, c, "skipped", linkGone)
		return false
	case errors.Is(err, errNoRecipient):
		s.finish(ctx, c, "skipped", noRecipient)
		return false
	case ctx.Err() != nil: // stopping: not the mail's fault
		s.release([]claimed{c})
		return false
	case err != nil:
		s.fail(ctx, c, err)
		return false
	}
	if err := s.send(ctx, c, out); err != nil {
		s.fail(ctx, c, errors.New(redact(err.Error(), out.LinkURL, token)))
		return false
	}
	s.finish(ctx, c, "sent", "")
	return true
}

// errLinkGone: the mail's link can no longer be honoured.
var errLinkGone = errors.New("link no longer valid")

// prepare confirms the claim is still this sender's, extending its lease
// for the send, and mints the mail's link if it has one, in one
// transaction: a sender that lost its claim mints nothing.
func (s *Sender) prepare(ctx context.Context, c claimed) (Outgoing, string, error) {
	out := Outgoing{Kind: c.kind, To: c.to, Data: c.data, Lang: c.lang}
	var token string
	err := postgres.InTx(ctx, s.o.DB, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE mail_outbox SET locked_until = now() + $3 * interval '1 millisecond'
			WHERE id = $1 AND attempts = $2 AND sent_at IS NULL AND dead_at IS NULL`,
			c.id, c.attempts, s.o.Lease.Milliseconds())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errLeaseLost
		}
		_, needsLink := linkPurpose[c.kind]
		if !needsLink {
			return nil
		}
		if _, byAddress := c.data[resolveKey]; byAddress && c.linkID == nil {
			if err := s.resolve(ctx, tx, &c); err != nil {
				return err
			}
			out.Data, out.Lang = c.data, c.lang
		}
		if c.linkID == nil { // deleted with its user
			return errLinkGone
		}
		t, l, ok, err := mint(ctx, tx, *c.linkID)
		if err != nil || !ok {
			return cmp.Or(err, errLinkGone)
		}
		token, out.LinkURL, out.LinkExpiresAt = t, linkURL(s.o.BaseURL, l.Purpose, t), l.ExpiresAt
		return nil
	})
	if err != nil {
		return Outgoing{}, "", err
	}
	return out, token, nil
}

// send renders the mail and hands it to the transport. A render failure is
// a failed attempt like any other.
func (s *Sender) send(ctx context.Context, c claimed, out Outgoing) error {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	r, err := s.o.Renderer.Render(out)
	if err != nil {
		return fmt.Errorf("render %s: %w", c.kind, err)
	}
	if r.Subject == "" || r.Text == "" || r.HTML == "" {
		return fmt.Errorf("render %s: empty subject, text or HTML", c.kind)
	}
	return s.o.Transport.Send(ctx, Envelope{
		From: s.o.From, To: c.to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		MessageID: messageID(c, s.o.BaseURL.Hostname()),
	})
}

// messageID is new for every attempt: a retry carries a new link, and a
// receiver that drops repeated Message-IDs (Gmail does) must not keep the
// earlier copy, whose link the retry disabled, and drop the working one.
func messageID(c claimed, host string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return fmt.Sprintf("mail-%d.%d.%s@%s", c.id, c.attempts, hex.EncodeToString(b), cmp.Or(host, "localhost"))
}

// finish marks a mail done, sent or skipped.
func (s *Sender) finish(ctx context.Context, c claimed, outcome, note string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	tag, err := s.o.DB.Exec(ctx, `
		UPDATE mail_outbox SET sent_at = now(), locked_until = NULL, last_error = $3
		WHERE id = $1 AND attempts = $2 AND sent_at IS NULL`, c.id, c.attempts, note)
	if err == nil && tag.RowsAffected() == 0 {
		err = errLeaseLost
	}
	if err != nil {
		s.o.Logger.Warn("mail: recording an outcome failed", "mail_id", c.id, "kind", c.kind, "outcome", outcome, "err", err)
	}
	s.o.Logger.Debug("mail: "+outcome, "mail_id", c.id, "kind", c.kind, "attempt", c.attempts)
	s.o.OnResult(c.kind, outcome)
}

// fail records a failed attempt: a retry after the backoff or, at
// MaxAttempts, a dead mail and its mail_failed event, in one transaction.
func (s *Sender) fail(ctx context.Context, c claimed, cause error) {
	msg := events.Clip(strings.Join(strings.Fields(cause.Error()), " "), 500)
	// Servers quote the recipient. The outbox row holds it anyway, but the
	// log and the event (which goes to webhooks) must not.
	public := redact(msg, c.to, strings.ToLower(c.to))
	dead := c.attempts >= s.o.MaxAttempts
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	err := postgres.InTx(ctx, s.o.DB, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE mail_outbox SET locked_until = NULL, last_error = $3,
				next_attempt_at = now() + $4 * interval '1 millisecond',
				dead_at = CASE WHEN $5 THEN now() END
			WHERE id = $1 AND attempts = $2 AND sent_at IS NULL AND dead_at IS NULL`,
			c.id, c.attempts, msg, s.o.Backoff(c.attempts).Milliseconds(), dead)
		if err != nil || tag.RowsAffected() == 0 {
			return cmp.Or(err, errLeaseLost)
		}
		if !dead {
			return nil
		}
		return events.Record(ctx, tx, events.Event{Kind: events.MailFailed, UserID: c.userID, Reason: public,
			Data: map[string]any{"mail_id": c.id, "kind": string(c.kind)}})
	})
	outcome := "retry"
	if dead {
		outcome = "dead"
	}
	if err != nil {
		s.o.Logger.Warn("mail: recording an outcome failed", "mail_id", c.id, "kind", c.kind, "outcome", outcome, "err", err)
	}
	s.o.Logger.Warn("mail: sending failed", "mail_id", c.id, "kind", c.kind, "attempt", c.attempts, "outcome", outcome, "err", public)
	s.o.OnResult(c.kind, outcome)
}

// redact removes secrets (a link, its token, an address) from an error
// text, in case a renderer or server quoted them back.
func redact(msg string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, "[redacted]")
		}
	}
	return msg
}
