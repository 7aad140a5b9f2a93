package web

// The view models of the pages around an account's email address and
// password: confirming an address, resetting a forgotten password, confirming
// one's identity before a sensitive action, and lifting the log-in limit.

// VerifyEmailPage confirms an email address from a mailed link: GET shows it,
// POST /email/verify does it, so that a mail scanner that follows links does
// not use the link up.
type VerifyEmailPage struct {
	Token  string // hidden field "token"
	Email  string // the address being confirmed
	Change bool   // an email change (the account's address becomes Email) rather than a first verification
	Error  string // link unknown, used or expired: the page says so and offers a way forward instead of the form
}

// ForgotPasswordForm is GET,POST /password/forgot (field "email").
type ForgotPasswordForm struct {
	Email, Error string
	// Sent shows "If an account uses that address, we sent a link to it",
	// the same whether or not one does, so the page tells no one which
	// addresses have accounts. The email stays in the field.
	Sent bool
}

// ResetPasswordForm is GET /password/reset?token=T and POST /password/reset
// (fields "token", "password", "password_confirm").
type ResetPasswordForm struct {
	Token   string
	Email   string            // the account's address, shown and offered to password managers
	Errors  map[string]string // "password", "password_confirm"
	Error   string            // form-level
	Invalid bool              // link unknown, used or expired: a message and a link to /password/forgot, no form
}

// ReauthForm is GET,POST /reauth: sensitive actions need a recent
// authentication.
type ReauthForm struct {
	Next        string           // hidden field "next": where the confirmed action continues
	Email       string           // shown, not editable
	HasPassword bool             // show the password field (name "password") and button "Confirm"
	Providers   []ProviderButton // the user's own linked providers: one POST form each to /auth/{ID}/reauth
	HasTOTP     bool             // also a form with a code from the authenticator app (field "code")
	HasPasskey  bool             // also the passkey button: a passkey log-in starts a fresh session
	Error       string
}

// CheckMailPage says a mail is on its way (sign-up with required
// verification, a resent link).
type CheckMailPage struct {
	Email   string // where it went; "" leaves the address out
	Message string // "" for the usual words
}

// UnlockPage is GET /login/unlock?token=T: a button (POST /login/unlock,
// hidden "token") that lifts the log-in limit for this browser.
type UnlockPage struct {
	Token string
	Error string // link unknown, used or expired: said instead of the form
}
