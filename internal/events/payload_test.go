package events_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/events"
)

// Every field of the contract is in the payload, null when empty, never
// left out, so consumers need not tell "absent" from "empty".
func TestPayloadCarriesEveryField(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name string
		e    events.Event
		want map[string]any
	}{
		{"empty", events.Event{ID: 7, Kind: events.LoginFailed, CreatedAt: at, Data: map[string]any{}},
			map[string]any{"id": 7.0, "kind": "login_failed", "user_id": nil, "provider": nil,
				"provider_user_id": nil, "connection_id": nil, "reason": nil, "request_id": nil,
				"ip": nil, "user_agent": nil, "created_at": "2026-01-02T02:04:05.0000006Z", "data": nil}},
		{"full", events.Event{ID: 8, Kind: events.ConnectionCreated, UserID: 3, Provider: "github",
			ProviderUserID: "octo", ConnectionID: 11, Reason: "why", CreatedAt: at,
			Data: map[string]any{"scopes": "read:user"},
			Meta: events.Meta{RequestID: "r1", IP: "192.0.2.1", UserAgent: "curl/8"}},
			map[string]any{"id": 8.0, "kind": "connection_created", "user_id": 3.0, "provider": "github",
				"provider_user_id": "octo", "connection_id": 11.0, "reason": "why", "request_id": "r1",
				"ip": "192.0.2.1", "user_agent": "curl/8", "created_at": "2026-01-02T02:04:05.0000006Z",
				"data": map[string]any{"scopes": "read:user"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := events.MarshalEvent(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			var p map[string]any
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p["type"] != string(tc.e.Kind) || p["timestamp"] != "2026-01-02T02:04:05.0000006Z" {
				t.Errorf("envelope %s: want type %s and the event's time", body, tc.e.Kind)
			}
			if !reflect.DeepEqual(p["data"], tc.want) {
				t.Errorf("data\n got %v\nwant %v", p["data"], tc.want)
			}
		})
	}
}
