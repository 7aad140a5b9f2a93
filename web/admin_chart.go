package web

import (
	"encoding/json"
	"strconv"

	"github.com/dancecard/dancecard/internal/admin"
)

// The dashboard's charts are plain SVG drawn here, so the page needs no
// JavaScript. Each shape carries a <title> with its exact number, which
// browsers show on hover and screen readers read.

const (
	chartW, chartH = 600.0, 160.0
	chartPad       = 24.0 // room under the bars for the axis labels
)

// bar is one rectangle of a chart.
type bar struct {
	X, Y, W, H string
	Class      string
	Title      string
}

// axisLabel is a piece of text on a chart.
type axisLabel struct {
	X, Y, Text string
	Anchor     string // text-anchor: start, middle or end
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// loginBars draws each day's successful and failed log-ins side by side,
// scaled to the busiest day.
func loginBars(days []admin.DayCount) ([]bar, []axisLabel) {
	var top int64 = 1
	for _, d := range days {
		top = max(top, d.OK, d.Failed)
	}
	if len(days) == 0 {
		return nil, nil
	}
	slot := chartW / float64(len(days))
	w := slot * 0.4
	plot := chartH - chartPad
	var bars []bar
	var labels []axisLabel
	for i, d := range days {
		x := float64(i) * slot
		day := d.Day.UTC().Format("2 Jan")
		for j, v := range []struct {
			n     int64
			class string
			what  string
		}{{d.OK, "chart-ok", "succeeded"}, {d.Failed, "chart-failed", "failed"}} {
			h := plot * float64(v.n) / float64(top)
			bars = append(bars, bar{X: num(x + slot*0.1 + float64(j)*w), Y: num(plot - h), W: num(w), H: num(h),
				Class: v.class, Title: day + ": " + strconv.FormatInt(v.n, 10) + " log-ins " + v.what})
		}
		// A label a week, and the last day's, kept inside the chart.
		switch {
		case i == 0:
			labels = append(labels, axisLabel{X: num(x), Y: num(chartH - 6), Text: day, Anchor: "start"})
		case i == len(days)-1:
			labels = append(labels, axisLabel{X: num(x + slot), Y: num(chartH - 6), Text: day, Anchor: "end"})
		case i%7 == 0 && i < len(days)-4:
			labels = append(labels, axisLabel{X: num(x + slot/2), Y: num(chartH - 6), Text: day, Anchor: "middle"})
		}
	}
	return bars, labels
}

// providerBars draws one horizontal bar per provider, the part needing
// re-authorisation in a warning colour.
func providerBars(ps []admin.ProviderCount) ([]bar, []axisLabel, string) {
	const rowH, labelW = 26.0, 120.0
	var top int64 = 1
	for _, p := range ps {
		top = max(top, p.Count)
	}
	var bars []bar
	var labels []axisLabel
	for i, p := range ps {
		y := float64(i) * rowH
		full := (chartW - labelW - 70) * float64(p.Count) / float64(top)
		reauth := (chartW - labelW - 70) * float64(p.NeedsReauth) / float64(top)
		bars = append(bars,
			bar{X: num(labelW), Y: num(y + 4), W: num(full), H: num(rowH - 8), Class: "chart-ok",
				Title: p.Provider + ": " + strconv.FormatInt(p.Count, 10) + " connections"},
			bar{X: num(labelW), Y: num(y + 4), W: num(reauth), H: num(rowH - 8), Class: "chart-failed",
				Title: p.Provider + ": " + strconv.FormatInt(p.NeedsReauth, 10) + " need re-authorisation"})
		labels = append(labels,
			axisLabel{X: num(labelW - 8), Y: num(y + rowH/2 + 4), Text: p.Provider, Anchor: "end"},
			axisLabel{X: num(labelW + full + 6), Y: num(y + rowH/2 + 4), Text: strconv.FormatInt(p.Count, 10), Anchor: "start"})
	}
	return bars, labels, num(max(rowH, float64(len(ps))*rowH))
}

// eventPayload is an event's full record as indented JSON, for reading.
func eventPayload(e admin.EventRow) string {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return string(e.Data)
	}
	return string(b)
}
