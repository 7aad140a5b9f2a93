package web

// DevConsentForm is the built-in dev provider's consent page: which app asks
// for what, the identities to pick from, and the failures one can ask for.
type DevConsentForm struct {
	Protocol    string // "OAuth 2" or "OAuth 1.0a"
	App         string // the name of the app that asks, e.g. "Dancecard"
	ClientID    string // the client id, or the OAuth 1 consumer key, of the app that asks
	RedirectURI string // where the answer goes
	Scopes      []string
	Action      string // the authorize URL, query included, the form posts back to

	Identities    []DevIdentity // the presets
	Identity      string        // the chosen preset's ID, or "custom"
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

// DevChoice is one radio button: a value, its label and a line of help.
type DevChoice struct {
	Value, Label, Help string
}
