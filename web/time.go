package web

import (
	"context"
	"time"

	"github.com/dancecard/dancecard/internal/i18n"
)

// months are the short month names, January first, as the catalogues
// write them in dates.
var months = [12]string{
	i18n.ID("month.jan"), i18n.ID("month.feb"), i18n.ID("month.mar"), i18n.ID("month.apr"),
	i18n.ID("month.may"), i18n.ID("month.jun"), i18n.ID("month.jul"), i18n.ID("month.aug"),
	i18n.ID("month.sep"), i18n.ID("month.oct"), i18n.ID("month.nov"), i18n.ID("month.dec"),
}

// localDate writes the UTC calendar date of t in the localizer's language:
// "2 Jan 2006", "2. Jan. 2006".
func localDate(l *i18n.Localizer, t time.Time) string {
	t = t.UTC()
	return l.T("time.date", i18n.Data{"Day": t.Day(), "Month": l.T(months[t.Month()-1]), "Year": t.Year()})
}

// formatDate writes the UTC calendar date of t and says so, such as
// "2 Jan 2006 UTC": what a page shows without JavaScript, since the server
// does not know the reader's zone. time.js rewrites it to the local date.
func formatDate(ctx context.Context, t time.Time) string {
	return localDate(i18n.From(ctx), t) + " UTC"
}

// formatDateTime writes t in UTC to the minute, such as "2 Jan 2006, 15:04
// UTC"; time.js rewrites it to the reader's zone.
func formatDateTime(ctx context.Context, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	l := i18n.From(ctx)
	return l.T("time.date_time", i18n.Data{"Date": localDate(l, t), "Time": t.UTC().Format("15:04")})
}

// machineTime is the datetime attribute of a <time> element: RFC 3339 in
// UTC, whatever zone the database driver gave t.
func machineTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
