package mail_test

import (
	"context"
	"errors"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dancecard/dancecard/internal/mail"
	"github.com/dancecard/dancecard/internal/mail/mailtest"
	"github.com/dancecard/dancecard/internal/postgres"
)

func TestEnqueueIsSentOnlyAfterCommitAndExactlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	user := newUser(t, e.db, "ann@example.com")
	s := e.sender(t, nil)

	errRollback := errors.New("roll back")
	err := postgres.InTx(ctx, e.db, func(tx pgx.Tx) error {
		if _, err := mail.Enqueue(ctx, tx, verifyMail(user, "ann@example.com")); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v", err)
	}
	sendDue(t, s, 0)

	id := enqueue(t, e.db, verifyMail(user, "Ann@Example.com"))
	sendDue(t, s, 1)
	sendDue(t, s, 0)
	got := e.sink.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages arrived, want 1", len(got))
	}
	m := mailtest.Parse(t, got[0])
	checkHeaders(t, m, "Ann@Example.com", "Dancecard verify_email for Ann@Example.com")
	token := mailtest.TokenIn(t, m.Text)
	if !strings.Contains(m.Text, "https://dancecard.test/email/verify?token="+token) {
		t.Errorf("text %q lacks the verification URL", m.Text)
	}
	if mailtest.TokenIn(t, m.HTML) != token {
		t.Errorf("the HTML part carries another token than the text part")
	}
	if r := readOutbox(t, e.db, id); !r.Sent || r.Attempts != 1 || r.LastError != "" {
		t.Errorf("outbox row %+v, want sent after 1 attempt", r)
	}
	checkTokenStoredOnlyHashed(t, e.db, token)

	l, err := mail.LookupLink(ctx, e.db, token, mail.PurposeVerifyEmail)
	if err != nil || l.UserID != user || l.Email != "ann@example.com" || l.Purpose != mail.PurposeVerifyEmail {
		t.Fatalf("LookupLink = %+v, %v", l, err)
	}
	if d := time.Until(l.ExpiresAt); d < 59*time.Minute || d > time.Hour {
		t.Errorf("link expires in %v, want an hour", d)
	}
	var consumed mail.Link
	if err := postgres.InTx(ctx, e.db, func(tx pgx.Tx) (err error) {
		consumed, err = mail.ConsumeLink(ctx, tx, token, mail.PurposeVerifyEmail)
		return err
	}); err != nil || consumed.ID != l.ID {
		t.Fatalf("ConsumeLink = %+v, %v", consumed, err)
	}
}

// checkHeaders checks a received mail's envelope headers.
func checkHeaders(t *testing.T, m mailtest.Parsed, to, subject string) {
	t.Helper()
	if from, err := netmail.ParseAddress(m.Header.Get("From")); err != nil || from.Address != "noreply@dancecard.test" || from.Name != "Dancecard" {
		t.Errorf("From = %q", m.Header.Get("From"))
	}
	if got, err := netmail.ParseAddress(m.Header.Get("To")); err != nil || got.Address != to {
		t.Errorf("To = %q, want %s", m.Header.Get("To"), to)
	}
	if m.Subject != subject {
		t.Errorf("Subject = %q, want %q", m.Subject, subject)
	}
	if d, err := m.Header.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date = %q (%v)", m.Header.Get("Date"), err)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@dancecard.test>") {
		t.Errorf("Message-ID = %q", id)
	}
}

