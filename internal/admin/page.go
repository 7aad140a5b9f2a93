package admin

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/paging"
)

// FilterError is bad input in a list's filters or sort (a bad limit or
// cursor is paging's). Its message is written for the person who typed it.
// MessageID names the same message in the catalogues (internal/i18n), which
// pages show in the reader's language, filled in from Args; the JSON API
// keeps the English Message.
type FilterError struct {
	Field     string
	Message   string
	MessageID string
	Args      map[string]any
}

func (e *FilterError) Error() string { return "admin: " + e.Field + ": " + e.Message }

func badFilter(fe FilterError) error { return &fe }

// decodeCursor reads raw ("" is the first page) for list l: a cursor l
// made (paging.Parse) whose key is of l's sort column type.
func decodeCursor(raw string, l list) (paging.Cursor, bool, error) {
	c, ok, err := paging.Parse(raw, l.name, l.sortID)
	if ok && l.isTime {
		if _, terr := time.Parse(time.RFC3339Nano, c.Key); terr != nil {
			return paging.Cursor{}, false, paging.ErrCursor
		}
	}
	return c, ok, err
}

// timeKey renders a sort time so it parses back to the same instant.
func timeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

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
