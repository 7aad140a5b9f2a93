package links_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
	"github.com/dancecard/dancecard/internal/postgres/pgtest"
)

// catalog serves fixed providers.
type catalog map[string]*oauth.Provider

func (c catalog) Get(id string) (*oauth.Provider, bool) { p, ok := c[id]; return p, ok }
func (c catalog) CallbackURL(id string) string {
	return "http://dancecard.test/auth/" + id + "/callback"
}

func ring(t *testing.T, seeds ...byte) *links.Keyring {
	t.Helper()
	var keys [][]byte
	for _, s := range seeds {
		keys = append(keys, bytes.Repeat([]byte{s}, 32))
	}
	r, err := links.NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRotateReseals connects an account under key 1, rotates to key 2 and
// checks the token then opens with key 2 alone.
func TestRotateReseals(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	accts := accounts.New(db, accounts.Options{TestHashMemoryKiB: 64})
	u, err := accts.SignUp(ctx, "rot@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	fake := oauthtest.NewServer(t)
	cat := catalog{"hub": fake.OAuth2Provider("hub")}
	client := oauth.NewClient(oauth.ClientOptions{})
	svc := func(k *links.Keyring) *links.Service {
		return links.New(links.Options{DB: db, Accounts: accts, Catalog: cat, Client: client, Keys: k})
	}
	old := svc(ring(t, 1))
	authURL, err := old.Start(ctx, links.StartRequest{Provider: "hub", Intent: links.IntentConnect, UserID: u.ID, Browser: "browser-1"})
	if err != nil {
		t.Fatal(err)
	}
	cb := fake.Authorize(t, authURL)
	if _, err := old.Finish(ctx, links.FinishRequest{Provider: "hub", Params: cb.Query(), Browser: "browser-1", UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if n, err := svc(ring(t, 2, 1)).Rotate(ctx); err != nil || n != 1 {
		t.Fatalf("Rotate = %d, %v", n, err)
	}
	if n, err := svc(ring(t, 2, 1)).Rotate(ctx); err != nil || n != 0 {
		t.Fatalf("second Rotate = %d, %v; want nothing left to do", n, err)
	}
	conns, _ := old.Connections(ctx, u.ID)
	// Disconnect opens the tokens (to revoke them): with key 2 alone it must work.
	if err := svc(ring(t, 2)).Disconnect(ctx, u.ID, conns[0].ID); err != nil {
		t.Fatalf("tokens do not open under the new key alone: %v", err)
	}
	if fake.Counts().Revocations != 1 {
		t.Fatal("revocation did not use the re-sealed token")
	}
}

func TestStartRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	fake := oauthtest.NewServer(t)
	svc := links.New(links.Options{DB: db, Accounts: accounts.New(db, accounts.Options{TestHashMemoryKiB: 64}),
		Catalog: catalog{"hub": fake.OAuth2Provider("hub")}, Client: oauth.NewClient(oauth.ClientOptions{}), Keys: ring(t, 1)})
	for _, tc := range []struct {
		req  links.StartRequest
		want error
	}{
		{links.StartRequest{Provider: "nope", Intent: links.IntentLogin, Browser: "b"}, links.ErrUnknownProvider},
		{links.StartRequest{Provider: "hub", Intent: links.IntentLogin, Browser: "b", Scopes: []string{"ok", "bad scope\x00"}}, links.ErrBadScope},
		{links.StartRequest{Provider: "hub", Intent: links.IntentConnect, Browser: "b"}, links.ErrWrongBrowser},
		{links.StartRequest{Provider: "hub", Intent: links.IntentLogin}, links.ErrWrongBrowser},
	} {
		if _, err := svc.Start(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("Start(%+v) = %v, want %v", tc.req, err, tc.want)
		}
	}
	var n int
	db.QueryRow(ctx, `SELECT count(*) FROM dances`).Scan(&n)
	if n != 0 {
		t.Fatalf("refused starts stored %d dances", n)
	}
}

func TestMarkExpiring(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	accts := accounts.New(db, accounts.Options{TestHashMemoryKiB: 64})
	u, _ := accts.SignUp(ctx, "exp@example.com", "correct horse battery staple")
	fake := oauthtest.NewServer(t)
	fake.UpdateKnobs(func(k *oauthtest.Knobs) { k.ExpiresIn = 90 * time.Minute })
	svc := links.New(links.Options{DB: db, Accounts: accts, Catalog: catalog{"hub": fake.OAuth2Provider("hub")},
		Client: oauth.NewClient(oauth.ClientOptions{}), Keys: ring(t, 1)})
	authURL, _ := svc.Start(ctx, links.StartRequest{Provider: "hub", Intent: links.IntentConnect, UserID: u.ID, Browser: "b"})
	if _, err := svc.Finish(ctx, links.FinishRequest{Provider: "hub", Params: fake.Authorize(t, authURL).Query(), Browser: "b", UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if n, _ := svc.MarkExpiring(ctx); n != 0 {
		t.Fatal("a refreshable connection was marked expiring")
	}
	db.Exec(ctx, `UPDATE connections SET refresh_token = NULL, expires_at = now() + interval '10 minutes'`)
	if n, err := svc.MarkExpiring(ctx); n != 1 || err != nil {
		t.Fatalf("MarkExpiring = %d, %v", n, err)
	}
	if n, _ := svc.MarkExpiring(ctx); n != 0 {
		t.Fatal("marked twice")
	}
	var events int
	db.QueryRow(ctx, `SELECT count(*) FROM events WHERE kind = 'connection_updated' AND data->>'new_status' = 'expiring'`).Scan(&events)
	if events != 1 {
		t.Fatalf("connection_updated events = %d", events)
	}
}
