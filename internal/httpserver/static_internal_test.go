package httpserver

import (
	"strings"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZip"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"gzip, deflate, br, zstd"}, true},
		{[]string{"br;q=1.0, gzip;q=0.8, *;q=0.1"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip;q=0.000"}, false},
		{[]string{"gzip;q=0.001"}, true},
		{[]string{"gzip ; Q=0.5"}, true},
		{[]string{"gzip;q=1.000"}, true},
		{[]string{"gzip;q=1.5"}, false}, // not a qvalue: refused
		{[]string{"gzip;q=0.5000"}, false},
		{[]string{"gzip;q=-1"}, false},
		{[]string{"gzip;q=NaN"}, false},
		{[]string{"gzip;q="}, false},
		{[]string{"identity"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"*, gzip;q=0"}, false}, // listed beats the wildcard
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"deflate", "gzip"}, true}, // several header lines
		{[]string{"gzip;q=0", "gzip;q=0.3"}, true},
		{[]string{"gzipx"}, false},
	} {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.header, got, tc.want)
		}
	}
}

// FuzzAcceptsGzip: any header is read without panicking; the answer does
// not depend on case, and another coding listed after it changes nothing.
func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0", "br;q=1.0, gzip;q=0.8, *;q=0.1", "*;q=0.5", "gzip;q=1.", ";;,=q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := acceptsGzip([]string{s})
		if up := acceptsGzip([]string{strings.ToUpper(s)}); up != got && !strings.ContainsFunc(s, nonASCII) {
			t.Errorf("%q: %v, upper case %v", s, got, up)
		}
		if more := acceptsGzip([]string{s + ", identity;q=0.5"}); more != got {
			t.Errorf("%q: %v, with identity listed %v", s, got, more)
		}
	})
}

func nonASCII(r rune) bool { return r > 127 }
