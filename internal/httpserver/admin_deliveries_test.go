package httpserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/browsertest"
)

// parkDelivery registers a subscriber, records an event for it and parks
// its delivery as the dispatcher does after the last attempt. It returns the
// delivery id.
func parkDelivery(t *testing.T, ts *testServer) int64 {
	t.Helper()
	ctx := t.Context()
	if _, err := ts.DB.Exec(ctx, `INSERT INTO event_subscribers (name) VALUES ('webhook:https://hooks.example.com/dc')`); err != nil {
		t.Fatal(err)
	}
	var eventID, id int64
	err := ts.DB.QueryRow(ctx, `INSERT INTO events (kind, user_id) VALUES ('connection_created', 42) RETURNING id`).Scan(&eventID)
	if err == nil {
		err = ts.DB.QueryRow(ctx, `
			INSERT INTO event_deliveries (event_id, subscriber, user_id, attempts, last_error, dead_at)
			VALUES ($1, 'webhook:https://hooks.example.com/dc', 42, 10,
			        'webhook: hooks.example.com answered 500 <b>Internal</b>', now())
			RETURNING id`, eventID).Scan(&id)
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestAdminDeliveriesAuthorisation(t *testing.T) {
	ts := newTestServer(t)
	id := parkDelivery(t, ts)
	retry := "/admin/deliveries/" + strconv.FormatInt(id, 10) + "/retry"
	anon := ts.browser(t)
	if r := anon.get("/admin/deliveries"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location, "/login") {
		t.Fatalf("anonymous: %d %q, want a redirect to log in", r.Status, r.Location)
	}
	user := ts.browser(t)
	user.signUp("user@example.com", goodPassword)
	if r := user.get("/admin/deliveries"); r.Status != http.StatusForbidden {
		t.Fatalf("non-admin page: %d, want 403", r.Status)
	}
	if r := user.post(retry, nil); r.Status != http.StatusForbidden {
		t.Fatalf("non-admin retry: %d, want 403", r.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM event_deliveries WHERE dead_at IS NOT NULL`); n != 1 {
		t.Fatal("a refused retry changed the delivery")
	}
}

func TestAdminDeliveriesRetry(t *testing.T) {
	ts := newTestServer(t)
	id := parkDelivery(t, ts)
	if _, _, err := ts.Accounts.EnsureAdmin(t.Context(), "boss@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	boss := ts.browser(t)
	boss.logIn("boss@example.com", goodPassword)
	r := boss.get("/admin/deliveries")
	for _, want := range []string{"Event deliveries", "webhook:https://hooks.example.com/dc", "connection_created",
		"User 42", "answered 500 &lt;b&gt;Internal&lt;/b&gt;", `action="/admin/deliveries/` + strconv.FormatInt(id, 10) + `/retry"`} {
		if !strings.Contains(r.Body, want) {
			t.Fatalf("page lacks %q: %d\n%.3000s", want, r.Status, r.Body)
		}
	}
	retry := "/admin/deliveries/" + strconv.FormatInt(id, 10) + "/retry"

	// Bad input: no CSRF token, an id that is not a number, an unknown id.
	if r := boss.post(retry, url.Values{"csrf_token": {"forged"}}); r.Status != http.StatusForbidden {
		t.Errorf("forged CSRF: %d, want 403", r.Status)
	}
	if r := boss.post("/admin/deliveries/abc/retry", nil); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "no such delivery") {
		t.Errorf("id abc: %d, want 404 with a message\n%.500s", r.Status, r.Body)
	}
	if r := boss.post("/admin/deliveries/999999/retry", nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown id: %d, want 404", r.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM event_deliveries WHERE dead_at IS NOT NULL`); n != 1 {
		t.Fatal("bad input changed the delivery")
	}

	r = boss.post(retry, nil)
	if r.Status != http.StatusSeeOther || r.Location != "/admin/deliveries" {
		t.Fatalf("retry: %d %q", r.Status, r.Location)
	}
	if page := boss.get("/admin/deliveries"); !strings.Contains(page.Body, "queued again") || !strings.Contains(page.Body, "No dead deliveries") {
		t.Errorf("after retry the page shows no confirmation or still lists it:\n%.3000s", page.Body)
	}
	if n := ts.count(t, `SELECT count(*) FROM event_deliveries WHERE id = $1 AND dead_at IS NULL AND attempts = 0`, id); n != 1 {
		t.Error("the delivery was not re-queued")
	}
	if n := ts.count(t, `SELECT count(*) FROM events e JOIN users u ON u.id = e.user_id
		WHERE e.kind = 'admin_delivery_retried' AND u.email = 'boss@example.com' AND (e.data->>'delivery_id')::bigint = $1`, id); n != 1 {
		t.Error("no admin_delivery_retried event names the administrator and the delivery")
	}
	if r := boss.post(retry, nil); r.Status != http.StatusConflict || !strings.Contains(r.Body, "no longer parked") {
		t.Errorf("second retry: %d, want 409 with a message\n%.500s", r.Status, r.Body)
	}
}

// An administrator retries a dead delivery from the page in a real Chromium.
func TestBrowserAdminDeliveryRetry(t *testing.T) {
	ts := newTestServer(t)
	id := parkDelivery(t, ts)
	if _, _, err := ts.Accounts.EnsureAdmin(t.Context(), "boss@example.com", goodPassword); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	b := browsertest.New(t, ctx, ts.URL)
	logIn(b, "boss@example.com", goodPassword, true)
	b.Open("/admin/deliveries", "#dead-title")
	b.Contains("#dead-title ~ .table-wrap tbody", "answered 500 <b>Internal</b>")
	b.Screenshot()
	b.Submit("Retry", "/admin/deliveries", ".flash-success")
	b.Contains(".flash-success", "queued again")
	b.Contains("#dead-title ~ .empty", "No dead deliveries.")
	wantCount(t, ts, 1, `SELECT count(*) FROM event_deliveries WHERE id = $1 AND dead_at IS NULL`, id)
}
