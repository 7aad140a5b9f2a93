package i18n

import (
	"strings"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// TestTextsMatchGoI18n checks the resolved messages T serves from against
// go-i18n, which they stand in for: every message of every language, with
// each placeholder given a string, then a number, then nothing.
func TestTextsMatchGoI18n(t *testing.T) {
	c := Embedded()
	for _, lang := range Languages {
		l := c.Localizer(lang.Code)
		if len(l.texts) < len(c.Messages(Default))/2 {
			t.Fatalf("%s: only %d of %d messages resolved", lang.Code, len(l.texts), len(c.Messages(Default)))
		}
		for id := range l.texts {
			m := c.Messages(Default)[id]
			if own, ok := c.Messages(lang.Code)[id]; ok {
				m = own
			}
			fields := placeholder.FindAllStringSubmatch(m.Other, -1)
			for _, data := range []Data{stringData(fields), numberData(fields), nil} {
				want, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
				if err != nil {
					t.Fatalf("%s %s: go-i18n: %v", lang.Code, id, err)
				}
				if got := l.T(id, data); got != strings.TrimSpace(want) {
					t.Errorf("%s %s with %v:\n got %q\nwant %q", lang.Code, id, data, got, strings.TrimSpace(want))
				}
			}
		}
	}
}

func stringData(fields [][]string) Data {
	d := Data{}
	for _, f := range fields {
		d[f[1]] = "«" + f[1] + "»"
	}
	return d
}

func numberData(fields [][]string) Data {
	d := Data{}
	for i, f := range fields {
		d[f[1]] = 1000 + i
	}
	return d
}
