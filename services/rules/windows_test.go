package rules

import (
	"fmt"
	"testing"
	"time"
)

func TestBurnRateWindowsFollowTheWorkbookAndStayMeasurable(t *testing.T) {
	for _, c := range []struct {
		name    string
		window  time.Duration
		percent float64
		want    string
	}{
		{"a 30-day 99.9% objective gets the workbook's four tiers", 720 * time.Hour, 99.9,
			"[{critical 1h 5m 14.4} {critical 6h 30m 6} {warning 1d 2h 3} {warning 3d 6h 1}]"},
		{"a one-day 95% objective gets windows of at least 5m and 1m", 24 * time.Hour, 95,
			"[{critical 5m 1m 14.4} {critical 12m 1m 6} {warning 48m 4m 3} {warning 2h24m 12m 1}]"},
		{"a one-hour 90% objective drops 14.4×, which would need more than every observation missed", time.Hour, 90,
			"[{critical 5m 1m 6} {warning 5m 1m 3} {warning 6m 1m 1}]"},
		{"a ten-minute objective keeps, of tiers with the same windows, the one that fires first", 10 * time.Minute, 99,
			"[{critical 5m 1m 6} {warning 5m 1m 1}]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, tier := range burnTiers(c.window, 1-c.percent/100) {
				got = append(got, fmt.Sprintf("{%s %s %s %s}", tier.severity, promDuration(tier.long), promDuration(tier.short), num(tier.factor)))
			}
			if s := fmt.Sprint(got); s != c.want {
				t.Errorf("got %s, want %s", s, c.want)
			}
		})
	}
}

func TestSelectorsQuoteEveryValue(t *testing.T) {
	got := selector(`ac"me\`, "business_unit", "sales", "status", "available|busy")
	want := `{tenant="ac\"me\\",business_unit="sales",status=~"available|busy"}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
