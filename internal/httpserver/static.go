package httpserver

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dancecard/dancecard/web"
)

// staticFile is one embedded asset as it is served: its bytes and, when
// that is smaller, their gzip encoding, each with its own validator.
type staticFile struct {
	plain, gzipped []byte // gzipped is nil when compressing does not pay
	etag, gzipETag string
}

// staticFiles reads the embedded assets, by their path under /static/, and
// compresses each that shrinks by a tenth or more (the stylesheet, 36 KB,
// goes out as 9 KB). They cannot change while the process runs, so this is
// done once per process, on first use, not per request or per server.
var staticFiles = sync.OnceValue(func() map[string]*staticFile {
	sub, err := fs.Sub(web.StaticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory exists
	}
	files := map[string]*staticFile{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := &staticFile{plain: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression) // a valid level cannot fail
		_, _ = w.Write(b)                                     // writes to a bytes.Buffer do not fail
		_ = w.Close()
		if z.Len() <= len(b)*9/10 {
			f.gzipped, f.gzipETag = z.Bytes(), `"`+hex.EncodeToString(sum[:8])+`-gzip"`
		}
		files[p] = f
		return nil
	})
	if err != nil {
		panic(err) // reading an embedded tree cannot fail
	}
	return files
})

// handleStatic serves the embedded assets, gzip-encoded to clients that
// accept it, with an ETag for revalidation. URLs carry a content hash
// (?v=...), so they may be cached for a long time.
func (s *Server) handleStatic() echo.HandlerFunc {
	files := staticFiles()
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, "/static/")
		f, ok := files[name]
		if !ok {
			return echo.ErrNotFound // also every directory: no listings
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "public, max-age=86400")
		if c.QueryParam("v") == web.AssetVersion() {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		r := c.Request()
		body, etag := f.plain, f.etag
		if f.gzipped != nil {
			h.Set("Vary", "Accept-Encoding")
			if acceptsGzip(r.Header.Values("Accept-Encoding")) {
				body, etag = f.gzipped, f.gzipETag
				h.Set("Content-Encoding", "gzip")
				// ServeContent leaves the length out of an encoded answer,
				// which would go out chunked; the whole encoded file is
				// always sent (a range of it would be of no use).
				h.Set("Content-Length", strconv.Itoa(len(body)))
				r = r.Clone(r.Context())
				r.Header.Del("Range")
			}
		}
		h.Set("ETag", etag)
		http.ServeContent(c.Response(), r, name, time.Time{}, bytes.NewReader(body))
		return nil
	}
}

// acceptsGzip reads Accept-Encoding (RFC 9110, 12.5.3): gzip is wanted when
// it is listed with a weight above zero, or when it is not listed and "*"
// is. A weight that is not a valid qvalue counts as zero: when in doubt the
// client gets the plain bytes, which every client can read.
func acceptsGzip(header []string) bool {
	gz, star := -1, -1 // weight in thousandths; -1 when not listed
	for _, v := range header {
		for _, item := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			q := 1000
			for _, p := range strings.Split(params, ";") {
				name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(name), "q") {
					q = qvalue(strings.TrimSpace(value))
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gz = max(gz, q)
			case "*":
				star = max(star, q)
			}
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}

// qvalue parses a weight, "0" to "1" with up to three decimals, into
// thousandths; anything else is 0.
func qvalue(s string) int {
	whole, frac, _ := strings.Cut(s, ".")
	if (whole != "0" && whole != "1") || len(frac) > 3 {
		return 0
	}
	n := 0
	for i := range 3 {
		d := byte('0')
		if i < len(frac) {
			d = frac[i]
		}
		if d < '0' || d > '9' {
			return 0
		}
		n = n*10 + int(d-'0')
	}
	if whole == "1" {
		if n != 0 {
			return 0
		}
		return 1000
	}
	return n
}
