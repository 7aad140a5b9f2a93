package oauth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/dancecard/dancecard/internal/oauth"
	"github.com/dancecard/dancecard/internal/oauth/oauthtest"
)

// TestOIDCIDTokenClaims covers the ID token checks go-oidc leaves to the
// client (OpenID Connect Core 3.1.3.7): azp when there are several
// audiences or when it is present at all, and iat.
func TestOIDCIDTokenClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(c map[string]any, clientID string)
		refuse bool
	}{
		{name: "several audiences, azp ours", edit: func(c map[string]any, id string) {
			c["aud"], c["azp"] = []string{id, "other-client"}, id
		}},
		{name: "one audience, azp ours", edit: func(c map[string]any, id string) { c["azp"] = id }},
		{name: "one audience in a list, no azp", edit: func(c map[string]any, id string) { c["aud"] = []string{id} }},
		{name: "iat a little ahead (clock skew)", edit: func(c map[string]any, _ string) {
			c["iat"] = time.Now().Add(2 * time.Minute).Unix()
		}},
		{name: "several audiences, azp another client's", refuse: true, edit: func(c map[string]any, id string) {
			c["aud"], c["azp"] = []string{id, "other-client"}, "other-client"
		}},
		{name: "several audiences, no azp", refuse: true, edit: func(c map[string]any, id string) {
			c["aud"] = []string{id, "other-client"}
		}},
		{name: "one audience, azp another client's", refuse: true, edit: func(c map[string]any, _ string) { c["azp"] = "other-client" }},
		{name: "empty azp", refuse: true, edit: func(c map[string]any, _ string) { c["azp"] = "" }},
		{name: "no iat", refuse: true, edit: func(c map[string]any, _ string) { delete(c, "iat") }},
		{name: "iat zero", refuse: true, edit: func(c map[string]any, _ string) { c["iat"] = 0 }},
		{name: "iat in the future", refuse: true, edit: func(c map[string]any, _ string) {
			c["iat"] = time.Now().Add(10 * time.Minute).Unix()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const clientID = "dancecard-client"
			srv := oauthtest.NewServer(t, oauthtest.WithClient(clientID, "client-secret"),
				oauthtest.WithKnobs(oauthtest.Knobs{IDTokenClaims: func(c map[string]any) { tt.edit(c, clientID) }}))
			_, prof, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, srv.OIDCProvider("sso"), nil)
			if tt.refuse {
				wantProviderError(t, err, "id_token", "", 0)
				return
			}
			if err != nil || prof != octo(srv) {
				t.Fatalf("dance = %+v, %v; want %+v", prof, err, octo(srv))
			}
		})
	}
}

// incompleteIDToken leaves the profile details out of the ID token, so that
// the client asks the userinfo endpoint for them.
func incompleteIDToken(c map[string]any) {
	for _, k := range []string{"name", "picture", "email", "email_verified"} {
		delete(c, k)
	}
}

// TestOIDCUserinfoSubject: a userinfo response about another subject than
// the ID token's is refused (OpenID Connect Core 5.3.2), never merged or
// ignored; one that names no subject is not used, and the login goes on
// with what the ID token says.
func TestOIDCUserinfoSubject(t *testing.T) {
	t.Parallel()
	t.Run("another sub", func(t *testing.T) {
		t.Parallel()
		srv := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{IDTokenClaims: incompleteIDToken, UserinfoSub: "666"}))
		_, prof, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, srv.OIDCProvider("sso"), nil)
		wantProviderError(t, err, "profile", "", 0)
		if prof != (oauth.Profile{}) || srv.Counts().Userinfo != 1 {
			t.Fatalf("profile = %+v after %d userinfo calls", prof, srv.Counts().Userinfo)
		}
	})
	t.Run("no sub", func(t *testing.T) {
		t.Parallel()
		srv := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{IDTokenClaims: incompleteIDToken, UserinfoMissingID: true}))
		_, prof, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, srv.OIDCProvider("sso"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := (oauth.Profile{ID: "42", Username: "octo", ProfileURL: "https://example.com/octo"}); prof != want {
			t.Fatalf("profile = %+v, want %+v (nothing from userinfo)", prof, want)
		}
	})
	t.Run("another sub, read by a ProfileFunc", func(t *testing.T) {
		t.Parallel()
		srv := oauthtest.NewServer(t, oauthtest.WithKnobs(oauthtest.Knobs{UserinfoSub: "666"}))
		p := srv.OIDCProvider("sso")
		var getErr error
		p.ProfileFunc = func(raw []byte, get oauth.Getter) (oauth.Profile, error) {
			if _, getErr = get(srv.UserinfoURL()); getErr != nil {
				return oauth.Profile{}, getErr
			}
			return oauth.MapJSON(raw, oauth.ProfileMap{ID: "sub"})
		}
		_, _, err := dance(t, oauth.NewClient(oauth.ClientOptions{}), srv, p, nil)
		wantProviderError(t, err, "profile", "", 0)
		if pe := (*oauth.ProviderError)(nil); !errors.As(getErr, &pe) {
			t.Fatalf("get(userinfo) = %v, want a ProviderError", getErr)
		}
	})
}
