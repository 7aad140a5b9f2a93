package httpserver_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dancecard/dancecard/web"
)

// The assets go out gzip-encoded to a client that accepts it and plain to
// one that does not, the same bytes either way, with validators that let a
// client revalidate without downloading again.
func TestStaticAssets(t *testing.T) {
	ts := newTestServer(t)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}} // headers as sent, bodies as received
	get := func(path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	css, err := web.StaticFS.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}

	plain, body := get("/static/style.css")
	if plain.StatusCode != http.StatusOK || plain.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, css) {
		t.Fatalf("plain: %d, encoding %q, %d bytes (want the file's %d)", plain.StatusCode, plain.Header.Get("Content-Encoding"), len(body), len(css))
	}
	if ct := plain.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") || plain.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("plain: Content-Type %q, Vary %q", ct, plain.Header.Get("Vary"))
	}

	zipped, body := get("/static/style.css", "Accept-Encoding", "br, gzip;q=0.9")
	if zipped.StatusCode != http.StatusOK || zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %d, encoding %q", zipped.StatusCode, zipped.Header.Get("Content-Encoding"))
	}
	if len(body) > len(css)/3 {
		t.Errorf("gzip: %d bytes for a %d-byte stylesheet", len(body), len(css))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, err := io.ReadAll(zr); err != nil || !bytes.Equal(unzipped, css) {
		t.Fatalf("gzip body does not decode to the stylesheet: %v", err)
	}
	if !strings.HasPrefix(zipped.Header.Get("Content-Type"), "text/css") || zipped.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("gzip: Content-Type %q, Content-Length %q", zipped.Header.Get("Content-Type"), zipped.Header.Get("Content-Length"))
	}
	if r, _ := get("/static/style.css", "Accept-Encoding", "gzip;q=0, *"); r.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refuses it")
	}

	// Each encoding has its own validator, and a matching one answers 304.
	if plain.Header.Get("ETag") == "" || plain.Header.Get("ETag") == zipped.Header.Get("ETag") {
		t.Errorf("ETags %q and %q", plain.Header.Get("ETag"), zipped.Header.Get("ETag"))
	}
	if r, b := get("/static/style.css", "Accept-Encoding", "gzip", "If-None-Match", zipped.Header.Get("ETag")); r.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Errorf("revalidation: %d with %d bytes", r.StatusCode, len(b))
	}
	if r, _ := get("/static/style.css", "If-None-Match", zipped.Header.Get("ETag")); r.StatusCode != http.StatusOK {
		t.Errorf("the gzip validator matched the plain bytes: %d", r.StatusCode)
	}

	// Versioned URLs may be kept for a year; others for a day.
	if r, _ := get("/static/style.css?v=" + web.AssetVersion()); !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("versioned: Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	if cc := plain.Header.Get("Cache-Control"); cc != "public, max-age=86400" {
		t.Errorf("unversioned: Cache-Control %q", cc)
	}
	if r, b := get("/static/favicon.svg"); r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "image/svg+xml") ||
		!bytes.Contains(b, []byte("<svg")) {
		t.Errorf("favicon: %d, type %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	head, _ := http.NewRequest(http.MethodHead, ts.URL+"/static/style.css", nil)
	head.Header.Set("Accept-Encoding", "gzip")
	if r, err := client.Do(head); err != nil || r.StatusCode != http.StatusOK || r.Header.Get("Content-Encoding") != "gzip" ||
		r.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("HEAD: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	// A range of the encoded file is of no use: the whole of it comes back.
	if r, b := get("/static/style.css", "Accept-Encoding", "gzip", "Range", "bytes=0-99"); r.StatusCode != http.StatusOK || len(b) != len(body) {
		t.Errorf("range of the gzip encoding: %d with %d bytes", r.StatusCode, len(b))
	}
	if r, b := get("/static/style.css", "Range", "bytes=0-99"); r.StatusCode != http.StatusPartialContent || !bytes.Equal(b, css[:100]) {
		t.Errorf("range of the plain file: %d with %d bytes", r.StatusCode, len(b))
	}
	for _, path := range []string{"/static/", "/static/nope.css", "/static/../go.mod", "/static/static/style.css"} {
		if r, _ := get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, r.StatusCode)
		}
	}
}
