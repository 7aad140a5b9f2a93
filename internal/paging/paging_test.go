package paging

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestLimit(t *testing.T) {
	for raw, want := range map[string]int{"": DefaultLimit, "1": 1, "007": 7, "+5": 5, "200": 200, "201": MaxLimit,
		"99999999999999999999999": MaxLimit} {
		if got, err := Limit(raw); err != nil || got != want {
			t.Errorf("Limit(%q) = %d, %v; want %d", raw, got, err, want)
		}
	}
	for _, raw := range []string{"0", "-1", "abc", "1e3", " 5", "5.0", strings.Repeat("9", 40)} {
		if _, err := Limit(raw); !errors.Is(err, ErrLimit) {
			t.Errorf("Limit(%q) error %v, want ErrLimit", raw, err)
		}
	}
	for n, want := range map[int]int{-1: DefaultLimit, 0: DefaultLimit, 1: 1, MaxLimit + 1: MaxLimit} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestCursorRoundTripAndTampering: a cursor comes back as it was made, for
// its own list and sort only; anything else is ErrCursor.
func TestCursorRoundTripAndTampering(t *testing.T) {
	c := Cursor{List: "users", Sort: "created DESC", Key: "2026-11-23T12:00:00.123456Z", ID: 42, Back: true}
	got, ok, err := Parse(c.String(), "users", "created DESC")
	if err != nil || !ok || got != c {
		t.Fatalf("round trip: %+v %v %v", got, ok, err)
	}
	if _, ok, err := Parse("", "users", "created DESC"); ok || err != nil {
		t.Fatalf("no cursor: %v %v, want the first page", ok, err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, tc := range map[string]struct{ raw, list, sort string }{
		"other list":      {c.String(), "connections", "created DESC"},
		"other sort":      {c.String(), "users", "email"},
		"other direction": {c.String(), "users", "created"},
		"not base64":      {"!!!", "users", "created DESC"},
		"padded":          {base64.URLEncoding.EncodeToString([]byte(`{"l":"users","s":"email","i":5}`)), "users", "email"},
		"not json":        {enc("id:5"), "users", "email"},
		"null":            {enc("null"), "", ""},
		"zero id":         {enc(`{"l":"users","s":"email","k":"x","i":0}`), "users", "email"},
		"negative id":     {enc(`{"l":"users","s":"email","k":"x","i":-3}`), "users", "email"},
		"extra member":    {enc(`{"l":"users","s":"email","k":"x","i":5,"admin":true}`), "users", "email"},
		"reordered":       {enc(`{"s":"email","l":"users","k":"x","i":5}`), "users", "email"},
		"spaces":          {enc(`{"l":"users", "s":"email","k":"x","i":5}`), "users", "email"},
		"bad utf8 key":    {enc("{\"l\":\"users\",\"s\":\"email\",\"k\":\"\xff\",\"i\":5}"), "users", "email"},
		"too long":        {Cursor{List: "users", Sort: "email", Key: strings.Repeat("k", 400), ID: 5}.String(), "users", "email"},
	} {
		if _, _, err := Parse(tc.raw, tc.list, tc.sort); !errors.Is(err, ErrCursor) {
			t.Errorf("%s: %v, want ErrCursor", name, err)
		}
	}
	// Rebuilt exactly as String builds it, a cursor is one the list could
	// have made: it names another row to start from, nothing more.
	if _, ok, err := Parse(enc(`{"l":"users","s":"email","k":"x","i":5}`), "users", "email"); !ok || err != nil {
		t.Errorf("a well-formed cursor: %v %v", ok, err)
	}
}

// FuzzCursor: Parse never panics, refuses with ErrCursor only, and
// accepts only cursors String makes for the list and sort asked.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "e30", "!!", Cursor{List: "l", Sort: "s", Key: "k", ID: 1}.String(),
		Cursor{List: "l", Sort: "s", ID: 7, Back: true}.String(), "eyJsIjoibCIsInMiOiJzIiwiaSI6MX0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, ok, err := Parse(raw, "l", "s")
		if err != nil && !errors.Is(err, ErrCursor) {
			t.Fatalf("Parse(%q): %v", raw, err)
		}
		if ok && (c.List != "l" || c.Sort != "s" || c.ID <= 0 || c.String() != raw) {
			t.Fatalf("Parse(%q) accepted %+v", raw, c)
		}
	})
}
