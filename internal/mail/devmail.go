package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DevMailbox is the Transport of dev mode without mail.smtp_url: it keeps
// mail in the dev_mail table for the browser to show, so running the
// service locally needs no mail server. It is in the database rather than
// in memory so every replica and a restart see the same mailbox.
type DevMailbox struct{ db *pgxpool.Pool }

// DevMessage is one mail in the dev mailbox.
type DevMessage struct {
	ID                            int64
	To, From, Subject, Text, HTML string
	CreatedAt                     time.Time
}

// NewDevMailbox returns the dev mailbox in db.
func NewDevMailbox(db *pgxpool.Pool) *DevMailbox { return &DevMailbox{db: db} }

// Send stores e.
func (b *DevMailbox) Send(ctx context.Context, e Envelope) error {
	if _, err := b.db.Exec(ctx, `
		INSERT INTO dev_mail (to_addr, from_addr, subject, text_body, html_body)
		VALUES ($1, $2, $3, $4, $5)`, e.To, e.From, e.Subject, e.Text, e.HTML); err != nil {
		return fmt.Errorf("dev mailbox: store: %w", err)
	}
	return nil
}

const devColumns = `id, to_addr, from_addr, subject, text_body, html_body, created_at`

func devDest(m *DevMessage) []any {
	return []any{&m.ID, &m.To, &m.From, &m.Subject, &m.Text, &m.HTML, &m.CreatedAt}
}

// List returns the newest limit messages, newest first.
func (b *DevMailbox) List(ctx context.Context, limit int) ([]DevMessage, error) {
	rows, err := b.db.Query(ctx, `SELECT `+devColumns+` FROM dev_mail ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("dev mailbox: list: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DevMessage, error) {
		var m DevMessage
		err := r.Scan(devDest(&m)...)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("dev mailbox: list: %w", err)
	}
	return msgs, nil
}

// Get returns message id, or ErrNotFound.
func (b *DevMailbox) Get(ctx context.Context, id int64) (DevMessage, error) {
	var m DevMessage
	err := b.db.QueryRow(ctx, `SELECT `+devColumns+` FROM dev_mail WHERE id = $1`, id).Scan(devDest(&m)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return DevMessage{}, ErrNotFound
	}
	if err != nil {
		return DevMessage{}, fmt.Errorf("dev mailbox: get %d: %w", id, err)
	}
	return m, nil
}
