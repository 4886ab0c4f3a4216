package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ReportVisitorsByActivity counts a scope's visitors the slow way (every visitor-day of
// the range, deduplicated): the reference the visitor counters are checked against.
func ReportVisitorsByActivity(ctx context.Context, tx pgx.Tx, s ReportScope, monthly bool) (*TrafficReport, error) {
	out := &TrafficReport{ByPeriod: map[string]*Traffic{}}
	at := func(period string) *Traffic {
		if out.ByPeriod[period] == nil {
			out.ByPeriod[period] = &Traffic{}
		}
		return out.ByPeriod[period]
	}
	return out, visitorsByActivity(ctx, tx, s, monthly, at, out)
}
