package httpserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/links"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// The "classic-federated" pre-account hijack (Sudhodanan & Paverd, 2022):
// an attacker signs up with the victim's address first and waits for the
// victim to log in with a provider that vouches for it.
func TestPreHijackUnverifiedAccountIsClaimedByProver(t *testing.T) {
	for _, linkByEmail := range []bool{false, true} {
		t.Run("link_by_verified_email="+map[bool]string{false: "false", true: "true"}[linkByEmail], func(t *testing.T) {
			hub := oauthtest.NewServer(t)
			ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")),
				withSignup(links.Signup{ViaProvider: true, LinkByVerifiedEmail: linkByEmail}))
			attacker := ts.browser(t)
			attacker.signUp("victim@example.com", goodPassword)
			token := createToken(t, attacker)
			var attackerID string
			ts.DB.QueryRow(t.Context(), `SELECT id::text FROM users`).Scan(&attackerID)

			hub.SetUser(oauthtest.User{ID: "v1", Login: "victim", Email: "victim@example.com", EmailVerified: true})
			victim := ts.browser(t)
			r := victim.dance(hub, "/auth/hub/login", nil)
			if r.Status != http.StatusSeeOther || r.Location != "/profile" || victim.cookie("dc_session") == nil {
				t.Fatalf("victim's provider log-in: %d %q", r.Status, r.Location)
			}
			// The victim holds the account now, wiped of the attacker's ways in.
			if n := ts.count(t, `SELECT count(*) FROM users WHERE id = $1::bigint AND password_hash IS NULL AND email_verified_at IS NOT NULL`, attackerID); n != 1 {
				t.Fatal("the account kept its password or stayed unverified")
			}
			if p := attacker.get("/profile"); p.Status != http.StatusSeeOther {
				t.Fatalf("the attacker's session survived: %d", p.Status)
			}
			if r := attacker.api(apiCall{method: "GET", path: "/api/v1/me", bearer: token}); r.Status != http.StatusUnauthorized {
				t.Fatalf("the attacker's API token survived: %d", r.Status)
			}
			if r := ts.browser(t).logIn("victim@example.com", goodPassword); r.Status != http.StatusUnauthorized {
				t.Fatalf("the attacker's password still works: %d", r.Status)
			}
			if n := ts.count(t, `SELECT count(*) FROM events WHERE kind = 'account_claimed' AND user_id = $1::bigint`, attackerID); n != 1 {
				t.Fatalf("account_claimed events = %d", n)
			}
			if n := ts.count(t, `SELECT count(*) FROM connections WHERE provider_user_id = 'v1' AND user_id = $1::bigint`, attackerID); n != 1 {
				t.Fatal("the victim's provider account is not linked")
			}
		})
	}
}

// The attacker links their own provider account to the unverified account
// first: the claim removes that connection too, so it cannot log in later.
func TestPreHijackClaimRemovesPlantedConnections(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	attacker := ts.browser(t)
	attacker.signUp("vic@example.com", goodPassword)
	hub.SetUser(oauthtest.User{ID: "evil", Login: "evil"})
	attacker.dance(hub, "/auth/hub/connect", nil)

	hub.SetUser(oauthtest.User{ID: "vic", Login: "vic", Email: "vic@example.com", EmailVerified: true})
	if r := ts.browser(t).dance(hub, "/auth/hub/login", nil); r.Location != "/profile" {
		t.Fatalf("victim log-in: %d %q", r.Status, r.Location)
	}
	if n := ts.count(t, `SELECT count(*) FROM connections WHERE provider_user_id = 'evil'`); n != 0 {
		t.Fatal("the attacker's planted connection survived the claim")
	}
	hub.SetUser(oauthtest.User{ID: "evil", Login: "evil"})
	later := ts.browser(t)
	later.dance(hub, "/auth/hub/login", nil)
	var owner string
	ts.DB.QueryRow(t.Context(), `SELECT coalesce(min(user_id)::text, '') FROM connections WHERE provider_user_id = 'evil'`).Scan(&owner)
	var victimID string
	ts.DB.QueryRow(t.Context(), `SELECT user_id::text FROM connections WHERE provider_user_id = 'vic'`).Scan(&victimID)
	if owner == victimID {
		t.Fatal("the attacker's provider account logs in to the victim's account")
	}
}

// A verified holder of the address is attached only when the operator
// trusts providers' verified emails; otherwise the log-in is refused.
func TestVerifiedHolderIsAttachedOnlyWhenConfigured(t *testing.T) {
	for _, linkByEmail := range []bool{false, true} {
		hub := oauthtest.NewServer(t)
		ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")),
			withSignup(links.Signup{ViaProvider: true, LinkByVerifiedEmail: linkByEmail}))
		owner := ts.browser(t)
		owner.signUp("kim@example.com", goodPassword)
		link := linkIn(t, ts.mailTo(t, "kim@example.com"))
		owner.post("/email/verify", url.Values{"token": {strings.TrimPrefix(link, "/email/verify?token=")}})

		hub.SetUser(oauthtest.User{ID: "k1", Login: "kim", Email: "kim@example.com", EmailVerified: true})
		b := ts.browser(t)
		r := b.dance(hub, "/auth/hub/login", nil)
		attached := ts.count(t, `SELECT count(*) FROM connections WHERE provider_user_id = 'k1'`) == 1
		if attached != linkByEmail {
			t.Errorf("link_by_verified_email=%v: attached=%v (%d %q)", linkByEmail, attached, r.Status, r.Location)
		}
		if ts.count(t, `SELECT count(*) FROM users WHERE password_hash IS NOT NULL`) != 1 {
			t.Errorf("link_by_verified_email=%v: the verified owner's password was touched", linkByEmail)
		}
		if !linkByEmail {
			if p := b.get("/login"); !strings.Contains(p.Body, "connect") {
				t.Errorf("refusal does not say to log in and connect:\n%.600s", p.Body)
			}
		}
	}
}

// The other direction: an account made through a provider that vouched for
// the address blocks a later password sign-up with it, and the sign-up page
// points to recovery instead of creating a second, unproven holder.
func TestProviderAccountBlocksLaterSignupWithItsAddress(t *testing.T) {
	hub := oauthtest.NewServer(t)
	ts := newTestServer(t, withProviders(fakeOAuth2(hub, "hub")))
	hub.SetUser(oauthtest.User{ID: "l1", Login: "lee", Email: "lee@example.com", EmailVerified: true})
	ts.browser(t).dance(hub, "/auth/hub/login", nil)
	if n := ts.count(t, `SELECT count(*) FROM users WHERE email = 'lee@example.com' AND email_verified_at IS NOT NULL`); n != 1 {
		t.Fatal("a provider-made account's vouched address is not verified")
	}
	r := ts.browser(t).post("/signup", url.Values{"email": {"lee@example.com"}, "password": {goodPassword}, "password_confirm": {goodPassword}})
	if r.Status != http.StatusConflict || ts.count(t, `SELECT count(*) FROM users`) != 1 {
		t.Fatalf("second holder: %d", r.Status)
	}
	// The owner of the inbox can still get in with a password: recovery.
	ts.browser(t).post("/password/forgot", url.Values{"email": {"lee@example.com"}})
	if m := ts.mailTo(t, "lee@example.com"); !strings.Contains(m.Text, "/password/reset?token=") {
		t.Fatalf("no reset link: %q", m.Subject)
	}
}
