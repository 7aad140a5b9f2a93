// Package web holds Dancecard's HTML: templ components for every browser page
// and the embedded static assets they link to. It renders what it is given and
// decides nothing; handlers in internal/httpserver fill the view models below.
package web

import "time"

// Page is what every page's layout needs.
type Page struct {
	Title        string
	CSRFToken    string // rendered as <meta name="csrf-token"> on every page and as a hidden csrf_token input in every POST form
	User         *User  // nil when anonymous
	Flashes      []Flash
	Dev          bool   // dev mode: a visible banner on every page
	AssetVersion string // appended as ?v= to static URLs for cache busting
	SignupClosed bool   // local sign-up is off: no "Sign up" link in the navigation
	Passkeys     bool   // passkeys work on this server (base_url has a host name)
	Path         string // the page's own path and query, where the language form returns to
}

// User is the signed-in user as the layout shows them.
type User struct {
	ID      int64
	Email   string
	IsAdmin bool
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "success" | "error" | "info"
	Message string
}

// ProviderButton is one "Log in with X" form on the login page, or one
// "Connect X" form on the profile page.
type ProviderButton struct {
	ID, Name     string
	Mark, Colour string // the preset's mark and brand colour; "" for a custom provider (see Brand)
}

// Brand is how the button shows its provider.
func (b ProviderButton) Brand() Brand { return Brand(b) }

// SignupForm re-renders the sign-up form with what the user typed and what was wrong.
type SignupForm struct {
	Email  string
	Errors map[string]string // field name -> message: "email", "password", "password_confirm"
	Error  string            // form-level
	// EmailTaken: an account already uses Email. The email error then
	// offers to log in or reset the password instead.
	EmailTaken bool
}

// LoginForm re-renders the login form and lists the providers one can log in with.
type LoginForm struct {
	Email, Next, Error string
	Providers          []ProviderButton
	SignupEnabled      bool
	// Unverified: the password was right, but the address is not confirmed
	// and the server requires it. The page explains and offers a new link.
	Unverified bool
	// Locked: the account saw many failed log-ins from many places, and
	// this browser is not one it was used in before. The page offers a
	// mailed link that lets this browser in.
	Locked bool
}

// Session is one of the user's login sessions, as listed on the profile page.
type Session struct {
	ID                    string
	CreatedAt, LastSeenAt time.Time
	UserAgent, IP         string
	Current               bool
}

// PasswordForm re-renders the change-password form on the profile page.
type PasswordForm struct {
	Errors map[string]string // "current_password", "new_password", "new_password_confirm"
	Error  string
}

// EmailForm re-renders the change-email form on the profile page.
type EmailForm struct {
	Email, Error string
}

// DeleteForm re-renders the delete-account form on the profile page.
type DeleteForm struct {
	Error string
}

// Profile is everything the profile page shows about the signed-in user.
type Profile struct {
	Email        string // "" for an account made with a linked account that gave none
	CreatedAt    time.Time
	HasPassword  bool
	Sessions     []Session
	PasswordForm PasswordForm
	MFA          MFASection // two-step verification, right after the password
	Passkeys     []Passkey  // right after two-step verification

	EmailVerified bool
	EmailForm     EmailForm // change (or, when Email is "", add) the address: POST /profile/email, field "email"
	PendingEmail  string    // a change waiting for confirmation at this address ("" none)
	DeleteForm    DeleteForm
	NameForm      NameForm // the name the account goes by: POST /profile/name, field "name"

	Connections      []Connection
	ConnectProviders []ProviderButton // every enabled provider the user can connect

	IsAdmin   bool // may create admin-scoped tokens
	Tokens    []APIToken
	TokenForm TokenForm
	NewTokens []NewToken // just created: shown at the top of this one page view
}

// NewToken is a token just created, with its secret, which the profile
// shows once, at the top, after the create form redirects there.
type NewToken struct {
	Name, Scope, Secret string
	ExpiresAt           *time.Time
}

// APIToken is a personal access token as the profile lists it: never the secret.
type APIToken struct {
	ID, Name, Scope, Prefix string
	CreatedAt               time.Time
	ExpiresAt, LastUsedAt   *time.Time
}

// TokenForm is the create-token form's state after it was refused: its
// errors and what was chosen, to choose again.
type TokenForm struct {
	Errors        map[string]string // "name", "scope", "expires_at"
	Name          string
	Scope         string // "" picks the default, proxy
	ExpiresInDays string // "" picks the default, 90
}

// Connection is one linked provider account as the profile page shows it. It never carries tokens.
type Connection struct {
	ID                                           string
	Provider                                     string // provider id, e.g. "github"
	ProviderName                                 string // display name, e.g. "GitHub"
	Username, Name, ProfileURL, AvatarURL, Email string
	Scopes                                       []string
	Status                                       string // "active" | "expiring" | "needs_reauth" | "revoked"
	Primary                                      bool   // first (highest-ranked) of several accounts at one provider
	CreatedAt                                    time.Time
	LastUsedAt                                   *time.Time // nil: never used for an API call
	ProviderMark, ProviderColour                 string     // as ProviderButton's
	CheckedAt                                    *time.Time // last "Check connection"; nil never
	LastError                                    string     // a links Problem code ("token_refused"), "" none
	LastErrorDetail                              string     // the provider's detail: "HTTP 500 server_error"
	LastErrorAt                                  *time.Time
}

// Brand is how the connection shows its provider.
func (c Connection) Brand() Brand {
	return Brand{ID: c.Provider, Name: c.ProviderName, Mark: c.ProviderMark, Colour: c.ProviderColour}
}
