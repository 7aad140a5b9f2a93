package oauthtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// pathPaged is the paginated list below the API base URL.
const pathPaged = "/paged/"

// PagedItem is one item of the paginated list: shaped like a GitHub issue,
// so an SDK can list it as one.
type PagedItem struct {
	ID     int64  `json:"id"`
	Number int    `json:"number"`
	Title  string `json:"title"`
}

// servePaged answers any path below paged/ with one page of a list of
// ?total= items (default 25), ?per_page= at a time (default 10, at most
// 100), page ?page= (default 1), numbered from 1. The pagination URLs are
// written as providers write them, so a proxy in between must deal with
// every form:
//
//   - Link has rel="next" and rel="last" as absolute URLs (as GitHub sends
//     them), and rel="first" and rel="prev" as query-only references;
//   - Content-Location is a path-absolute reference to the page;
//   - a path with a segment "moved" answers 301 Moved Permanently, with a
//     Location to the same URL with "renamed" instead (a renamed
//     repository at GitHub), and no list.
//
// Every URL keeps the request's other query parameters.
func (p *Provider) servePaged(w http.ResponseWriter, r *http.Request, cfg config, path string) {
	segs := strings.Split(path, "/")
	moved := false
	for i, s := range segs {
		if s == "moved" {
			segs[i], moved = "renamed", true
		}
	}
	self := cfg.base
	self.Path = strings.TrimSuffix(cfg.base.Path, "/") + pathAPI[:len(pathAPI)-1] + strings.Join(segs, "/")
	self.RawPath, self.RawQuery, self.Fragment = "", r.URL.RawQuery, ""
	if moved {
		w.Header().Set("Location", self.String())
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	q := r.URL.Query()
	total := queryInt(q, "total", 25, 0, 1000)
	per := queryInt(q, "per_page", 10, 1, 100)
	last := max(1, (total+per-1)/per)
	page := queryInt(q, "page", 1, 1, last+1)
	at := func(n int) string {
		q.Set("page", strconv.Itoa(n))
		return q.Encode()
	}
	var links []string
	if page > 1 {
		links = append(links, fmt.Sprintf(`<?%s>; rel="prev"`, at(min(page-1, last))))
	}
	if page < last {
		next := self
		next.RawQuery = at(page + 1)
		links = append(links, fmt.Sprintf(`<%s>; rel="next"`, next.String()))
	}
	end := self
	end.RawQuery = at(last)
	links = append(links, fmt.Sprintf(`<%s>; rel="last"`, end.String()), fmt.Sprintf(`<?%s>; rel="first"`, at(1)))
	w.Header().Set("Link", strings.Join(links, ", "))
	w.Header().Set("Content-Location", self.EscapedPath()+"?"+at(page))
	items := []PagedItem{}
	for n := (page-1)*per + 1; n <= min(page*per, total); n++ {
		items = append(items, PagedItem{ID: int64(1000 + n), Number: n, Title: "Item " + strconv.Itoa(n)})
	}
	writeJSON(w, http.StatusOK, items)
}

// queryInt reads an integer query parameter, def when it is missing or not
// a number, clamped to [lo, hi].
func queryInt(q url.Values, key string, def, lo, hi int) int {
	n, err := strconv.Atoi(q.Get(key))
	if err != nil {
		n = def
	}
	return min(max(n, lo), hi)
}
