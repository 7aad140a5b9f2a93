package web

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/i18n"
)

// The dashboard's charts need no JavaScript: bars and grid lines are SVG
// drawn here, stretched to the width they get, and every number and date
// is HTML beside them, so text keeps its size on a phone. Each bar carries
// a <title> with its exact number, which browsers show on hover.

// chartPlotH is the height of the log-in chart's drawing in its own units;
// the page sets how tall it is shown.
const chartPlotH = 100.0

// bar is one rectangle of a chart.
type bar struct {
	X, Y, W, H string
	Class      string
	Title      string
}

// tick is one value on a y-axis, at height Y of the drawing.
type tick struct{ Label, Y string }

// xLabel is one cell under the bars: a date, or empty.
type xLabel struct{ Text, Class string }

// loginChartView is the log-in chart, ready to draw.
type loginChartView struct {
	ViewBox, Width string
	Ticks          []tick // top to bottom
	Bars           []bar
	Labels         []xLabel // one per day
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// niceScale is the top of a y-axis for a largest value of top, and the step
// between its ticks: a step of 1, 2 or 5 times a power of ten, four or
// five ticks above zero.
func niceScale(top int64) (int64, int64) {
	if top <= 0 {
		return 1, 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if step := m * p; top <= 5*step {
				return (top + step - 1) / step * step, step
			}
		}
	}
}

// loginChartOf lays out each day's successful and failed log-ins side by
// side against a y-axis scaled to the busiest day, with a date under the
// first and last days and about one a week between them.
func loginChartOf(ctx context.Context, days []admin.DayCount) loginChartView {
	const slot = 10.0
	v := loginChartView{Width: num(slot * float64(len(days)))}
	v.ViewBox = "0 0 " + v.Width + " " + num(chartPlotH)
	var top int64
	for _, d := range days {
		top = max(top, d.OK, d.Failed)
	}
	axisTop, step := niceScale(top)
	for t := axisTop; t >= 0; t -= step {
		v.Ticks = append(v.Ticks, tick{Label: digits(ctx, t), Y: num(chartPlotH - chartPlotH*float64(t)/float64(axisTop))})
	}
	for i, d := range days {
		x := float64(i) * slot
		day := dayMonth(ctx, d.Day)
		for j, s := range []struct {
			n           int64
			class, what string
		}{{d.OK, "chart-ok", t(ctx, "admin.chart.succeeded")}, {d.Failed, "chart-failed", t(ctx, "admin.chart.failed")}} {
			h := chartPlotH * float64(s.n) / float64(axisTop)
			v.Bars = append(v.Bars, bar{X: num(x + 1.5 + float64(j)*3.5), Y: num(chartPlotH - h), W: "3.50", H: num(h),
				Class: s.class, Title: day + ": " + digits(ctx, s.n) + " " + s.what})
		}
		l := xLabel{}
		switch {
		case i == 0:
			l = xLabel{Text: day, Class: "chart-x-first"}
		case i == len(days)-1:
			l = xLabel{Text: day, Class: "chart-x-last"}
		case i%7 == 0 && i < len(days)-4:
			l = xLabel{Text: day}
		}
		v.Labels = append(v.Labels, l)
	}
	return v
}

// providerBar is one provider's row of the connections chart: widths in
// percent of the largest provider's count.
type providerBar struct {
	ID, Name, Value string
	Full, Part      string
}

// providerBarsOf lays out one bar per provider, the part that needs
// reconnecting drawn over it.
func providerBarsOf(ctx context.Context, ps []admin.ProviderCount, names ProviderNames) []providerBar {
	var top int64 = 1
	for _, p := range ps {
		top = max(top, p.Count)
	}
	var out []providerBar
	for _, p := range ps {
		value := digits(ctx, p.Count)
		if p.NeedsReauth > 0 {
			value += " " + t(ctx, "admin.chart.needs_reauth", i18n.Data{"N": digits(ctx, p.NeedsReauth)})
		}
		out = append(out, providerBar{ID: p.Provider, Name: names.Of(p.Provider), Value: value,
			Full: num(100 * float64(p.Count) / float64(top)), Part: num(100 * float64(p.NeedsReauth) / float64(top))})
	}
	return out
}

// eventPayload is an event's full record as indented JSON, for reading.
func eventPayload(e admin.EventRow) string {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return string(e.Data)
	}
	return string(b)
}

// lowerFirst lower-cases the first letter of a label used mid-sentence.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// dayMonth writes the UTC day and month of t, without the year, for the
// labels of a chart: "2 Jan", "2. Jan.".
func dayMonth(ctx context.Context, t time.Time) string {
	l := i18n.From(ctx)
	t = t.UTC()
	return l.T("admin.chart.day", i18n.Data{"Day": t.Day(), "Month": l.T(months[t.Month()-1])})
}
