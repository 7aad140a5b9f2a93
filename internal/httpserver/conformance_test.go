package httpserver_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPMethodConformance: HEAD works wherever GET does, a known path
// asked with a method it does not take answers 405 with Allow (a problem
// document under /api/v1, before any authentication), and 401s carry a
// Bearer challenge.
func TestHTTPMethodConformance(t *testing.T) {
	ts := newTestServer(t)
	b := ts.browser(t)
	b.signUp("hd@example.com", goodPassword)
	do := func(method, path string) response {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		return b.do(req)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/", "/login", "/profile", "/api/v1/me", "/api/v1/openapi.json", "/static/style.css"} {
		get, head := do("GET", path), do("HEAD", path)
		if head.Status != get.Status || head.Body != "" || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q (GET: %d %q), body %d bytes", path, head.Status, head.Header.Get("Content-Type"),
				get.Status, get.Header.Get("Content-Type"), len(head.Body))
		}
	}
	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", "/api/v1/me", "GET, HEAD"},
		{"PATCH", "/api/v1/tokens", "GET, HEAD, POST"},
		{"DELETE", "/profile", "GET, HEAD"},
		{"PUT", "/login", "GET, HEAD, POST"},
		{"POST", "/healthz", "GET, HEAD"},
	} {
		r := do(tc.method, tc.path)
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 %q", tc.method, tc.path, r.Status, r.Header.Get("Allow"), tc.allow)
		}
		if strings.HasPrefix(tc.path, "/api/") && (r.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(r.Body, `"code":"method_not_allowed"`)) {
			t.Errorf("%s %s: not a problem document: %q %s", tc.method, tc.path, r.Header.Get("Content-Type"), r.Body)
		}
	}
	// Unknown paths stay 404.
	if r := do("PUT", "/no/such/page"); r.Status != http.StatusNotFound {
		t.Errorf("unknown path: %d", r.Status)
	}
	anon := ts.browser(t)
	for _, c := range []apiCall{{method: "GET", path: "/api/v1/me"}, {method: "GET", path: "/api/v1/me", bearer: "dct_not-a-real-token"}} {
		r := anon.api(c)
		if r.Status != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without a Bearer challenge: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
	}
}

// TestMalformedRequestsGetProblemDocuments: requests net/http refuses
// before any handler runs are answered with a problem document too.
func TestMalformedRequestsGetProblemDocuments(t *testing.T) {
	ts := newTestServer(t)
	for name, raw := range map[string]string{
		"control character in a header": "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n",
		"malformed header line":         "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
		"headers too large":             "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n",
		"unknown transfer coding":       "POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		go func() { conn.Write([]byte(raw)) }()
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(res.Body)
		conn.Close()
		var doc struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		}
		if res.StatusCode < 400 || res.Header.Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(body, &doc) != nil || doc.Status != res.StatusCode || doc.Code == "" {
			t.Errorf("%s: %d %q %s", name, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
}
