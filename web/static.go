package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

// StaticFS holds the stylesheet and icons. Paths inside it start with
// "static/", so serving it at the site root answers /static/style.css.
//
//go:embed static
var StaticFS embed.FS

// assetVersion hashes the embedded assets once; they cannot change while the
// process runs, so neither can the hash.
var assetVersion = sync.OnceValue(func() string {
	h := sha256.New()
	err := fs.WalkDir(StaticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := StaticFS.ReadFile(path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write([]byte{0})
		h.Write(b)
		return nil
	})
	if err != nil {
		// Unreachable with an embedded tree; an empty version only turns cache busting off.
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
})

// AssetVersion returns a short hex hash of the embedded static files (style.css
// and the icons), for ?v= on static URLs so browsers may cache them for ever and
// still fetch a new stylesheet after a deploy.
func AssetVersion() string {
	return assetVersion()
}
