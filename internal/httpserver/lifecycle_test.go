package httpserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

func TestAccountDeletionRevokesAtProviders(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("max@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	createToken(t, b)
	var id string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users`).Scan(&id)

	if r := b.post("/profile/delete", url.Values{"confirm_email": {"someone@example.com"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong confirmation: %d", r.Status)
	}
	if n := ts.count(t, `SELECT count(*) FROM users`); n != 1 {
		t.Fatal("deleted without the right confirmation")
	}
	r := b.post("/profile/delete", url.Values{"confirm_email": {"MAX@example.com "}})
	if r.Status != http.StatusSeeOther || r.Location != "/" {
		t.Fatalf("delete: %d %q\n%.500s", r.Status, r.Location, r.Body)
	}
	for _, table := range []string{"users", "sessions", "connections", "api_tokens", "mail_links"} {
		if n := ts.count(t, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s rows left: %d", table, n)
		}
	}
	if hub.Counts().Revocations != 1 {
		t.Errorf("revocations at the provider = %d, want 1", hub.Counts().Revocations)
	}
	var data string
	if err := ts.DB.QueryRow(t.Context(), `SELECT data::text || coalesce(reason, '') FROM events WHERE kind = 'user_deleted' AND user_id = $1::bigint`, id).Scan(&data); err != nil {
		t.Fatalf("user_deleted event: %v", err)
	}
	if strings.Contains(data, "max@example.com") {
		t.Fatal("the event names the deleted address")
	}
	if m := ts.mailTo(t, "max@example.com"); !strings.Contains(strings.ToLower(m.Subject), "deleted") {
		t.Fatalf("no farewell notice: %q", m.Subject)
	}
	if p := b.get("/profile"); p.Status != http.StatusSeeOther {
		t.Fatalf("session survived deletion: %d", p.Status)
	}
}

func TestExportHoldsNoSecret(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	b := ts.browser(t)
	b.signUp("ned@example.com", goodPassword)
	b.dance(hub, "/auth/hub/connect", nil)
	token := createToken(t, b)
	r := b.get("/profile/export")
	if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", r.Status, r.Header)
	}
	var ex struct {
		Email       string           `json:"email"`
		Connections []map[string]any `json:"connections"`
		Sessions    []map[string]any `json:"sessions"`
		Tokens      []map[string]any `json:"api_tokens"`
		Events      []map[string]any `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.Body), &ex); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if ex.Email != "ned@example.com" || len(ex.Connections) != 1 || len(ex.Sessions) != 1 || len(ex.Tokens) != 1 || len(ex.Events) == 0 {
		t.Fatalf("export misses rows: %+v", ex)
	}
	var secrets []string
	rows, _ := ts.DB.Query(t.Context(), `SELECT encode(token_hash, 'hex') FROM sessions UNION ALL SELECT encode(token_hash, 'hex') FROM api_tokens UNION ALL SELECT password_hash FROM users`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		secrets = append(secrets, s)
	}
	secrets = append(secrets, token)
	for _, s := range secrets {
		if s != "" && strings.Contains(r.Body, s) {
			t.Errorf("export holds a secret %.12s…", s)
		}
	}
	for _, key := range []string{"password_hash", "token_hash", "access_token", "refresh_token", "csrf"} {
		if strings.Contains(r.Body, key) {
			t.Errorf("export has a %q field", key)
		}
	}
}

func TestAdminMailActions(t *testing.T) {
	ts := newTestServer(t)
	boss := ts.browser(t)
	boss.signUp("boss@example.com", goodPassword)
	ts.DB.Exec(t.Context(), `UPDATE users SET is_admin = true, email_verified_at = now()`)
	ts.browser(t).signUp("pat@example.com", goodPassword)
	var pat string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = 'pat@example.com'`).Scan(&pat)
	ts.sendMail(t)

	page := boss.get("/admin/users/" + pat)
	if !strings.Contains(page.Body, "Not verified") || !strings.Contains(page.Body, "Send password reset") {
		t.Fatalf("user page lacks the badge or the actions:\n%.800s", page.Body)
	}
	if r := boss.post("/admin/users/"+pat+"/password-reset", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("send reset: %d", r.Status)
	}
	if r := boss.post("/admin/users/"+pat+"/verification", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("resend verification: %d", r.Status)
	}
	ts.sendMail(t)
	got := ts.Mail.To(t, "pat@example.com")
	if len(got) != 3 {
		t.Fatalf("mails to pat = %d, want 3", len(got))
	}
	// The administrator sees no link anywhere.
	for _, path := range []string{"/admin/users/" + pat, "/admin/events", "/admin/mail"} {
		p := boss.get(path)
		for _, m := range got {
			if strings.Contains(p.Body, mailTokenOf(m.Text)) {
				t.Errorf("%s shows a mailed link", path)
			}
		}
	}
	if p := boss.get("/admin/users"); !strings.Contains(p.Body, "Verified") || !strings.Contains(p.Body, "Not verified") {
		t.Error("users list lacks verified badges")
	}
}

func TestAdminRetriesDeadMail(t *testing.T) {
	ts := newTestServer(t)
	boss := ts.browser(t)
	boss.signUp("boss@example.com", goodPassword)
	ts.DB.Exec(t.Context(), `UPDATE users SET is_admin = true`)
	ts.sendMail(t)
	ts.browser(t).post("/password/forgot", url.Values{"email": {"boss@example.com"}})
	ts.DB.Exec(t.Context(), `UPDATE mail_outbox SET dead_at = now(), attempts = 8, last_error = 'smtp: 550 mailbox unavailable' WHERE sent_at IS NULL`)
	var id string
	ts.DB.QueryRow(t.Context(), `SELECT id::text FROM mail_outbox WHERE dead_at IS NOT NULL`).Scan(&id)
	p := boss.get("/admin/mail")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "550 mailbox unavailable") || !strings.Contains(p.Body, "/admin/mail/"+id+"/retry") {
		t.Fatalf("failed mail page: %d\n%.800s", p.Status, p.Body)
	}
	if r := boss.post("/admin/mail/"+id+"/retry", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("retry: %d", r.Status)
	}
	if m := ts.mailTo(t, "boss@example.com"); !strings.Contains(m.Text, "/password/reset?token=") {
		t.Fatalf("retried mail: %q", m.Subject)
	}
	if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'admin_mail_retried' AND data->>'mail_id' = $1`, id); n != 1 {
		t.Fatalf("admin_mail_retried events = %d", n)
	}
	if r := boss.post("/admin/mail/"+id+"/retry", nil); r.Status != http.StatusNotFound {
		t.Fatalf("retrying a sent mail: %d", r.Status)
	}
	if r := ts.browser(t).get("/admin/mail"); r.Status != http.StatusSeeOther {
		t.Fatalf("anonymous failed-mail page: %d", r.Status)
	}
}

func mailTokenOf(text string) string {
	if i := strings.Index(text, "token="); i >= 0 {
		return strings.Fields(text[i+len("token="):])[0]
	}
	return "no token in this mail"
}
