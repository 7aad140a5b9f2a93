package admin

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dancecard/dancecard/internal/paging"
)

// Page is one page of a list: its rows, the cursors of the pages before
// and after it ("" where there is none) and how many rows the whole list
// holds with the same filters.
type Page[T any] struct {
	Rows  []T
	Prev  string
	Next  string
	Total Total
}

// list is one list query, assembled only from the parts below (never from
// input: values travel in where's arguments). Rows are ordered by (sortKey,
// id), and every list offers an index that yields them in that order.
type list struct {
	name    string // the list as its cursors name it
	cols    string // the columns a row is scanned from; the sort key follows them
	from    string // the table the rows come from, with its alias
	sortKey string // the sort key expression
	id      string // the row's id column
	desc    bool   // newest or last first
	sortID  string // the sort as its cursors name it, with its direction
	isTime  bool   // the sort key is a timestamptz, else text
	where   where  // the filters
	limit   int    // rows on a page (paging.Size)
	// fence orders by the sort key behind an expression no index has, so
	// PostgreSQL reads the matches of a selective search through its
	// trigram index and sorts them, instead of walking the sort's index
	// and testing every row until the page is full, which its estimate of
	// substring matches often makes it prefer (0.05 s against 0.01 s for
	// 3,000 matches in a million rows).
	fence bool
}

// orderKey is what rows are ordered by.
func (l list) orderKey() string {
	switch {
	case !l.fence:
		return l.sortKey
	case l.isTime:
		return "(" + l.sortKey + " + interval '0 s')"
	}
	return "(" + l.sortKey + " || '')"
}

// scanRow reads one row's columns and then its sort key into key.
type scanRow[T any] func(r pgx.Rows, key any) (row T, id int64, err error)

// fetchPage answers the page of l that cursor c (decoded; has is false on
// the first page) points at, and the cursors around it. Going back, it
// reads the rows before c in reverse order and turns them round; when that
// reaches the start of the list, it answers the first page, so a previous
// page is always a full one.
func fetchPage[T any](ctx context.Context, s *Service, l list, c paging.Cursor, has bool, scan scanRow[T]) ([]T, string, string, error) {
	back := has && c.Back
	w := l.where.clone()
	order := l.desc != back
	if has {
		w.keyset(l.sortKey, l.id, order, keyArg(c.Key, l.isTime), c.ID)
	}
	sql := "SELECT " + l.cols + ", " + l.sortKey + " FROM " + l.from + w.sql() + " ORDER BY " + l.orderKey() + direction(order) +
		", " + l.id + direction(order) + fmt.Sprintf(" LIMIT %d", l.limit+1)
	rows, err := s.db.Query(ctx, sql, customPlan(w.args)...)
	if err != nil {
		return nil, "", "", err
	}
	defer rows.Close()
	var out []T
	var ids []int64
	var keys []string
	for rows.Next() {
		var kt time.Time
		var ks string
		var key any = &ks
		if l.isTime {
			key = &kt
		}
		row, id, err := scan(rows, key)
		if err != nil {
			return nil, "", "", err
		}
		if l.isTime {
			ks = timeKey(kt)
		}
		out, ids, keys = append(out, row), append(ids, id), append(keys, ks)
	}
	if err := rows.Err(); err != nil {
		return nil, "", "", err
	}
	more := len(out) > l.limit
	if more {
		out, ids, keys = out[:l.limit], ids[:l.limit], keys[:l.limit]
	}
	if back {
		if !more && len(out) < l.limit {
			return fetchPage(ctx, s, l, paging.Cursor{}, false, scan)
		}
		slices.Reverse(out)
		slices.Reverse(ids)
		slices.Reverse(keys)
	}
	if len(out) == 0 {
		return out, "", "", nil
	}
	at := func(i int, back bool) string {
		return paging.Cursor{List: l.name, Sort: l.sortID, Key: keys[i], ID: ids[i], Back: back}.String()
	}
	// Going forward, there is more after this page if the query found it,
	// and a page before it if it was reached by a cursor; going back, the
	// other way round (the page it came from is after it).
	var prev, next string
	if (back && more) || (!back && has) {
		prev = at(0, true)
	}
	if back || more {
		next = at(len(out)-1, false)
	}
	return out, prev, next, nil
}

// listPage answers a page of l from the raw cursor, counting the list's
// rows (total) at the same time on another connection, so a page costs the
// slower of the two rather than both. A search is counted first instead:
// how many rows it matches decides how its page is read (list.fence).
func listPage[T any](ctx context.Context, s *Service, l list, raw string, scan scanRow[T], total func(context.Context) (Total, error)) (Page[T], error) {
	c, has, err := decodeCursor(raw, l)
	if err != nil {
		return Page[T]{}, err
	}
	var p Page[T]
	var totalErr error
	if l.where.search != nil {
		if p.Total, err = total(ctx); err != nil {
			return Page[T]{}, fmt.Errorf("count: %w", err)
		}
		l.fence = p.Total.Exact && p.Total.Count <= SearchCountLimit
		p.Rows, p.Prev, p.Next, err = fetchPage(ctx, s, l, c, has, scan)
	} else {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Total, totalErr = total(ctx)
		}()
		p.Rows, p.Prev, p.Next, err = fetchPage(ctx, s, l, c, has, scan)
		wg.Wait()
	}
	if err != nil {
		return Page[T]{}, err
	}
	if totalErr != nil {
		return Page[T]{}, fmt.Errorf("count: %w", totalErr)
	}
	switch {
	case !has && p.Next == "":
		// The whole list is on this page, whatever the estimate said.
		p.Total = exact(int64(len(p.Rows)))
	case !p.Total.Exact && p.Total.Count <= int64(len(p.Rows)):
		// An estimate below what this page shows says only that much.
		p.Total = Total{Count: int64(len(p.Rows)), LowerBound: true}
	}
	return p, nil
}
