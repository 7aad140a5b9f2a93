package web

import (
	"regexp"

	"github.com/a-h/templ"
)

// Brand is how a page shows a provider: its name, and its mark drawn in
// its colour, or for a custom provider a neutral disc with its initial.
type Brand struct {
	ID     string // provider id, e.g. "github": picks a custom provider's tint
	Name   string // display name, e.g. "GitHub"
	Mark   string // a key of markDrawings; "" for a custom provider
	Colour string // #rrggbb; "" for a custom provider
}

// colourRE is the only colour form a mark is drawn in.
var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// markFor is the drawing of b's mark and its colour, or ok false when b is
// shown with its initial instead.
func markFor(b Brand) (drawing templ.Component, colour string, ok bool) {
	d, found := markDrawings[b.Mark]
	if !found || !colourRE.MatchString(b.Colour) {
		return nil, "", false
	}
	return templ.Raw(d), b.Colour, true
}

// HasMark reports whether pages draw a mark called name; the presets'
// marks are checked against it.
func HasMark(name string) bool {
	_, ok := markDrawings[name]
	return ok
}

// Strokes and fills of the marks, drawn white on the brand's colour in a
// 24-unit square (see providerMark). Each is a simple glyph of Dancecard's
// own that calls the service to mind (a cat for GitHub, a teacup for
// Gitea, a letter for most), never a copy of the brand's logo.
const (
	markLine = `<g fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">`
	markFill = `<g fill="#fff" fill-rule="evenodd">`
	markEnd  = `</g>`
)

