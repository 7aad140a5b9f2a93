package web

import "github.com/dancecard/dancecard/internal/i18n"

// The profile is four pages, one per section, each with the same section
// navigation: Connections (/profile, first, since linking accounts is what
// Dancecard is for), Security, API tokens and Account. Own pages keep each
// one short, let each fetch only what it shows in one round trip, and give
// every form's redirect a page of its own to land on.

// ProfileSection is one page of the profile. Name and Lede are message
// ids, translated where the page is drawn.
type ProfileSection struct {
	ID, Path, Name, Lede string
}

// The profile's sections, in the order the navigation lists them.
var (
	SectionConnections = ProfileSection{"connections", "/profile",
		i18n.ID("profile.section.connections"), i18n.ID("profile.section.connections_lede")}
	SectionSecurity = ProfileSection{"security", "/profile/security",
		i18n.ID("profile.section.security"), i18n.ID("profile.section.security_lede")}
	SectionTokens = ProfileSection{"tokens", "/profile/tokens",
		i18n.ID("profile.section.tokens"), i18n.ID("profile.section.tokens_lede")}
	SectionAccount = ProfileSection{"account", "/profile/account",
		i18n.ID("profile.section.account"), i18n.ID("profile.section.account_lede")}
	profileSections = []ProfileSection{SectionConnections, SectionSecurity, SectionTokens, SectionAccount}
)

// NameForm re-renders the display-name form on the account page.
type NameForm struct {
	Name, Error string
}

// ConnectionGroup is one provider on the connections page: its accounts,
// primary first, and a button to link another.
type ConnectionGroup struct {
	Provider    ProviderButton
	Connections []Connection
	Enabled     bool // the provider is still offered: connecting another works
}

// connectionGroups groups cs (ordered by provider, primary first) by
// provider, in the order the server offers providers; accounts at a
// provider no longer offered come last.
func connectionGroups(cs []Connection, providers []ProviderButton) []ConnectionGroup {
	var out []ConnectionGroup
	at := map[string]int{}
	for _, pr := range providers {
		for _, c := range cs {
			if c.Provider != pr.ID {
				continue
			}
			if _, ok := at[pr.ID]; !ok {
				at[pr.ID] = len(out)
				out = append(out, ConnectionGroup{Provider: pr, Enabled: true})
			}
			out[at[pr.ID]].Connections = append(out[at[pr.ID]].Connections, c)
		}
	}
	for _, c := range cs {
		i, ok := at[c.Provider]
		if !ok {
			i = len(out)
			at[c.Provider] = i
			out = append(out, ConnectionGroup{Provider: ProviderButton{ID: c.Provider, Name: c.ProviderName,
				Mark: c.ProviderMark, Colour: c.ProviderColour}})
		}
		if !out[i].Enabled {
			out[i].Connections = append(out[i].Connections, c)
		}
	}
	return out
}

// unlinked are the providers the user has no account at yet.
func unlinked(cs []Connection, providers []ProviderButton) []ProviderButton {
	var out []ProviderButton
	for _, pr := range providers {
		linked := false
		for _, c := range cs {
			linked = linked || c.Provider == pr.ID
		}
		if !linked {
			out = append(out, pr)
		}
	}
	return out
}
