package admin

import (
	"errors"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/paging"
)

// FuzzListInput feeds arbitrary query-string values to the admin lists'
// parsers: each refuses with a FilterError that names a field and says
// something, or paging.ErrLimit, never panics, and what it accepts is
// within bounds. A cursor it accepts is one it could have made; a search
// pattern takes LIKE's wildcards literally.
func FuzzListInput(f *testing.F) {
	good := paging.Cursor{List: "events", Sort: "created DESC", Key: "2026-01-02T15:04:05Z", ID: 7}.String()
	back := paging.Cursor{List: "events", Sort: "created DESC", Key: "2026-01-02T15:04:05Z", ID: 7, Back: true}.String()
	for _, s := range []string{"", "ada", "a_b%c\\", "ada%lovelace_x\\yz", "  lovelace  ", "é🙂x", "2026-01-02", "2026-01-02T15:04", "-1", "200", "201",
		good, good + "x", back, "admin", "disabled", "yes", "on", "e30", "eyJzIjoiY3JlYXRlZF9kZXNjIiwiayI6IngiLCJpIjoxfQ", "\x00", "\xff"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkFilterErr := func(what string, err error) {
			var fe *FilterError
			if err != nil && !errors.Is(err, paging.ErrLimit) && (!errors.As(err, &fe) || fe.Field == "" || fe.Message == "") {
				t.Fatalf("%s: %v is not a FilterError with a field and a message", what, err)
			}
		}
		// Each parameter takes a or b, split two ways so every pair of
		// parameters meets both as equals and as different values.
		for _, get := range []func(string) string{
			func(k string) string { return map[bool]string{true: a, false: b}[len(k)%2 == 0] },
			func(k string) string { return map[bool]string{true: a, false: b}[k[0] < 'm'] },
		} {
			uq, err := ParseUserQuery(get)
			checkFilterErr("users", err)
			if err == nil && (uq.Limit < 1 || uq.Limit > paging.MaxLimit) {
				t.Fatalf("users: limit %d", uq.Limit)
			}
			if err == nil {
				if _, err := userWhere(uq); err != nil {
					t.Fatalf("users: accepted %+v but cannot filter by it: %v", uq, err)
				}
			}
			_, err = ParseConnectionQuery(get)
			checkFilterErr("connections", err)
			eq, err := ParseEventQuery(get)
			checkFilterErr("events", err)
			if err == nil && !eq.Since.IsZero() && !eq.Until.IsZero() && !eq.Since.Before(eq.Until) {
				t.Fatalf("events: since %v is not before until %v", eq.Since, eq.Until)
			}
			_, err = ParseDeliveryQuery(get)
			checkFilterErr("deliveries", err)
			_, err = ParseMailQuery(get)
			checkFilterErr("mail", err)
		}
		for _, isTime := range []bool{false, true} {
			l := list{name: "events", sortID: b, isTime: isTime}
			c, ok, err := decodeCursor(a, l)
			if err != nil && !errors.Is(err, paging.ErrCursor) {
				t.Fatalf("decodeCursor(%q): %v, want paging.ErrCursor", a, err)
			}
			if ok && (c.List != "events" || c.Sort != b || c.ID <= 0 || c.String() != a) {
				t.Fatalf("decodeCursor(%q, %q) = %+v", a, b, c)
			}
		}
		pat, err := searchPattern(a)
		checkFilterErr("search", err)
		if err == nil {
			inner := strings.TrimSuffix(strings.TrimPrefix(pat, "%"), "%")
			if unescaped := strings.NewReplacer(`\\`, `\`, `\%`, `%`, `\_`, `_`).Replace(inner); unescaped != strings.TrimSpace(a) {
				t.Fatalf("searchPattern(%q) = %q, which stands for %q", a, pat, unescaped)
			}
			if strings.Count(strings.ReplaceAll(inner, `\\`, ""), "%") != strings.Count(strings.ReplaceAll(inner, `\\`, ""), `\%`) {
				t.Fatalf("searchPattern(%q) = %q has a bare wildcard", a, pat)
			}
		}
	})
}
