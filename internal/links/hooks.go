package links

import (
	"context"

	"github.com/dancecard/dancecard/internal/oauth"
)

// Hooks let a program that embeds Dancecard take part in dances, with the
// semantics of Flask-Dance's signals. Every hook is optional and runs
// synchronously inside the request.
type Hooks struct {
	// BeforeLogin sees the authorization URL before the browser is sent
	// there (oauth_before_login); an error aborts the dance.
	BeforeLogin func(ctx context.Context, p *oauth.Provider, intent Intent, authURL string) error
	// Authorized runs after the provider answered and before anything is
	// stored (oauth_authorized). It may veto storing the token, or replace
	// where the browser goes next.
	Authorized func(ctx context.Context, a Authorized) Decision
	// Error sees every failed dance (oauth_error).
	Error func(ctx context.Context, p *oauth.Provider, intent Intent, err error)
}

// Authorized is what the Authorized hook sees. The token is included, as in
// Flask-Dance, so an embedding program can call the provider at once.
type Authorized struct {
	Provider *oauth.Provider
	Intent   Intent
	UserID   int64 // the connecting user; 0 when logging in
	Token    oauth.Token
	Profile  oauth.Profile
}

// Decision is the Authorized hook's answer. The zero Decision stores the
// token and continues as usual.
type Decision struct {
	Veto     bool   // do not store anything; the dance ends with Message
	Message  string // shown to the user (with Veto, or as an extra note)
	Redirect string // a same-site path to go to instead of the default
}
