package admin

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Page sizes: a list answers DefaultLimit rows unless asked for fewer or
// more, and never more than MaxLimit, whatever is asked.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// FilterError is bad input in a list's filters, sort, cursor or limit. Its
// message is written for the person who typed it.
// MessageID names the same message in the catalogues (internal/i18n), which
// pages show in the reader's language, filled in from Args; the JSON API
// keeps the English Message.
type FilterError struct {
	Field     string
	Message   string
	MessageID string
	Args      map[string]string
}

func (e *FilterError) Error() string { return "admin: " + e.Field + ": " + e.Message }

func badFilter(fe FilterError) error { return &fe }

// cursor is where a page starts: the sort it was made for, the sort key
// and id of the row next to it, and which way it reads. A next page's
// cursor holds the last row shown and reads on past it; a previous page's
// (Back) holds the first row shown and reads back from it. It travels as
// unpadded base64url JSON; clients treat it as opaque and the server
// checks every part of it on the way back in.
type cursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"`
	ID   int64  `json:"i"`
	Back bool   `json:"b,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and an int always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads raw ("" is the first page) for a list sorted by sort.
// A cursor from another list or sort, or one edited by hand, is refused.
func decodeCursor(raw, sort string, timeKey bool) (cursor, bool, error) {
	if raw == "" {
		return cursor{}, false, nil
	}
	bad := badFilter(FilterError{Field: "cursor", MessageID: "filter.cursor",
		Message: "The page cursor is not valid for this list. Start again from the first page."})
	if len(raw) > 512 {
		return cursor{}, false, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return cursor{}, false, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort || c.ID <= 0 || !utf8.ValidString(c.Key) {
		return cursor{}, false, bad
	}
	if timeKey {
		if _, err := time.Parse(time.RFC3339Nano, c.Key); err != nil {
			return cursor{}, false, bad
		}
	}
	return c, true, nil
}

// timeKey renders a sort time so it parses back to the same instant.
func timeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Limit parses a page size: "" is DefaultLimit, above MaxLimit is MaxLimit,
// anything else that is not a positive number is a FilterError.
func Limit(raw string) (int, error) {
	if raw == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil && len(raw) < 40 && strings.Trim(raw, "0123456789") == "" {
		return MaxLimit, nil // a number too large for an int is still just "too many"
	}
	if err != nil || n < 1 {
		return 0, badFilter(FilterError{Field: "limit", MessageID: "filter.limit", Args: map[string]string{"Max": strconv.Itoa(MaxLimit)},
			Message: "The page size must be a whole number from 1 to " + strconv.Itoa(MaxLimit) + "."})
	}
	return min(n, MaxLimit), nil
}

func limitOf(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// searchPattern turns a search box into an ILIKE pattern that matches the
// text anywhere, with LIKE's wildcards taken literally. A search must
// contain three letters or digits in a row: that is what a trigram index
// can look up, and anything shorter would read the whole table.
func searchPattern(q string) (string, error) {
	if !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
		return "", badFilter(FilterError{Field: "q", MessageID: "filter.q_invalid", Message: "The search contains characters that are not valid text."})
	}
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > 200 {
		return "", badFilter(FilterError{Field: "q", MessageID: "filter.q_long", Message: "The search is too long: use at most 200 characters."})
	}
	run, best := 0, 0
	for _, r := range q {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	if best < 3 {
		return "", badFilter(FilterError{Field: "q", MessageID: "filter.q_short", Message: "Type at least three letters or digits in a row to search."})
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	return "%" + esc + "%", nil
}

// customPlan puts args behind pgx.QueryExecModeExec: each list query is
// planned for its own values (an unnamed statement) instead of reusing a
// cached generic plan, which cannot know that "%lovelace%" is selective
// while "%example%" matches everything, and so picks one index for both.
// Planning costs a fraction of a millisecond; a wrong plan costs hundreds.
func customPlan(args []any) []any {
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// where collects a query's conditions and their arguments.
type where struct {
	conds  []string
	args   []any
	search *where // the substring search among the conditions, alone (see addSearch)
}

// addSearch adds a substring search: cond, with its ? placeholders all
// taking the ILIKE pattern of q.
func (w *where) addSearch(cond, q string) error {
	pat, err := searchPattern(q)
	if err != nil {
		return err
	}
	args := make([]any, strings.Count(cond, "?"))
	for i := range args {
		args[i] = pat
	}
	w.add(cond, args...)
	w.search = &where{}
	w.search.add(cond, args...)
	return nil
}

// add appends a condition whose placeholders are written as ? in order.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

// clone copies w, so a list's filters can serve both its page query and
// its count.
func (w where) clone() where {
	return where{conds: slices.Clone(w.conds), args: slices.Clone(w.args), search: w.search}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// keyset adds the condition that continues after cursor c, for rows ordered
// by (expr, id) in the given direction.
func (w *where) keyset(expr, idCol string, desc bool, key any, id int64) {
	op := ">"
	if desc {
		op = "<"
	}
	w.add("("+expr+", "+idCol+") "+op+" (?, ?)", key, id)
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return ""
}

// parseDir reads a sort direction: "" and "desc" are newest or last first.
func parseDir(raw string) (bool, error) {
	switch raw {
	case "", "desc":
		return true, nil
	case "asc":
		return false, nil
	}
	return false, badFilter(FilterError{Field: "dir", MessageID: "filter.dir", Message: `The sort direction must be "asc" or "desc".`})
}
