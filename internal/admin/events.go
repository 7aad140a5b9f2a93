package admin

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/events"
	"github.com/dancecard/dancecard/internal/paging"
)

// EventQuery selects a page of the event log, newest first. The zero value
// is the first page of every event.
type EventQuery struct {
	Kind     string
	UserID   int64
	Provider string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	Cursor   string
	Limit    int
}

// EventRow is one event with its payload.
type EventRow struct {
	ID             int64           `json:"id"`
	Kind           string          `json:"kind"`
	UserID         *int64          `json:"user_id"`
	UserEmail      string          `json:"-"` // the account's address now, "" when it has none or is gone
	Provider       string          `json:"provider"`
	ProviderUserID string          `json:"provider_user_id"`
	ConnectionID   *int64          `json:"connection_id"`
	Reason         string          `json:"reason"`
	RequestID      string          `json:"request_id"`
	IP             string          `json:"ip"`
	UserAgent      string          `json:"user_agent"`
	Data           json.RawMessage `json:"data"`
	CreatedAt      time.Time       `json:"created_at"`
}

// ParseEventQuery checks the event list's query-string values, read by get
// (url.Values.Get): kind, user_id, provider, since, until, cursor and
// limit. Times are RFC 3339 ("2026-01-02T15:04:05Z") or a date
// ("2026-01-02", midnight UTC); the browser's datetime-local
// ("2026-01-02T15:04") is read as UTC.
func ParseEventQuery(get func(string) string) (EventQuery, error) {
	kind, userID, provider := get("kind"), get("user_id"), get("provider")
	eq := EventQuery{Kind: kind, Provider: provider, Cursor: get("cursor")}
	if kind != "" && !slices.Contains(events.Kinds(), events.Kind(kind)) {
		return EventQuery{}, badFilter(FilterError{Field: "kind", MessageID: "filter.kind", Args: map[string]any{"Kind": strconv.Quote(clip(kind))},
			Message: "There is no event kind " + strconv.Quote(clip(kind)) + "."})
	}
	if provider != "" && !providerID.MatchString(provider) {
		return EventQuery{}, badFilter(FilterError{Field: "provider", MessageID: "filter.provider",
			Message: "A provider id is lower-case letters, digits, dots, dashes and underscores."})
	}
	if userID != "" {
		id, err := strconv.ParseInt(userID, 10, 64)
		if err != nil || id <= 0 {
			return EventQuery{}, badFilter(FilterError{Field: "user_id", MessageID: "filter.user_id", Message: "The user id must be a positive whole number."})
		}
		eq.UserID = id
	}
	var err error
	if eq.Since, err = parseTime("since", get("since")); err != nil {
		return EventQuery{}, err
	}
	if eq.Until, err = parseTime("until", get("until")); err != nil {
		return EventQuery{}, err
	}
	if !eq.Since.IsZero() && !eq.Until.IsZero() && !eq.Since.Before(eq.Until) {
		return EventQuery{}, badFilter(FilterError{Field: "since", MessageID: "filter.range", Message: "The start of the time range must be before its end."})
	}
	if eq.Limit, err = paging.Limit(get("limit")); err != nil {
		return EventQuery{}, err
	}
	return eq, nil
}

func parseTime(field, raw string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, raw); err == nil && t.Year() >= 1 && t.Year() <= 9999 {
			return t, nil
		}
	}
	return time.Time{}, badFilter(FilterError{Field: field, MessageID: "filter.time", Message: "Write times like 2026-01-02T15:04:05Z or 2026-01-02."})
}

// clip shortens user input quoted back in a message.
func clip(s string) string {
	if len(s) > 40 {
		return events.Clip(s, 40) + "…"
	}
	return events.Clip(s, 40)
}

// Events answers one page of events, newest first. Each carries its
// account's email as it is now, read by id for the page's rows only.
func (s *Service) Events(ctx context.Context, eq EventQuery) (Page[EventRow], error) {
	var w where
	if eq.Kind != "" {
		w.add("e.kind = ?", eq.Kind)
	}
	if eq.UserID != 0 {
		w.add("e.user_id = ?", eq.UserID)
	}
	if eq.Provider != "" {
		w.add("e.provider = ?", eq.Provider)
	}
	if !eq.Since.IsZero() {
		w.add("e.created_at >= ?", eq.Since)
	}
	if !eq.Until.IsZero() {
		w.add("e.created_at < ?", eq.Until)
	}
	l := list{cols: `e.id, e.kind, e.user_id, coalesce((SELECT u.email FROM users u WHERE u.id = e.user_id), ''),
		coalesce(e.provider, ''), coalesce(e.provider_user_id, ''), e.connection_id, e.reason, e.request_id, e.ip,
		e.user_agent, e.data, e.created_at`,
		name: "events", from: "events e", sortKey: "e.created_at", id: "e.id", desc: true, sortID: "created DESC", isTime: true,
		where: w, limit: paging.Size(eq.Limit)}
	p, err := listPage(ctx, s, l, eq.Cursor, func(r pgx.Rows, key any) (EventRow, int64, error) {
		var e EventRow
		err := r.Scan(&e.ID, &e.Kind, &e.UserID, &e.UserEmail, &e.Provider, &e.ProviderUserID, &e.ConnectionID, &e.Reason,
			&e.RequestID, &e.IP, &e.UserAgent, &e.Data, &e.CreatedAt, key)
		return e, e.ID, err
	}, func(ctx context.Context) (Total, error) { return s.count(ctx, "events e", w) })
	if err != nil {
		return Page[EventRow]{}, wrapList("list events", err)
	}
	return p, nil
}

// MarshalJSON writes the event as every consumer sees it (events.Wire):
// every field of the contract, null when empty.
func (e EventRow) MarshalJSON() ([]byte, error) {
	ev := events.Event{ID: e.ID, Kind: events.Kind(e.Kind), Provider: e.Provider, ProviderUserID: e.ProviderUserID,
		Reason: e.Reason, Meta: events.Meta{RequestID: e.RequestID, IP: e.IP, UserAgent: e.UserAgent}, CreatedAt: e.CreatedAt}
	if e.UserID != nil {
		ev.UserID = *e.UserID
	}
	if e.ConnectionID != nil {
		ev.ConnectionID = *e.ConnectionID
	}
	w := events.WireOf(ev)
	if len(e.Data) > 0 {
		w.Data = e.Data
	}
	return json.Marshal(w)
}
