package admin

import (
	"encoding/base64"
	"errors"
	"testing"
)

func TestLimit(t *testing.T) {
	for raw, want := range map[string]int{"": DefaultLimit, "1": 1, "200": 200, "201": MaxLimit, "99999999999999999999999": MaxLimit} {
		if got, err := Limit(raw); err != nil || got != want {
			t.Errorf("Limit(%q) = %d, %v; want %d", raw, got, err, want)
		}
	}
	for _, raw := range []string{"0", "-1", "abc", "1e3", " 5", "5.0"} {
		var fe *FilterError
		if _, err := Limit(raw); !errors.As(err, &fe) || fe.Field != "limit" {
			t.Errorf("Limit(%q) error %v, want a limit FilterError", raw, err)
		}
	}
}

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

func TestCursorRoundTripAndTampering(t *testing.T) {
	c := cursor{Sort: "created DESC", Key: "2026-11-23T12:00:00.123456Z", ID: 42}
	got, ok, err := decodeCursor(c.encode(), "created DESC", true)
	if err != nil || !ok || got != c {
		t.Fatalf("round trip: %+v %v %v", got, ok, err)
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, raw := range map[string]string{
		"other sort":   c.encode() + "",
		"not base64":   "!!!",
		"not json":     enc("id:5"),
		"zero id":      enc(`{"s":"created DESC","k":"2026-11-23T12:00:00Z","i":0}`),
		"bad time":     enc(`{"s":"created DESC","k":"yesterday","i":5}`),
		"bad utf8 key": enc("{\"s\":\"created DESC\",\"k\":\"\xff\",\"i\":5}"),
		"too long":     string(make([]byte, 600)),
	} {
		sort := "created DESC"
		if name == "other sort" {
			sort = "email"
		}
		if _, _, err := decodeCursor(raw, sort, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
