package admin

import (
	"errors"
	"testing"

	"github.com/dancecard/dancecard/internal/paging"
)

func TestSearchPattern(t *testing.T) {
	for q, want := range map[string]string{
		"ada":         "%ada%",
		"  o'brien ":  "%o'brien%",
		"50%_off":     `%50\%\_off%`,
		`back\slash1`: `%back\\slash1%`,
		"日本語":         "%日本語%",
	} {
		if got, err := searchPattern(q); err != nil || got != want {
			t.Errorf("searchPattern(%q) = %q, %v; want %q", q, got, err, want)
		}
	}
	for _, q := range []string{"ab", "a.b.c", "%%%", "___", "\xff\xfeabc", "abc\x00", string(make([]byte, 201)) + "abc"} {
		if _, err := searchPattern(q); err == nil {
			t.Errorf("searchPattern(%q): no error", q)
		}
	}
}

// TestCursorOfATimeSort: a list sorted by a time takes back only cursors
// whose key is a time, besides everything paging.Parse checks.
func TestCursorOfATimeSort(t *testing.T) {
	l := list{name: "users", sortID: "created DESC", isTime: true}
	c := paging.Cursor{List: "users", Sort: "created DESC", Key: "2026-11-23T12:00:00.123456Z", ID: 42}
	if got, ok, err := decodeCursor(c.String(), l); err != nil || !ok || got != c {
		t.Fatalf("round trip: %+v %v %v", got, ok, err)
	}
	for name, bad := range map[string]paging.Cursor{
		"not a time":     {List: "users", Sort: "created DESC", Key: "yesterday", ID: 42},
		"another list":   {List: "connections", Sort: "created DESC", Key: c.Key, ID: 42},
		"another sort":   {List: "users", Sort: "created", Key: c.Key, ID: 42},
		"empty time key": {List: "users", Sort: "created DESC", ID: 42},
	} {
		if _, _, err := decodeCursor(bad.String(), l); !errors.Is(err, paging.ErrCursor) {
			t.Errorf("%s: %v, want paging.ErrCursor", name, err)
		}
	}
}
