package web

import (
	"context"
	"testing"

	"github.com/dancecard/dancecard/internal/admin"
	"github.com/dancecard/dancecard/internal/i18n"
)

func TestGroupDigitsAndRoughly(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45678: "-45,678"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{987: "990", 12345: "12,000", 45678: "46,000", 999_999: "1,000,000",
		1_234_567: "1.2 million", 1_000_000: "1 million", 12_600_000: "13 million", 3_400_000_000: "3.4 billion"} {
		if got := roughly(context.Background(), n); got != want {
			t.Errorf("roughly(%d) = %q, want %q", n, got, want)
		}
	}
	de := i18n.With(context.Background(), i18n.Embedded().Localizer("de"))
	for n, want := range map[int64]string{45678: "46.000", 1_234_567: "1,2 Mio.", 3_400_000_000: "3,4 Mrd."} {
		if got := roughly(de, n); got != want {
			t.Errorf("German roughly(%d) = %q, want %q", n, got, want)
		}
	}
	if got := digits(de, 1234567); got != "1.234.567" {
		t.Errorf("German digits = %q", got)
	}
}

func TestTotalLabel(t *testing.T) {
	for _, tc := range []struct {
		t    admin.Total
		want string
	}{
		{admin.Total{Count: 1, Exact: true}, "1 user"},
		{admin.Total{Count: 0, Exact: true}, "0 users"},
		{admin.Total{Count: 1234, Exact: true}, "1,234 users"},
		{admin.Total{Count: 1_234_567}, "about 1.2 million users"},
		{admin.Total{Count: 1000, LowerBound: true}, "more than 1,000 users"},
	} {
		if got := totalLabel(context.Background(), tc.t, "users"); got != tc.want {
			t.Errorf("totalLabel(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

// TestReasonText: recorded reasons read as sentences, the innermost cause
// of an error chain winning, and a reason nobody wrote a sentence for is
// left as it was recorded.
func TestReasonText(t *testing.T) {
	for recorded, want := range map[string]string{
		"links: account disabled":             "The account is disabled.",
		"accounts: account disabled":          "The account is disabled.",
		"account disabled":                    "The account is disabled.",
		"wrong password":                      "The password was wrong.",
		"wrong password on re-authentication": "The password was wrong when confirming who they are.",
		"oauth: finish devhub: token endpoint: oauth: provider unreachable": "The provider could not be reached.",
		"oauth: authorize devhub: oauth: the user denied access":            "The person declined access at the provider.",
		"the provider refused the refresh token (invalid_grant)":            "The provider refused the refresh token.",
		"passkey on re-authentication: signature counter went back":         "The passkey's signature counter went back: it may have been copied.",
		"421 try again later": "",
		"":                    "",
	} {
		if got := reasonText(context.Background(), recorded); got != want {
			t.Errorf("reasonText(%q) = %q, want %q", recorded, got, want)
		}
	}
}

// TestLoginChartAxis: the y-axis reaches just past the busiest day in
// round steps, labelled with grouped digits, and the dates sit under the
// first and last days and about a week apart.
func TestLoginChartAxis(t *testing.T) {
	for top, want := range map[int64][2]int64{0: {1, 1}, 1: {1, 1}, 3: {3, 1}, 7: {8, 2}, 37: {40, 10}, 1234: {1500, 500}, 99_000: {100_000, 20_000}} {
		if a, s := niceScale(top); a != want[0] || s != want[1] {
			t.Errorf("niceScale(%d) = %d, %d; want %d, %d", top, a, s, want[0], want[1])
		}
	}
	days := make([]admin.DayCount, 30)
	days[12].OK, days[13].Failed = 1234, 5
	v := loginChartOf(context.Background(), days)
	var ticks []string
	for _, tk := range v.Ticks {
		ticks = append(ticks, tk.Label)
	}
	if len(ticks) != 4 || ticks[0] != "1,500" || ticks[3] != "0" || v.Ticks[0].Y != "0.00" || v.Ticks[3].Y != "100.00" {
		t.Errorf("ticks %v at %+v", ticks, v.Ticks)
	}
	if len(v.Bars) != 60 || len(v.Labels) != 30 {
		t.Fatalf("%d bars, %d label cells", len(v.Bars), len(v.Labels))
	}
	var dated int
	for _, l := range v.Labels {
		if l.Text != "" {
			dated++
		}
	}
	if dated != 5 || v.Labels[0].Class != "chart-x-first" || v.Labels[29].Class != "chart-x-last" {
		t.Errorf("dates: %+v", v.Labels)
	}
}
