package web

import (
	"context"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"

	"github.com/dancecard/dancecard/internal/i18n"
)

// maxDeviceLen keeps long user-agent strings from stretching the sessions table.
const maxDeviceLen = 60

// pageTitle is the document title: the page's own title, then the product name.
func pageTitle(title string) string {
	if title == "" {
		return "Dancecard"
	}
	return title + " · Dancecard"
}

// asset returns the URL of a static file with the cache-busting version appended.
func asset(path, version string) string {
	if version == "" {
		return path
	}
	return path + "?v=" + url.QueryEscape(version)
}

// flashKind maps a flash kind to one of the three styles, so a typo shows as info
// rather than as an unstyled box.
func flashKind(kind string) string {
	switch kind {
	case "success", "error":
		return kind
	}
	return "info"
}

// flashRole makes errors interrupt screen readers and everything else wait politely.
func flashRole(kind string) string {
	if flashKind(kind) == "error" {
		return "alert"
	}
	return "status"
}

// providerLoginURL is the path that starts a login dance with the provider.
func providerLoginURL(id string) templ.SafeURL {
	return templ.URL("/auth/" + url.PathEscape(id) + "/login")
}

// providerConnectURL is the path that starts a dance linking another account
// at the provider to the signed-in user.
func providerConnectURL(id string) templ.SafeURL {
	return templ.URL("/auth/" + url.PathEscape(id) + "/connect")
}

// connectionDeleteURL is the path that disconnects one linked account.
func connectionDeleteURL(id string) templ.SafeURL {
	return templ.URL("/connections/" + url.PathEscape(id) + "/delete")
}

// sessionDeleteURL is the path that ends one session.
func sessionDeleteURL(id string) templ.SafeURL {
	return templ.URL("/profile/sessions/" + url.PathEscape(id) + "/delete")
}

// providerInitial is the letter shown in a provider's badge.
func providerInitial(name string) string {
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(name))
	if r == utf8.RuneError {
		return "?"
	}
	return strings.ToUpper(string(r))
}

// providerTint picks one of six badge colours from the provider id, so each
// provider keeps its colour from page to page without any inline style.
func providerTint(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return "provider-mark tint-" + strconv.Itoa(int(h.Sum32()%6))
}

// connectionStatusClass is the style of a connection's status badge. The
// text (connectionStatusText) says it all, so the colour is only a second
// hint; an unknown status reads as such rather than as healthy. "expiring"
// is a token without a refresh token that expires within the hour or has
// expired already: the "expired" filter is this status.
func connectionStatusClass(status string) string {
	switch status {
	case "active":
		return "status status-ok"
	case "expiring":
		return "status status-warn"
	case "needs_reauth":
		return "status status-bad"
	}
	return "status status-off"
}

// connectionStatusText is the name of a connection status in the language
// of ctx, one name per status everywhere.
func connectionStatusText(ctx context.Context, status string) string {
	switch status {
	case "active":
		return t(ctx, "status.active")
	case "expiring":
		return t(ctx, "status.expiring")
	case "needs_reauth":
		return t(ctx, "status.needs_reauth")
	case "revoked":
		return t(ctx, "status.revoked")
	}
	return t(ctx, "status.unknown")
}

// connectionProblem says, in the language of ctx, why a connection that
// is not active wants reconnecting.
func connectionProblem(ctx context.Context, c Connection) string {
	d := i18n.Data{"Provider": c.ProviderName}
	switch c.Status {
	case "expiring":
		return t(ctx, "profile.conn.problem_expiring", d)
	case "revoked":
		return t(ctx, "profile.conn.problem_revoked", d)
	}
	return t(ctx, "profile.conn.problem_expired", d)
}

