package web

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/i18n"
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

// digits writes n with its digits grouped in the language of ctx:
// 1,234,567 in English, 1.234.567 in German.
func digits(ctx context.Context, n int64) string {
	return localGroups(groupDigits(n), t(ctx, "number.group"), t(ctx, "number.decimal"))
}

// localGroups swaps the English group and decimal marks of an English
// number for those of a language.
func localGroups(s, group, decimal string) string {
	return strings.NewReplacer(",", group, ".", decimal).Replace(s)
}

// roughly writes an estimate to two significant digits, in words past a
// million, in the language of ctx: 1,234,567 is "1.2 million" ("1,2 Mio."),
// 45,678 is "46,000" ("46.000").
func roughly(ctx context.Context, n int64) string {
	if n <= 0 {
		return "0"
	}
	group, decimal := t(ctx, "number.group"), t(ctx, "number.decimal")
	for _, u := range []struct {
		size float64
		id   string
	}{{1e9, i18n.ID("number.billions")}, {1e6, i18n.ID("number.millions")}} {
		if f := float64(n) / u.size; f >= 1 {
			var v string
			if f >= 10 {
				v = groupDigits(int64(math.Round(f)))
			} else {
				v = strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
			}
			return i18n.T(ctx, u.id, i18n.Data{"N": localGroups(v, group, decimal)})
		}
	}
	n10 := len(strconv.FormatInt(n, 10))
	unit := math.Pow(10, float64(max(n10-2, 0)))
	return localGroups(groupDigits(int64(math.Round(float64(n)/unit)*unit)), group, decimal)
}

// totalLabel says, in the language of ctx, how many rows a list of kind
// ("users", "connections", "events", "deliveries", "mail") holds: "1 user", "1,234 users",
// "about 1.2 million users" or "more than 1,000 users".
func totalLabel(ctx context.Context, tot admin.Total, kind string) string {
	if tot.Exact {
		n, d := int(tot.Count), i18n.Data{"N": digits(ctx, tot.Count)}
		switch kind {
		case "connections":
			return tn(ctx, "admin.total.connections", n, d)
		case "events":
			return tn(ctx, "admin.total.events", n, d)
		case "deliveries":
			return tn(ctx, "admin.total.deliveries", n, d)
		case "mail":
			return tn(ctx, "admin.total.mail", n, d)
		}
		return tn(ctx, "admin.total.users", n, d)
	}
	about, more := i18n.ID("admin.total.users_about"), i18n.ID("admin.total.users_more")
	switch kind {
	case "connections":
		about, more = i18n.ID("admin.total.connections_about"), i18n.ID("admin.total.connections_more")
	case "events":
		about, more = i18n.ID("admin.total.events_about"), i18n.ID("admin.total.events_more")
	case "deliveries":
		about, more = i18n.ID("admin.total.deliveries_about"), i18n.ID("admin.total.deliveries_more")
	case "mail":
		about, more = i18n.ID("admin.total.mail_about"), i18n.ID("admin.total.mail_more")
	}
	if tot.LowerBound {
		return i18n.T(ctx, more, i18n.Data{"N": digits(ctx, tot.Count)})
	}
	return i18n.T(ctx, about, i18n.Data{"N": roughly(ctx, tot.Count)})
}

// totalNote says how a total that is not exact was found.
func totalNote(ctx context.Context, tot admin.Total) string {
	if tot.LowerBound {
		return t(ctx, "admin.total.counted_no_further")
	}
	return t(ctx, "admin.total.estimated")
}
