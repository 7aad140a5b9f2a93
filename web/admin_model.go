package web

import (
	"time"

	"github.com/dancecard/dancecard/internal/accounts"
	"github.com/dancecard/dancecard/internal/admin"
)

// The admin pages render the admin package's rows as they are: those rows
// are already shaped for display (no tokens, no hashes), and copying them
// field by field into look-alike types would only add code to keep in step.

// ProviderNames maps provider ids to the names people know them by
// ("devhub" → "DevHub"); a provider no longer configured keeps its id.
type ProviderNames map[string]string

// Of is the display name of provider id.
func (n ProviderNames) Of(id string) string {
	if name := n[id]; name != "" {
		return name
	}
	return id
}

// Pager is where a page sits in its list: how many rows the list holds and
// the links to the first, previous and next pages ("" where there is none).
type Pager struct {
	Total                      admin.Total
	Kind                       string // what the rows are: "users", "connections", "events", "deliveries", "mail"
	FirstURL, PrevURL, NextURL string
}

// AdminUsers is the users list page.
type AdminUsers struct {
	Q, Sort, Dir               string
	Role, State, Verified, MFA string // the filters: "" is any
	Error                      string // a bad filter, shown above the empty table
	Rows                       []admin.UserRow
	Pager                      Pager
}

// AdminUser is one user's page.
type AdminUser struct {
	User        accounts.User
	Self        bool // the administrator looking at their own account
	LastLoginAt *time.Time
	MFA         MFASection
	Connections []admin.ConnectionRow
	Sessions    []Session
	Events      []admin.EventRow
	EventsTotal admin.Total
	Names       ProviderNames
	Back        string // this page's own URL, where actions return
}

// AdminConnections is the connections list page.
type AdminConnections struct {
	Provider, Status, Q, Sort, Dir string
	Providers                      []string // the filter's choices
	Statuses                       []string
	Names                          ProviderNames
	Error                          string
	Rows                           []admin.ConnectionRow
	Pager                          Pager
	CSVURL                         string
	Back                           string
}

// AdminEvents is the event log page.
type AdminEvents struct {
	Kind, UserID, Provider, Since, Until string
	UserEmail                            string // the account of the user_id filter, when it has one
	Kinds                                []string
	Providers                            []string // the provider filter's choices
	Names                                ProviderNames
	Error                                string
	Rows                                 []admin.EventRow
	Pager                                Pager
}

// AdminOverview is what the console's front page shows.
type AdminOverview struct {
	Stats admin.Stats
	Names ProviderNames
}
