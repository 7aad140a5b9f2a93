package mail

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Resolver says which account, if any, a mail queued by address is for.
// The accounts domain implements it; the sender asks it at send time.
type Resolver interface {
	// ResolveRecipient returns the user a mail of kind to email is for,
	// inside tx, or ok false when no account should get it.
	ResolveRecipient(ctx context.Context, tx pgx.Tx, kind Kind, email string) (userID int64, ok bool, err error)
}

// resolveKey holds, in a mail queued by address until it is resolved, the
// TTL of the link to make.
const resolveKey = "_resolve_ttl_ms"

// errNoRecipient: no account takes a mail queued by address.
var errNoRecipient = errors.New("no account takes it")

// noRecipient is the last_error of a mail queued by address for which no
// account was found: marked sent, as there is nothing to retry.
const noRecipient = "not sent: no account takes mail of this kind at this address"

// EnqueueForAddress records, inside tx, a link mail of kind to whoever owns
// the address to, without looking the address up: the sender does that when
// it sends (Options.Resolver), and creates the link then. A form that takes
// an address from anyone (forgot password, resend verification, unlock)
// does the same work whether or not the address has an account, so its
// timing tells nothing; only the inbox learns the difference.
func EnqueueForAddress(ctx context.Context, tx pgx.Tx, to string, kind Kind, ttlMS int64) (int64, error) {
	if _, ok := linkPurpose[kind]; !ok || ttlMS <= 0 {
		return 0, fmt.Errorf("mail: enqueue %s by address: the kind needs a link and a positive TTL", kind)
	}
	return Enqueue(ctx, tx, Message{To: to, Kind: kind, Data: map[string]string{resolveKey: strconv.FormatInt(ttlMS, 10)},
		byAddress: true})
}

// resolve turns a claimed mail queued by address into an ordinary one:
// the account's id and a fresh link, voiding its older links.
func (s *Sender) resolve(ctx context.Context, tx pgx.Tx, c *claimed) error {
	ttl, err := strconv.ParseInt(c.data[resolveKey], 10, 64)
	if err != nil || s.o.Resolver == nil {
		return fmt.Errorf("mail queued by address, but no resolver or TTL")
	}
	email := strings.ToLower(strings.TrimSpace(c.to))
	uid, ok, err := s.o.Resolver.ResolveRecipient(ctx, tx, c.kind, email)
	if err != nil {
		return err
	}
	if !ok {
		return errNoRecipient
	}
	m := Message{UserID: uid, To: c.to, Kind: c.kind,
		Link: &LinkSpec{Purpose: linkPurpose[c.kind], Email: email, TTL: time.Duration(ttl) * time.Millisecond}}
	linkID, err := insertLink(ctx, tx, m)
	if err != nil {
		return err
	}
	// The account's language, if its owner chose one, replaces the
	// language of the request that queued the mail.
	if err := tx.QueryRow(ctx, `
		UPDATE mail_outbox SET user_id = $2, link_id = $3, data = data - $4,
		       lang = coalesce((SELECT language FROM users WHERE id = $2), lang)
		WHERE id = $1 RETURNING lang`,
		c.id, uid, linkID, resolveKey).Scan(&c.lang); err != nil {
		return fmt.Errorf("mail: resolve %d: %w", c.id, err)
	}
	c.userID, c.linkID = uid, &linkID
	delete(c.data, resolveKey)
	return nil
}
