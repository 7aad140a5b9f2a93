package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// CountLimit is how far a list is counted row by row. Counting reads every
// matching row (most often from the table, not only an index), so past
// this a list the counters cover is still exact and any other is
// estimated from the planner's statistics: "about 1.2 million" costs a
// plan where an exact count reads a million rows.
const CountLimit = 1_000

// SearchCountLimit is how far a search is counted. The planner's estimates
// of substring matches are poor (a guess from a sample of a few hundred
// values), and the count also chooses how the page is read: a search that
// matches at most this many rows is read through its trigram index and
// sorted, which is much faster than walking the sort's index past
// thousands of rows that do not match (see list.fence).
const SearchCountLimit = 5_000

// estimateOnly is the planner's estimate above which a list is not
// counted at all: counting would only find out that there are more than
// CountLimit rows, at the cost of reading them.
const estimateOnly = 10 * CountLimit

// countBudget bounds the time a count may take, in milliseconds. A count
// can read far more rows than it counts (a search whose index finds fifty
// thousand candidates of which a few hundred match the other filters);
// past the budget the estimate stands in, so a total never makes its page
// slow.
const countBudget = 25

// Total is how many rows a list holds with its filters.
type Total struct {
	Count int64 `json:"count"`
	// Exact is false when the list was too long (or too slow) to count:
	// Count is then PostgreSQL's estimate, or a lower bound.
	Exact bool `json:"exact"`
	// LowerBound: all that is known is that the list holds more than
	// Count rows (it was counted that far, and the estimate said less).
	LowerBound bool `json:"lower_bound"`
}

// exact is a Total from a counter or a count.
func exact(n int64) Total { return Total{Count: n, Exact: true} }

// count says how many rows of from (a table with its alias) pass w. It
// asks the planner first: a list it expects to be long is estimated and
// not read; any other is counted up to CountLimit rows (SearchCountLimit
// for a search) within countBudget, and past either estimated (or, when
// the planner expected fewer than were counted, known to be longer).
func (s *Service) count(ctx context.Context, from string, w where) (Total, error) {
	limit := int64(CountLimit)
	if w.search != nil {
		limit = SearchCountLimit
	}
	est, err := s.estimate(ctx, `SELECT 1 FROM `+from+w.sql(), w.args)
	if err != nil {
		return Total{}, err
	}
	switch dense, err := s.denseSearch(ctx, from, w); {
	case err != nil:
		return Total{}, err
	case dense || (w.search == nil && est > estimateOnly):
		return Total{Count: est}, nil
	}
	var n int64
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL statement_timeout = %d`, countBudget)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM %s%s LIMIT %d) s`, from, w.sql(), limit+1),
			customPlan(w.args)...).Scan(&n)
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "57014" && ctx.Err() == nil: // query_canceled: over budget
		return Total{Count: est}, nil
	case err != nil:
		return Total{}, err
	case n <= limit:
		return exact(n), nil
	case est > limit:
		return Total{Count: est}, nil
	}
	return Total{Count: limit, LowerBound: true}, nil
}

// denseSearch reports whether w's substring search alone matches a good
// part of from (more than SearchCountLimit rows and a fiftieth of the
// table or more, by the estimate): counting it would
// read the trigram index's many candidates, and its page is best read
// along the sort's index, where matches come often. Substring estimates
// are off by several times either way, so only this much is taken from
// them; a sparser search is counted.
func (s *Service) denseSearch(ctx context.Context, from string, w where) (bool, error) {
	if w.search == nil {
		return false, nil
	}
	est, err := s.estimate(ctx, `SELECT 1 FROM `+from+w.search.sql(), w.search.args)
	if err != nil {
		return false, err
	}
	all, err := s.estimate(ctx, `SELECT 1 FROM `+from, nil)
	return est > SearchCountLimit && est > all/50, err
}

// estimate is the number of rows the planner expects sql to return, from
// the table statistics (pg_class.reltuples and the columns' histograms),
// without running it: EXPLAIN plans the query for these very arguments.
func (s *Service) estimate(ctx context.Context, sql string, args []any) (int64, error) {
	var raw []byte
	if err := s.db.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+sql, customPlan(args)...).Scan(&raw); err != nil {
		return 0, fmt.Errorf("estimate: %w", err)
	}
	var plans []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) == 0 {
		return 0, fmt.Errorf("estimate: reading the plan: %v", err)
	}
	return int64(math.Round(plans[0].Plan.Rows)), nil
}
