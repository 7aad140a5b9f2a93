package web

import (
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"
)

// dateLayout is how the profile page writes calendar dates.
const dateLayout = "2 Jan 2006"

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

// shortDevice names the browser and system of a user-agent string ("Chrome
// on Linux"), so a person can tell their sessions apart; strings it cannot
// read are trimmed to fit a table cell.
func shortDevice(ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return "Unknown device"
	}
	browser, system := firstMatch(ua, browserNames), firstMatch(ua, systemNames)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
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

// formatDate writes a calendar date such as "2 Jan 2006".
func formatDate(t time.Time) string {
	return t.Format(dateLayout)
}

// formatDateTime writes a date and time with its zone, such as "2 Jan 2006, 15:04 UTC".
func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format(dateLayout + ", 15:04 MST")
}

// machineTime is the datetime attribute of a <time> element.
func machineTime(t time.Time) string {
	return t.Format(time.RFC3339)
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
	Help              string // shown under the field and announced with it
	Error             string // shown under the field; marks it invalid
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
