package links_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// reauthMarks says the connection's status and how many connection_updated
// events moved it to needs_reauth (from active).
func (e *callEnv) reauthMarks(t *testing.T, connID int64) (string, int) {
	t.Helper()
	var status string
	var marks int
	if err := e.db.QueryRow(t.Context(), `SELECT status, (SELECT count(*) FROM events WHERE kind = 'connection_updated'
		AND connection_id = $1 AND data->>'old_status' = 'active' AND data->>'new_status' = 'needs_reauth')
		FROM connections WHERE id = $1`, connID).Scan(&status, &marks); err != nil {
		t.Fatal(err)
	}
	return status, marks
}

// A token the provider revoked, which cannot be refreshed, makes the
// connection needs_reauth at the first 401 once the token is older than
// the grace given to a provider that has not caught up with a token it
// just issued; inside that grace the 401 is passed back and nothing changes.
func TestRevokedTokenMarksNeedsReauth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		provider string
		setup    func(t *testing.T, e *callEnv) int64
	}{
		{"oauth1", "bird", func(t *testing.T, e *callEnv) int64 { return e.connect(t, e.userID, "bird") }},
		{"oauth2 without refresh token", "hub", func(t *testing.T, e *callEnv) int64 {
			if _, err := e.db.Exec(t.Context(), `UPDATE connections SET refresh_token = NULL WHERE id = $1`, e.connID); err != nil {
				t.Fatal(err)
			}
			return e.connID
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newCallEnv(t, oauthtest.Knobs{})
			id := tc.setup(t, e)
			e.fake.RevokeUser("42")
			get := links.APICall{UserID: e.userID, Provider: tc.provider}
			if status, _, err := call(t, e.svc, get); err != nil || status != http.StatusUnauthorized {
				t.Fatalf("inside the grace: %d %v, want the provider's 401", status, err)
			}
			if status, marks := e.reauthMarks(t, id); status != "active" || marks != 0 {
				t.Fatalf("inside the grace: status %s, %d marks", status, marks)
			}
			e.age(t)
			_, _, err := call(t, e.svc, get)
			if re := (*links.ReauthError)(nil); !errors.As(err, &re) || re.ConnectionID != id {
				t.Fatalf("a revoked token's 401: %v, want a ReauthError for connection %d", err, id)
			}
			if status, marks := e.reauthMarks(t, id); status != "needs_reauth" || marks != 1 {
				t.Fatalf("status %s, %d marks, want needs_reauth and 1", status, marks)
			}
			before := e.fake.Counts().APICalls
			if _, _, err := call(t, e.svc, get); !errors.Is(err, links.ErrReauthRequired) || e.fake.Counts().APICalls != before {
				t.Fatalf("next call: %v, %d calls reached the provider", err, e.fake.Counts().APICalls-before)
			}
		})
	}
}

// A refreshable token whose 401 a refresh does not cure is refreshed once,
// however many calls draw the 401 at once, and the connection is marked
// once; a 401 for a token refreshed moments ago (for its expiry) is inside
// the grace.
func TestRevokedRefreshableTokenIsRefreshedOnceThenMarked(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	refused := links.APICall{UserID: e.userID, Provider: "hub", Request: oauth.APIRequest{Path: "status/401"}}
	e.expire(t)
	if status, _, err := call(t, e.svc, refused); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("a token refreshed for its expiry: %d %v, want the provider's 401", status, err)
	}
	if status, marks := e.reauthMarks(t, e.connID); status != "active" || marks != 0 || e.fake.Counts().Refreshes != 1 {
		t.Fatalf("status %s, %d marks, %d refreshes", status, marks, e.fake.Counts().Refreshes)
	}
	e.age(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			status, _, err := call(t, e.svc, refused)
			switch {
			case errors.Is(err, links.ErrReauthRequired):
				errs <- nil
			case err == nil && status == http.StatusUnauthorized:
				// Picked after the refresh was stored: inside the grace.
			default:
				errs <- errors.Join(err, errors.New(http.StatusText(status)))
			}
		})
	}
	wg.Wait()
	close(errs)
	marked := 0
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
		marked++
	}
	if marked == 0 {
		t.Fatal("no call was told to reconnect")
	}
	if n := e.fake.Counts().Refreshes; n != 2 {
		t.Fatalf("%d refreshes, want 2 (one for the expiry, one for the 401s)", n)
	}
	if status, marks := e.reauthMarks(t, e.connID); status != "needs_reauth" || marks != 1 {
		t.Fatalf("status %s, %d marks, want needs_reauth and 1", status, marks)
	}
}

// racingClient runs during after the provider answers each API call.
type racingClient struct {
	links.Client
	during func()
}

func (p racingClient) CallAPI(ctx context.Context, pr *oauth.Provider, t oauth.Token, r oauth.APIRequest) (*http.Response, error) {
	resp, err := p.Client.CallAPI(ctx, pr, t, r)
	if p.during != nil {
		p.during()
	}
	return resp, err
}

// A reconnect that stores a new token while the old one draws its 401
// stands: the connection is not marked for a token it no longer holds.
func TestRevokedTokenReplacedMeanwhileIsNotMarked(t *testing.T) {
	t.Parallel()
	e := newCallEnv(t, oauthtest.Knobs{})
	id := e.connect(t, e.userID, "bird")
	e.age(t)
	e.fake.RevokeUser("42")
	var once sync.Once
	racing := links.New(links.Options{DB: e.db, Accounts: e.accts, Catalog: e.cat, Keys: e.keys,
		Client: racingClient{Client: oauth.NewClient(oauth.ClientOptions{}), during: func() {
			once.Do(func() { e.connect(t, e.userID, "bird") })
		}}})
	get := links.APICall{UserID: e.userID, Provider: "bird"}
	if status, _, err := call(t, racing, get); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("%d %v, want the provider's 401", status, err)
	}
	if status, marks := e.reauthMarks(t, id); status != "active" || marks != 0 {
		t.Fatalf("status %s, %d marks: the reconnected token was marked", status, marks)
	}
	if status, _, err := call(t, e.svc, get); err != nil || status != http.StatusOK {
		t.Fatalf("with the reconnected token: %d %v", status, err)
	}
}
