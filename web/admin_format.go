package web

import (
	"math"
	"strconv"
	"strings"

	"github.com/dancecard/dancecard/internal/admin"
)

// groupDigits writes n with a comma between each group of three digits,
// such as 1,234,567.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// roughly writes an estimate to two significant digits, in words past a
// million: 1,234,567 is "1.2 million", 45,678 is "46,000".
func roughly(n int64) string {
	if n <= 0 {
		return "0"
	}
	for _, u := range []struct {
		size float64
		word string
	}{{1e9, " billion"}, {1e6, " million"}} {
		if f := float64(n) / u.size; f >= 1 {
			if f >= 10 {
				return groupDigits(int64(math.Round(f))) + u.word
			}
			return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) + u.word
		}
	}
	digits := len(strconv.FormatInt(n, 10))
	unit := math.Pow(10, float64(max(digits-2, 0)))
	return groupDigits(int64(math.Round(float64(n)/unit) * unit))
}

// totalLabel says how many rows a list holds: "1 user", "1,234 users",
// "about 1.2 million users" or "more than 1,000 users".
func totalLabel(t admin.Total, one, many string) string {
	switch {
	case t.Exact && t.Count == 1:
		return "1 " + one
	case t.Exact:
		return groupDigits(t.Count) + " " + many
	case t.LowerBound:
		return "more than " + groupDigits(t.Count) + " " + many
	}
	return "about " + roughly(t.Count) + " " + many
}

// totalNote says how a total that is not exact was found.
func totalNote(t admin.Total) string {
	if t.LowerBound {
		return "counted no further"
	}
	return "estimated from the table statistics"
}