var markDrawings = map[string]string{
	// A cat's head, eyes cut out.
	"github": markFill + `<path d="M6.2 10 6.6 5.6 9.7 7.6Q12 7 14.3 7.6L17.4 5.6 17.8 10Q18.8 11.3 18.5 13.2 17.8 17.3 12 17.4 6.2 17.3 5.5 13.2 5.2 11.3 6.2 10ZM9.8 11.4a1 1.3 0 1 0 .01 0ZM14.2 11.4a1 1.3 0 1 0 .01 0Z"/>` + markEnd,
	// A fox's head.
	"gitlab": markFill + `<path d="M12 18.8 4.8 12.6 6.6 5.6 8.9 10.8H15.1L17.4 5.6 19.2 12.6Z"/>` + markEnd,
	// A teacup with steam.
	"gitea": markLine + `<path d="M6 9.5H15.5V13A4 4 0 0 1 11.5 17H10A4 4 0 0 1 6 13Z"/><path d="M15.5 10.5H16.7A1.8 1.8 0 0 1 16.7 14.1H15.3"/><path d="M9.3 5v2M12.3 5v2"/>` + markEnd,
	// A bucket.
	"bitbucket": markFill + `<path d="M5 6.2H19L17.2 18.2H6.8ZM10.1 10.2 10.6 14.2H13.4L13.9 10.2Z"/>` + markEnd,
	// The letter G.
	"google": markLine + `<path d="M17.6 8.6A6.2 6.2 0 1 0 18.2 12.6H12.6" stroke-width="2.4"/>` + markEnd,
	// Four panes.
	"microsoft": markFill + `<path d="M5.5 5.5H11.3V11.3H5.5ZM12.7 5.5H18.5V11.3H12.7ZM5.5 12.7H11.3V18.5H5.5ZM12.7 12.7H18.5V18.5H12.7Z"/>` + markEnd,
	// A ring.
	"okta": markLine + `<circle cx="12" cy="12" r="5.6" stroke-width="3"/>` + markEnd,
	// A hash sign.
	"slack": markLine + `<path d="M10 5.5 9 18.5M15 5.5 14 18.5M5.5 9.5H18.5M5.5 14.5H18.5" stroke-width="2.2"/>` + markEnd,
	// The letters "in".
	"linkedin": markFill + `<path d="M6.3 10.1H8.8V17.6H6.3ZM7.55 5.9a1.45 1.45 0 1 1 0 2.9 1.45 1.45 0 0 1 0-2.9ZM10.8 10.1H13.2V11.1Q14 9.9 15.6 9.9 18 9.9 18 12.8V17.6H15.5V13.3Q15.5 12 14.5 12 13.3 12 13.3 13.4V17.6H10.8Z"/>` + markEnd,
	// A speech bubble with a pause sign.
	"twitch": markLine + `<path d="M6.2 5.5H17.8V13.2L14.8 16.2H12L9.6 18.6V16.2H6.2Z"/><path d="M10.8 8.6V11.6M14.2 8.6V11.6"/>` + markEnd,
	// A diamond in a diamond.
	"jira": markLine + `<path d="M12 4.8 19.2 12 12 19.2 4.8 12Z"/>` + markEnd + markFill + `<path d="M12 9.4 14.6 12 12 14.6 9.4 12Z"/>` + markEnd,
	// The letter A as a peak.
	"atlassian": markFill + `<path d="M12 5 18.8 18.4H14.7L12 12.6 9.3 18.4H5.2Z"/>` + markEnd,
	// The letter f.
	"facebook": markFill + `<path d="M13.3 19V12.9H15.4L15.7 10.5H13.3V9Q13.3 8 14.4 8H15.8V5.9Q15 5.8 14.1 5.8 10.9 5.8 10.9 8.7V10.5H8.7V12.9H10.9V19Z"/>` + markEnd,
	// A bird.
	"twitter": markFill + `<path d="M5 15.6Q9 17.6 12.6 15.6 17 13.1 17 8.6L18.9 7.1 17 7.3Q16 5.9 14.3 6.1 12 6.6 12.3 9.2 8.8 9 6.5 6.6 5.8 9 7.8 10.6L6.6 10.4Q7 12.4 9 13.1L7.8 13.3Q8.6 14.7 10.2 14.9 8 16.1 5 15.6Z"/>` + markEnd,
	// The letter X.
	"x": markLine + `<path d="M6.5 6 17.5 18M17.5 6 6.5 18" stroke-width="2.4"/>` + markEnd,
	// A game pad's face.
	"discord": markFill + `<path d="M7 7.6Q9.5 6.4 12 6.4 14.5 6.4 17 7.6 19 10.6 19 15.4 17.3 17.1 15.2 17.5L14.3 16Q12 16.5 9.7 16L8.8 17.5Q6.7 17.1 5 15.4 5 10.6 7 7.6ZM9.6 11a1.3 1.4 0 1 0 .01 0ZM14.4 11a1.3 1.4 0 1 0 .01 0Z"/>` + markEnd,
	// A round head with an antenna.
	"reddit": markFill + `<path d="M12 9.6C15.6 9.6 18.5 11.6 18.5 14.1 18.5 16.6 15.6 18.6 12 18.6 8.4 18.6 5.5 16.6 5.5 14.1 5.5 11.6 8.4 9.6 12 9.6ZM9.5 12.6a1.1 1.1 0 1 0 .01 0ZM14.5 12.6a1.1 1.1 0 1 0 .01 0Z"/><circle cx="16.6" cy="6.4" r="1.4"/>` + markEnd + markLine + `<path d="M12 9.6 13 5.8 15.3 6.3" stroke-width="1.4"/>` + markEnd,
	// The letter m.
	"meetup": markLine + `<path d="M6.2 16.2V9.6M6.2 11.8Q6.2 9.2 8.7 9.2 11.2 9.2 11.2 11.8V16.2M11.2 11.8Q11.2 9.2 13.7 9.2 16.2 9.2 16.2 11.8V14.6Q16.2 16.2 17.8 16.2"/>` + markEnd,
	// An open box.
	"dropbox": markLine + `<path d="M12 4.8 18.8 8.6V15.4L12 19.2 5.2 15.4V8.6Z"/><path d="M5.2 8.6 12 12.4 18.8 8.6M12 12.4V19.2"/>` + markEnd,
	// An envelope.
	"nylas": markLine + `<path d="M5.2 7.2H18.8V16.8H5.2Z"/><path d="M5.6 7.6 12 12.6 18.4 7.6"/>` + markEnd,
	// Sound waves.
	"spotify": markLine + `<path d="M6.4 9.4Q12 7.4 17.6 10.2M7.2 12.8Q12 11.2 16.4 13.4M8 16Q12 14.9 15.2 16.5" stroke-width="2.2"/>` + markEnd,
	// Two peaks.
	"strava": markFill + `<path d="M4.6 17 10 6.4 15.4 17H12.4L10 12.2 7.6 17ZM13.8 17 16.4 11.8 19.4 17H17.6L16.4 14.7 15.2 17Z"/>` + markEnd,
	// A map pin.
	"foursquare": markFill + `<path d="M12 4.8A5.6 5.6 0 0 1 17.6 10.4C17.6 14.4 12 19.4 12 19.4S6.4 14.4 6.4 10.4A5.6 5.6 0 0 1 12 4.8ZM12 8.3a2.1 2.1 0 1 0 .01 0Z"/>` + markEnd,
	// A drop.
	"digitalocean": markFill + `<path d="M12 4.6C12 4.6 17.4 10.4 17.4 13.8A5.4 5.4 0 0 1 6.6 13.8C6.6 10.4 12 4.6 12 4.6Z"/>` + markEnd,
	// A bean pod's strokes.
	"douban": markLine + `<path d="M5.5 6H18.5M8 9.2H16V12.8H8ZM9.4 15.2 10.4 17.2M14.6 15.2 13.6 17.2M5.5 18.6H18.5"/>` + markEnd,
	// An eye.
	"weibo": markLine + `<path d="M4.8 12Q8.2 6.8 12 6.8 15.8 6.8 19.2 12 15.8 17.2 12 17.2 8.2 17.2 4.8 12Z"/>` + markEnd + markFill + `<circle cx="12" cy="12" r="2.4"/>` + markEnd,
}
