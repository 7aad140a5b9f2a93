// Package links owns connections (a local user linked to a provider account)
// and every flow that touches them: starting and finishing dances, connect,
// log in with a provider, disconnect, token sealing and key rotation. Each
// change and the event reporting it are written in one transaction.
package links

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/oauth"
)

// Errors the HTTP layer maps to messages.
var (
	ErrUnknownProvider     = errors.New("links: unknown or disabled provider")
	ErrBadScope            = errors.New("links: invalid scope requested")
	ErrStateUnknown        = errors.New("links: unknown, used or tampered dance state")
	ErrStateExpired        = errors.New("links: dance expired")
	ErrWrongBrowser        = errors.New("links: dance started in another browser or session")
	ErrLinkedToOtherUser   = errors.New("links: provider account linked to another user")
	ErrNotLinked           = errors.New("links: provider account not linked to any user")
	ErrEmailBelongsToOther = errors.New("links: the provider's email belongs to an existing account")
	ErrLastLoginMethod     = errors.New("links: would remove the last way to log in")
	ErrNotFound            = errors.New("links: connection not found")
	ErrVetoed              = errors.New("links: an authorized hook declined to store the token")
	ErrNotYourAccount      = errors.New("links: provider account is not one linked to this user")
)

// danceTTL bounds how long a started dance may be finished.
const danceTTL = 10 * time.Minute

// Intent says what a dance is for.
type Intent string

// The intents.
const (
	IntentLogin   Intent = "login"
	IntentConnect Intent = "connect"
	// IntentReauth proves again who a logged-in user is: it must come back
	// as a provider account already linked to that user.
	IntentReauth Intent = "reauth"
)

// Catalog is the set of enabled providers.
type Catalog interface {
	Get(id string) (*oauth.Provider, bool)
	CallbackURL(id string) string
}

// Client speaks the OAuth protocols to providers: the dances' requests,
// revocation, refresh, API calls and userinfo (oauth.Client implements it;
// tests wrap it).
type Client interface {
	Begin(ctx context.Context, p *oauth.Provider, callbackURL string, extraScopes []string) (string, oauth.Pending, error)
	Finish(ctx context.Context, p *oauth.Provider, callbackURL string, pending oauth.Pending, params url.Values) (oauth.Token, oauth.Profile, error)
	Revoke(ctx context.Context, p *oauth.Provider, t oauth.Token) error
	Refresh(ctx context.Context, p *oauth.Provider, t oauth.Token) (oauth.Token, error)
	CallAPI(ctx context.Context, p *oauth.Provider, t oauth.Token, r oauth.APIRequest) (*http.Response, error)
	UserinfoURL(ctx context.Context, p *oauth.Provider) (string, error)
}

// Signup says who may be created by logging in with a provider.
type Signup struct {
	ViaProvider         bool // an unlinked provider account creates a user
	LinkByVerifiedEmail bool // ... or attaches to the user with its verified email
}

// Options are the service's dependencies.
type Options struct {
	DB       *pgxpool.Pool
	Accounts *accounts.Service
	Catalog  Catalog
	Client   Client
	Keys     *Keyring
	Signup   Signup
	Hooks    Hooks
	Logger   *slog.Logger
	// OnRefresh, when set, hears of every refresh asked of a provider, with
	// its outcome: "ok", "refused" (invalid_grant) or "error". For metrics.
	OnRefresh func(provider, outcome string)
	// SecondFactorAfterLogin asks a user with a second factor for it after
	// a provider log-in too (mfa.provider_logins: require).
	SecondFactorAfterLogin bool
}

// Service is the links domain. It is safe for concurrent use and keeps no
// state in memory that another replica would need: any replica can finish a
// dance another started. What it does keep is local and disposable: the
// refresh flights in progress, and last-used times waiting to be flushed.
type Service struct {
	Options
	flights singleflight.Group
	usage   usage
}

// New returns a Service.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{Options: opts}
}
