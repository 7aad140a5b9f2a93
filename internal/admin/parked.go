package admin

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/paging"
)

// The parked lists: event deliveries and mail given up after their last
// attempt. The events and mail packages own those tables and their Retry;
// these only read them, with the same cursors, pages and totals as every
// other list of the console, always the most recently parked first.

// DeliveryQuery selects a page of dead deliveries, most recently parked
// first.
type DeliveryQuery struct {
	Subscriber string // "" is every subscriber's
	Cursor     string
	Limit      int
}

// DeliveryRow is one parked delivery: the event, where it should have
// gone, and why it failed.
type DeliveryRow struct {
	ID         int64
	Subscriber string
	Attempts   int
	LastError  string
	DeadAt     time.Time
	EventID    int64
	Kind       string
	UserID     *int64
	UserEmail  string // the account's address now, "" when none
	Provider   string
	CreatedAt  time.Time // when the event happened
}

// ParseDeliveryQuery checks the dead deliveries list's query-string values,
// read by get: subscriber, cursor and limit.
func ParseDeliveryQuery(get func(string) string) (DeliveryQuery, error) {
	dq := DeliveryQuery{Subscriber: get("subscriber"), Cursor: get("cursor")}
	if len(dq.Subscriber) > 200 {
		return DeliveryQuery{}, badFilter(FilterError{Field: "subscriber", MessageID: "filter.subscriber", Message: "There is no subscriber by that name."})
	}
	var err error
	dq.Limit, err = paging.Limit(get("limit"))
	return dq, err
}

// DeadDeliveries answers one page of parked deliveries.
func (s *Service) DeadDeliveries(ctx context.Context, dq DeliveryQuery) (Page[DeliveryRow], error) {
	var w where
	w.add("d.dead_at IS NOT NULL")
	if dq.Subscriber != "" {
		w.add("d.subscriber = ?", dq.Subscriber)
	}
	l := list{cols: `d.id, d.subscriber, d.attempts, d.last_error, d.dead_at, e.id, e.kind, e.user_id,
		coalesce((SELECT u.email FROM users u WHERE u.id = e.user_id), ''), coalesce(e.provider, ''), e.created_at`,
		name: "deliveries", from: "event_deliveries d JOIN events e ON e.id = d.event_id", sortKey: "d.dead_at", id: "d.id", desc: true,
		sortID: "parked DESC", isTime: true, where: w, limit: paging.Size(dq.Limit)}
	p, err := listPage(ctx, s, l, dq.Cursor, func(r pgx.Rows, key any) (DeliveryRow, int64, error) {
		var d DeliveryRow
		err := r.Scan(&d.ID, &d.Subscriber, &d.Attempts, &d.LastError, &d.DeadAt, &d.EventID, &d.Kind, &d.UserID,
			&d.UserEmail, &d.Provider, &d.CreatedAt, key)
		return d, d.ID, err
	}, func(ctx context.Context) (Total, error) { return s.count(ctx, "event_deliveries d", w) })
	if err != nil {
		return Page[DeliveryRow]{}, wrapList("list dead deliveries", err)
	}
	return p, nil
}

// MailQuery selects a page of failed mail, most recently parked first.
type MailQuery struct {
	Cursor string
	Limit  int
}

// MailRow is one mail parked after its last attempt failed. It never
// carries a link: the sender mints a fresh one when it is retried.
type MailRow struct {
	ID        int64
	UserID    int64 // 0 when the account is gone
	UserEmail string
	To        string
	Kind      string
	LastError string
	Attempts  int
	CreatedAt time.Time
	DeadAt    time.Time
}

// ParseMailQuery checks the failed mail list's query-string values, read
// by get: cursor and limit.
func ParseMailQuery(get func(string) string) (MailQuery, error) {
	limit, err := paging.Limit(get("limit"))
	return MailQuery{Cursor: get("cursor"), Limit: limit}, err
}

// FailedMail answers one page of parked mail.
func (s *Service) FailedMail(ctx context.Context, mq MailQuery) (Page[MailRow], error) {
	var w where
	w.add("m.dead_at IS NOT NULL")
	l := list{cols: `m.id, coalesce(m.user_id, 0), coalesce((SELECT u.email FROM users u WHERE u.id = m.user_id), ''),
		m.to_addr, m.kind, m.last_error, m.attempts, m.created_at, m.dead_at`,
		name: "mail", from: "mail_outbox m", sortKey: "m.dead_at", id: "m.id", desc: true, sortID: "parked DESC", isTime: true,
		where: w, limit: paging.Size(mq.Limit)}
	p, err := listPage(ctx, s, l, mq.Cursor, func(r pgx.Rows, key any) (MailRow, int64, error) {
		var m MailRow
		err := r.Scan(&m.ID, &m.UserID, &m.UserEmail, &m.To, &m.Kind, &m.LastError, &m.Attempts, &m.CreatedAt, &m.DeadAt, key)
		return m, m.ID, err
	}, func(ctx context.Context) (Total, error) { return s.count(ctx, "mail_outbox m", w) })
	if err != nil {
		return Page[MailRow]{}, wrapList("list failed mail", err)
	}
	return p, nil
}