// checkTokenStoredOnlyHashed scans every column of every table for token
// and finds it nowhere, while its SHA-256 is in mail_links.
func checkTokenStoredOnlyHashed(t *testing.T, db *pgxpool.Pool, token string) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Query(ctx, `
		SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 5 {
		t.Fatalf("tables %v: %v", tables, err)
	}
	for _, table := range tables {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM `+table+` t WHERE strpos(t::text, $1) > 0`, token).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the token appears in %d rows of %s", n, table)
		}
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM mail_links WHERE token_hash = $1`, mail.HashToken(token)).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d links hold the token's hash (%v), want 1", n, err)
	}
}

func TestLinkURLByPurpose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sender(t, nil)
	cases := []struct {
		kind    mail.Kind
		purpose mail.Purpose
		path    string
	}{
		{mail.KindVerifyEmail, mail.PurposeVerifyEmail, "/email/verify"},
		{mail.KindEmailChange, mail.PurposeEmailChange, "/email/verify"},
		{mail.KindPasswordReset, mail.PurposePasswordReset, "/password/reset"},
		{mail.KindLoginUnlock, mail.PurposeLoginUnlock, "/login/unlock"},
	}
	user := newUser(t, e.db, "bob@example.com")
	for i, c := range cases {
		enqueue(t, e.db, mail.Message{UserID: user, To: "bob@example.com", Kind: c.kind,
			Link: &mail.LinkSpec{Purpose: c.purpose, TTL: time.Hour}})
		sendDue(t, s, 1)
		m := mailtest.Parse(t, e.sink.Messages()[i])
		token := mailtest.TokenIn(t, m.Text)
		if want := "https://dancecard.test" + c.path + "?token=" + token; !strings.Contains(m.Text, want) {
			t.Errorf("%s: text %q lacks %s", c.kind, m.Text, want)
		}
		if _, err := mail.LookupLink(context.Background(), e.db, token, c.purpose); err != nil {
			t.Errorf("%s: LookupLink: %v", c.kind, err)
		}
	}
}

func TestNoticeCarriesDataAndNoLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "cy@example.com")
	id := enqueue(t, e.db, mail.Message{UserID: user, To: "cy@example.com", Kind: mail.KindNotice,
		Data: map[string]string{"notice": "password_changed"}})
	sendDue(t, e.sender(t, nil), 1)
	m := mailtest.Parse(t, e.sink.Messages()[0])
	if !strings.Contains(m.Text, "notice: password_changed") || strings.Contains(m.Text, "token=") {
		t.Errorf("text %q: want the notice and no link", m.Text)
	}
	var linkID *int64
	if err := e.db.QueryRow(context.Background(), `SELECT link_id FROM mail_outbox WHERE id = $1`, id).Scan(&linkID); err != nil || linkID != nil {
		t.Errorf("link_id = %v, %v; want NULL", linkID, err)
	}
}

func TestEnqueueRefusesMessagesItCannotSendAsMeant(t *testing.T) {
	t.Parallel()
	db := newEnv(t).db
	user := newUser(t, db, "di@example.com")
	link := &mail.LinkSpec{Purpose: mail.PurposeVerifyEmail, TTL: time.Hour}
	cases := map[string]mail.Message{
		"unknown kind":          {UserID: user, To: "di@example.com", Kind: "welcome"},
		"no recipient":          {UserID: user, To: " ", Kind: mail.KindNotice},
		"not an address":        {UserID: user, To: "di at example.com", Kind: mail.KindNotice},
		"link kind, no link":    {UserID: user, To: "di@example.com", Kind: mail.KindVerifyEmail},
		"notice with a link":    {UserID: user, To: "di@example.com", Kind: mail.KindNotice, Link: link},
		"wrong purpose":         {UserID: user, To: "di@example.com", Kind: mail.KindPasswordReset, Link: link},
		"no TTL":                {UserID: user, To: "di@example.com", Kind: mail.KindVerifyEmail, Link: &mail.LinkSpec{Purpose: mail.PurposeVerifyEmail}},
		"link without the user": {To: "di@example.com", Kind: mail.KindVerifyEmail, Link: link},
	}
	for name, m := range cases {
		err := postgres.InTx(context.Background(), db, func(tx pgx.Tx) error {
			_, err := mail.Enqueue(context.Background(), tx, m)
			return err
		})
		if err == nil {
			t.Errorf("%s: Enqueue accepted %+v", name, m)
		}
	}
}

func TestMailOfADeletedUserIsNotSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := newUser(t, e.db, "ed@example.com")
	id := enqueue(t, e.db, verifyMail(user, "ed@example.com"))
	if _, err := e.db.Exec(context.Background(), `DELETE FROM users WHERE id = $1`, user); err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	sendDue(t, e.sender(t, func(o *mail.Options) {
		o.OnResult = func(_ mail.Kind, outcome string) { outcomes = append(outcomes, outcome) }
	}), 0)
	if n := len(e.sink.Messages()); n != 0 {
		t.Fatalf("%d messages arrived for a deleted user's link", n)
	}
	if r := readOutbox(t, e.db, id); !r.Sent || !strings.Contains(r.LastError, "not sent") {
		t.Errorf("outbox row %+v, want closed as not sent", r)
	}
	if len(outcomes) != 1 || outcomes[0] != "skipped" {
		t.Errorf("outcomes %v, want [skipped]", outcomes)
	}
}
