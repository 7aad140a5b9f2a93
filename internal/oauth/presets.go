package oauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Preset is a built-in provider: everything but the credentials. Presets are
// data; the few quirks that field mapping cannot express (a second request
// for the email, an avatar URL built from a hash) live in a ProfileFunc next
// to the endpoints they belong to.
type Preset struct {
	Name     string
	Protocol Protocol
	// BaseURL and Tenant say whether the preset reads base_url (a
	// self-hosted instance or a region) and tenant (Microsoft), so that the
	// catalogue can refuse a setting that would otherwise be silently
	// ignored and demand one the endpoints cannot do without.
	BaseURL Need
	Tenant  Need
	// Colour is the brand's colour, as #rrggbb, and Mark names the mark the
	// web package draws for the provider (a simple monochrome glyph of its
	// own, not the brand's logo); pages put one on the other.
	Colour string
	Mark   string
	// Provider builds the provider from the per-install settings. It is a
	// function rather than a value because self-hosted endpoints, and the
	// closures that fetch a second profile URL, depend on base_url. Its
	// errors are *SettingError.
	Provider func(s PresetSettings) (Provider, error)
}

// SettingError is a preset refusing its base_url or tenant.
type SettingError struct {
	Setting string // "base_url" or "tenant"
	Problem string // "is required: ...", "must be ..."
}

func (e *SettingError) Error() string { return e.Setting + ": " + e.Problem }

// PresetSettings are the per-install settings a preset's endpoints depend on.
type PresetSettings struct {
	BaseURL string // base_url: the self-hosted instance (GitHub Enterprise, GitLab, JIRA, Okta, ...)
	Tenant  string // tenant: Microsoft's directory; "common" when empty
}

// Need says whether a preset uses a setting.
type Need uint8

// How a preset uses base_url or tenant.
const (
	NeedNone     Need = iota // fixed endpoints: the setting is refused
	NeedOptional             // a public default, overridable (GitHub Enterprise, self-hosted GitLab)
	NeedRequired             // no public default (JIRA, Okta)
)

// Presets returns the built-in providers by preset name. The map is built on
// each call, so callers may keep or change it without affecting anyone else.
func Presets() map[string]Preset {
	return map[string]Preset{
		// Code forges (presets_forges.go).
		"github":    {Name: "GitHub", Protocol: OAuth2, BaseURL: NeedOptional, Provider: github, Colour: "#24292f", Mark: "github"},
		"gitlab":    {Name: "GitLab", Protocol: OAuth2, BaseURL: NeedOptional, Provider: gitlab, Colour: "#c6421a", Mark: "gitlab"},
		"gitea":     {Name: "Gitea", Protocol: OAuth2, BaseURL: NeedOptional, Provider: gitea, Colour: "#4c7a1f", Mark: "gitea"},
		"bitbucket": {Name: "Bitbucket", Protocol: OAuth2, Provider: bitbucket, Colour: "#0052cc", Mark: "bitbucket"},
		// Identity platforms (presets_identity.go).
		"google":    {Name: "Google", Protocol: OIDC, Provider: google, Colour: "#1a73e8", Mark: "google"},
		"azure":     {Name: "Microsoft", Protocol: OAuth2, Tenant: NeedOptional, Provider: microsoft, Colour: "#0067b8", Mark: "microsoft"},
		"microsoft": {Name: "Microsoft", Protocol: OAuth2, Tenant: NeedOptional, Provider: microsoft, Colour: "#0067b8", Mark: "microsoft"},
		"okta":      {Name: "Okta", Protocol: OIDC, BaseURL: NeedRequired, Provider: okta, Colour: "#00297a", Mark: "okta"},
		"slack":     {Name: "Slack", Protocol: OIDC, Provider: slack, Colour: "#4a154b", Mark: "slack"},
		"linkedin":  {Name: "LinkedIn", Protocol: OAuth2, Provider: linkedin, Colour: "#0a66c2", Mark: "linkedin"},
		"twitch":    {Name: "Twitch", Protocol: OIDC, Provider: twitch, Colour: "#772ce8", Mark: "twitch"},
		// Atlassian (presets_atlassian.go).
		"jira":      {Name: "JIRA", Protocol: OAuth1, BaseURL: NeedRequired, Provider: jira, Colour: "#0052cc", Mark: "jira"},
		"atlassian": {Name: "Atlassian", Protocol: OAuth2, Provider: atlassian, Colour: "#0052cc", Mark: "atlassian"},
		// Social networks (presets_social.go).
		"facebook": {Name: "Facebook", Protocol: OAuth2, Provider: facebook, Colour: "#0866ff", Mark: "facebook"},
		"twitter":  {Name: "Twitter", Protocol: OAuth1, Provider: twitter, Colour: "#1a8cd8", Mark: "twitter"},
		"x":        {Name: "X", Protocol: OAuth2, Provider: xcom, Colour: "#000000", Mark: "x"},
		"discord":  {Name: "Discord", Protocol: OAuth2, Provider: discord, Colour: "#5865f2", Mark: "discord"},
		"reddit":   {Name: "Reddit", Protocol: OAuth2, Provider: reddit, Colour: "#d93a00", Mark: "reddit"},
		"meetup":   {Name: "Meetup", Protocol: OAuth2, Provider: meetup, Colour: "#e0393e", Mark: "meetup"},
		// Services (presets_services.go).
		"dropbox":      {Name: "Dropbox", Protocol: OAuth2, Provider: dropbox, Colour: "#0061fe", Mark: "dropbox"},
		"nylas":        {Name: "Nylas", Protocol: OAuth2, BaseURL: NeedOptional, Provider: nylas, Colour: "#1861e5", Mark: "nylas"},
		"spotify":      {Name: "Spotify", Protocol: OAuth2, Provider: spotify, Colour: "#1a7f45", Mark: "spotify"},
		"strava":       {Name: "Strava", Protocol: OAuth2, Provider: strava, Colour: "#e34402", Mark: "strava"},
		"foursquare":   {Name: "Foursquare", Protocol: OAuth2, Provider: foursquare, Colour: "#d6245d", Mark: "foursquare"},
		"digitalocean": {Name: "DigitalOcean", Protocol: OAuth2, Provider: digitalocean, Colour: "#0069ff", Mark: "digitalocean"},
		// Chinese networks (presets_china.go).
		"douban": {Name: "Douban", Protocol: OAuth2, Provider: douban, Colour: "#007722", Mark: "douban"},
		"weibo":  {Name: "Weibo", Protocol: OAuth2, Provider: weibo, Colour: "#d52c2b", Mark: "weibo"},
	}
}

