package web

import (
	"net/url"
	"time"

	"github.com/a-h/templ"
)

// Passkey is one row of the profile's "Passkeys" list.
type Passkey struct {
	ID         string
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	Synced     bool // backed up by a password manager or a phone's cloud
}

func passkeyDeleteURL(id string) templ.SafeURL {
	return templ.URL("/profile/passkeys/" + url.PathEscape(id) + "/delete")
}

func passkeyRenameURL(id string) templ.SafeURL {
	return templ.URL("/profile/passkeys/" + url.PathEscape(id) + "/rename")
}
