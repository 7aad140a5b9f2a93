package web

import "time"

// dateLayout is how pages write calendar dates.
const dateLayout = "2 Jan 2006"

// formatDate writes the UTC calendar date of t and says so, such as
// "2 Jan 2006 UTC": what a page shows without JavaScript, since the server
// does not know the reader's zone. time.js rewrites it to the local date.
func formatDate(t time.Time) string {
	return t.UTC().Format(dateLayout) + " UTC"
}

// formatDateTime writes t in UTC to the minute, such as "2 Jan 2006, 15:04
// UTC"; time.js rewrites it to the reader's zone.
func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(dateLayout+", 15:04") + " UTC"
}

// machineTime is the datetime attribute of a <time> element: RFC 3339 in
// UTC, whatever zone the database driver gave t.
func machineTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
