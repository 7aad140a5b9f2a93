// Package paging cuts every list into pages the same way, in the admin
// console and in the JSON API alike: a page size read by Limit and an
// opaque Cursor that only the list and sort that made it take back.
package paging

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Page sizes: a page holds DefaultLimit rows unless asked for fewer or
// more, and never more than MaxLimit, however many are asked for.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// The two ways a page request can be wrong.
var (
	ErrLimit  = errors.New("paging: limit is not a whole number from 1")
	ErrCursor = errors.New("paging: cursor is not one this list and sort returned")
)

// Limit reads a page size: "" is DefaultLimit, a whole number above
// MaxLimit (however large) is MaxLimit, and anything but a whole number
// from 1 is ErrLimit.
func Limit(raw string) (int, error) {
	if raw == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil && len(raw) < 40 && strings.Trim(raw, "0123456789") == "" {
		return MaxLimit, nil // a number too large for an int is still just "too many"
	}
	if err != nil || n < 1 {
		return 0, ErrLimit
	}
	return min(n, MaxLimit), nil
}

// Size is n as a page size, for callers that ask in code rather than in a
// query string: DefaultLimit for 0 or less, never more than MaxLimit.
func Size(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// Cursor is where a page starts: the list and sort it was made for, and
// the sort key and id of the row next to it. A next page's cursor holds
// the last row shown and reads on past it; a previous page's (Back) holds
// the first row shown and reads back from it. A list ordered by id alone
// leaves Key empty.
type Cursor struct {
	List string `json:"l"`
	Sort string `json:"s"`
	Key  string `json:"k,omitempty"`
	ID   int64  `json:"i"`
	Back bool   `json:"b,omitempty"`
}

// maxCursor bounds the cursors Parse reads; the ones String makes are far
// shorter.
const maxCursor = 512

// String is the cursor as it travels: unpadded base64url JSON, which
// clients treat as opaque.
func (c Cursor) String() string {
	b, _ := json.Marshal(c) // strings, an int and a bool always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// Parse reads raw for a page of list sorted by sort; "" is the first page
// (ok is false). Anything but a cursor String made for the same list and
// sort is ErrCursor: one from another list or sort, and one edited by hand
// unless it was rebuilt exactly as String builds it (which only names
// another row to start from, as any cursor does).
func Parse(raw, list, sort string) (c Cursor, ok bool, err error) {
	if raw == "" {
		return Cursor{}, false, nil
	}
	if len(raw) > maxCursor {
		return Cursor{}, false, ErrCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return Cursor{}, false, ErrCursor
	}
	if c.List != list || c.Sort != sort || c.ID <= 0 || c.String() != raw {
		return Cursor{}, false, ErrCursor
	}
	return c, true, nil
}