// baseOr returns the configured base URL, or def when none is set, without a
// trailing slash so that paths can be appended. The catalogue has already
// checked the URL's shape; this check keeps a preset safe when called
// directly.
func baseOr(base, def string) (string, error) {
	if base == "" {
		return def, nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", &SettingError{"base_url", fmt.Sprintf("must be an absolute http(s) URL without query or fragment, got %q", base)}
	}
	return strings.TrimRight(base, "/"), nil
}

// decodeAny parses any JSON value keeping numbers exact; DecodeJSON insists
// on an object, but some providers answer with a bare list (GitHub's emails).
func decodeAny(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &ProviderError{Step: "profile", Description: "response is not JSON: " + err.Error()}
	}
	return v, nil
}

// emailKeys names the fields of one entry in a provider's list of emails.
type emailKeys struct{ list, email, verified, primary string }

// pickEmail chooses the email to record from a provider's list of the
// account's addresses. The public email, when the profile has one, is kept
// and takes its verified flag from the list (an address missing from the list
// is not trusted); otherwise the primary address is used, verified or not,
// with its flag. Only the list says what is verified, which is what
// link_by_verified_email relies on.
func pickEmail(raw []byte, k emailKeys, public string) (email string, verified bool) {
	doc, err := decodeAny(raw)
	if err != nil {
		return public, false
	}
	list, _ := doc.([]any)
	if k.list != "" {
		list, _ = Lookup(doc, k.list).([]any)
	}
	for _, e := range list {
		addr := LookupString(e, k.email)
		if public != "" && strings.EqualFold(addr, public) {
			return public, LookupBool(e, k.verified)
		}
		if public == "" && LookupBool(e, k.primary) {
			return addr, LookupBool(e, k.verified)
		}
	}
	return public, false
}

// fullName joins a given and a family name, either of which may be missing.
func fullName(first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}

// oidcClaims maps the standard OpenID Connect claims (ID token or userinfo)
// to a profile.
func oidcClaims() ProfileMap {
	return ProfileMap{
		ID: "sub", Username: "preferred_username", Name: "name", Email: "email",
		EmailVerified: "email_verified", AvatarURL: "picture", ProfileURL: "profile",
	}
}
