package httpserver_test

import (
	"net/http"
	"strconv"
	"testing"
)

// TestPagesCarryTheirLength: a rendered page goes out with its length, in
// one piece, not in chunks.
func TestPagesCarryTheirLength(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("len@example.com", goodPassword)
	for _, path := range []string{"/", "/profile", "/profile/security", "/no/such/page"} {
		r := b.get(path)
		if n, err := strconv.Atoi(r.Header.Get("Content-Length")); err != nil || n != len(r.Body) || n < 1000 {
			t.Errorf("GET %s: %d, Content-Length %q for a body of %d bytes", path, r.Status, r.Header.Get("Content-Length"), len(r.Body))
		}
		if r.Status != http.StatusOK && r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, r.Status)
		}
	}
}
