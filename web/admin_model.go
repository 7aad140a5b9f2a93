package web

import (
	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
)

// The admin pages render the admin package's rows as they are: those rows
// are already shaped for display (no tokens, no hashes), and copying them
// field by field into look-alike types would only add code to keep in step.

// AdminUsers is the users list page.
type AdminUsers struct {
	Q, Sort, Dir string
	MFA          string // "", "on" or "off": the two-step verification filter
	Error        string // a bad filter, shown above the empty table
	Rows         []admin.UserRow
	NextURL      string // "" on the last page
	FirstURL     string // "" on the first page
}

// AdminUser is one user's page.
type AdminUser struct {
	User        accounts.User
	Self        bool // the administrator looking at their own account
	MFA         MFASection
	Connections []admin.ConnectionRow
	Sessions    []Session
	Events      []admin.EventRow
	Back        string // this page's own URL, where actions return
}

// AdminConnections is the connections list page.
type AdminConnections struct {
	Provider, Status, Q, Sort, Dir string
	Providers                      []string // the filter's choices
	Statuses                       []string
	Error                          string
	Rows                           []admin.ConnectionRow
	NextURL, FirstURL, CSVURL      string
	Back                           string
}

// AdminEvents is the event log page.
type AdminEvents struct {
	Kind, UserID, Provider, Since, Until string
	Kinds                                []string
	Error                                string
	Rows                                 []admin.EventRow
	NextURL, FirstURL                    string
}