// connectionLabel names one linked account for buttons that act on it, such
// as "GitHub account @octo", so several accounts at one provider stay apart.
func connectionLabel(ctx context.Context, c Connection) string {
	label := t(ctx, "profile.conn.provider_account", i18n.Data{"Provider": c.ProviderName})
	switch {
	case c.Username != "":
		return label + " @" + c.Username
	case c.Name != "":
		return label + " " + c.Name
	case c.Email != "":
		return label + " " + c.Email
	}
	return label
}

// webURL passes a provider-supplied address on only if it is an http(s) URL
// or a path on this site; anything else (javascript:, data:, //host) yields
// "" and the page shows no link or image for it. templ sanitises href and
// src again on top.
func webURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "/") {
		if strings.HasPrefix(raw, "//") || strings.HasPrefix(raw, "/\\") {
			return ""
		}
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return raw
}

// scopesFieldID is the id of the extra-scopes input for one provider.
func scopesFieldID(providerID string) string {
	return "scopes-" + url.PathEscape(providerID)
}

// shortDevice names the browser and system of a user-agent string ("Chrome
// on Linux"), so a person can tell their sessions apart; strings it cannot
// read are trimmed to fit a table cell.
func shortDevice(ua string) string { return deviceName(context.Background(), ua) }

// deviceName is shortDevice in the language of ctx.
func deviceName(ctx context.Context, ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return t(ctx, "device.unknown")
	}
	browser, system := firstMatch(ua, browserNames), firstMatch(ua, systemNames)
	switch {
	case browser != "" && system != "":
		return t(ctx, "device.browser_on_system", i18n.Data{"Browser": browser, "System": system})
	case browser != "":
		return browser
	}
	if utf8.RuneCountInString(ua) <= maxDeviceLen {
		return ua
	}
	r := []rune(ua)
	return strings.TrimSpace(string(r[:maxDeviceLen-1])) + "…"
}

// browserNames and systemNames are checked in order: Edge and Opera claim
// to be Chrome, Chrome claims to be Safari, Android claims to be Linux.
var (
	browserNames = [][2]string{{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Headless Chrome"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go program"}}
	systemNames = [][2]string{{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"}}
)

func firstMatch(ua string, names [][2]string) string {
	for _, n := range names {
		if strings.Contains(ua, n[0]) {
			return n[1]
		}
	}
	return ""
}

// fieldErrorID and fieldHelpID name the elements aria-describedby points at.
func fieldErrorID(name string) string { return name + "-error" }
func fieldHelpID(name string) string  { return name + "-help" }

// describedBy lists the ids of a field's help text and error message, if any.
func describedBy(name, help, err string) string {
	var ids []string
	if err != "" {
		ids = append(ids, fieldErrorID(name))
	}
	if help != "" {
		ids = append(ids, fieldHelpID(name))
	}
	return strings.Join(ids, " ")
}

// input describes one labelled form field.
type input struct {
	Name, Label, Type string
	Value             string // never set for passwords
	Autocomplete      string
	Help              string          // shown under the field and announced with it
	Error             string          // shown under the field; marks it invalid
	ErrorMore         templ.Component // after the error, in the same message: a way forward, such as links
	Required          bool
	MinLength         int
}

// fieldClass marks a field whose value was refused.
func fieldClass(err string) string {
	if err != "" {
		return "field field-invalid"
	}
	return "field"
}

// statusOptions are a status filter's choices: any, then each status by its
// label, in the language of ctx.
func statusOptions(ctx context.Context, statuses []string) [][2]string {
	out := [][2]string{{"", t(ctx, "admin.any")}}
	for _, s := range statuses {
		out = append(out, [2]string{s, connectionStatusText(ctx, s)})
	}
	return out
}

// newTokenID is the id of the i-th new token's secret, which its copy
// button copies.
func newTokenID(i int) string {
	if i == 0 {
		return "new-token-secret"
	}
	return "new-token-secret-" + strconv.Itoa(i+1)
}

// countOf writes a count with the noun (or verb) that agrees with it: "1
// session", "0 sessions", "2 sessions".
func countOf(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
