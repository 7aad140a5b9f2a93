package httpserver

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/internal/links"
)

// FuzzConnectionParam checks that connectionParam takes out every piece of
// the query whose key means "connection" (however it is escaped) and
// nothing else: the provider gets the rest byte for byte, in order, and an
// id is picked only from exactly one well-formed piece.
func FuzzConnectionParam(f *testing.F) {
	for _, s := range []string{"", "page=2", "connection=3", "a=1&connection=3&b=%2F", "connection=3&connection=4",
		"connection=0", "connection=-1", "connection=x", "connection", "%63onnection=5", "a=1&%63onnection=5",
		"connections=2", "xconnection=1", "connection=9223372036854775808", "&&connection=1&", "connection=%31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		id, rest, err := connectionParam(raw)
		var picked, others []string
		for _, piece := range strings.Split(raw, "&") {
			k, _, _ := strings.Cut(piece, "=")
			if key, kerr := url.QueryUnescape(k); kerr == nil && key == "connection" {
				picked = append(picked, piece)
			} else {
				others = append(others, piece)
			}
		}
		switch {
		case err != nil:
			if !errors.Is(err, links.ErrNotFound) || id != 0 {
				t.Fatalf("connectionParam(%q) = %d, %v", raw, id, err)
			}
			if len(picked) == 0 {
				t.Fatalf("connectionParam(%q) refused a query without a connection", raw)
			}
		case len(picked) == 0:
			if id != 0 || rest != raw {
				t.Fatalf("connectionParam(%q) = %d, %q; want the query untouched", raw, id, rest)
			}
		default:
			if len(picked) != 1 || id <= 0 {
				t.Fatalf("connectionParam(%q) = %d from %q", raw, id, picked)
			}
			if !slices.Equal(strings.Split(rest, "&"), others) && !(rest == "" && len(others) == 0) {
				t.Fatalf("connectionParam(%q) left %q, want %q", raw, rest, strings.Join(others, "&"))
			}
		}
	})
}
