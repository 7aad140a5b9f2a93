package web

import "strings"

// DevConsentForm is the built-in dev provider's consent page: which app asks
// for what, the identities to pick from, and the failures one can ask for.
type DevConsentForm struct {
	Provider    string // the name the app knows this provider by: "DevHub" (OAuth 2) or "DevBird" (OAuth 1.0a)
	Protocol    string // "OAuth 2" or "OAuth 1.0a"
	App         string // the name of the app that asks, e.g. "Dancecard"
	ClientID    string // the client id, or the OAuth 1 consumer key, of the app that asks
	RedirectURI string // where the answer goes
	Scopes      []string
	Action      string // the authorize URL, query included, the form posts back to

	Identities    []DevIdentity // the presets
	Identity      string        // the chosen preset's ID, or "custom"
	Hint          string        // the account the app asked for (login_hint, sent by a reconnect); "" none
	Custom        DevIdentity   // the made-up identity, as typed
	EmailVerified bool
	Failures      []DevChoice
	Failure       string // the chosen failure's Value
	Error         string // form-level: what was wrong with the last POST
}

// DevIdentity is an account at the dev provider.
type DevIdentity struct {
	ID, Login, Name, Email string
}

// DevChoice is one radio button: a value, and the message ids of its label
// and its line of help.
type DevChoice struct {
	Value, Label, Help string
}

// devBrand is the dev provider's mark on its own pages: a custom
// provider's, the same as the app shows for it (its config id is its name
// in lower case).
func devBrand(name string) Brand {
	return Brand{ID: strings.ToLower(name), Name: name}
}
