package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/store"
)

// reportsDB is a migrated database with the two seeded tenants, its owner's connection and
// the application's pool.
func reportsDB(t *testing.T) (alpha, beta uuid.UUID, owner *pgx.Conn, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	alpha, beta = seed(t, url)
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close(ctx) })
	pool, err := store.Open(ctx, url, store.PoolOptions{MaxConns: 4, AsApp: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return alpha, beta, owner, &store.DB{Pool: pool}
}

// scope is a report's range of local days as the supervision service builds it; monthly
// widens it to whole months.
func scope(t *testing.T, from, to, zone string, monthly bool) store.ReportScope {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	f, err1 := time.Parse("2006-01-02", from)
	l, err2 := time.Parse("2006-01-02", to)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if monthly {
		f = time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC)
		l = time.Date(l.Year(), l.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	}
	return store.ReportScope{Location: loc,
		Start: time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc).UTC(),
		End:   time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc).UTC()}
}

// visitorLines renders a traffic report's visitors as "period visitors new", in period
// order, then "total visitors".
func visitorLines(r *store.TrafficReport) string {
	var lines []string
	for period, t := range r.ByPeriod {
		if t.Visitors != 0 || t.NewVisitors != 0 {
			lines = append(lines, fmt.Sprintf("%s %d %d", period, t.Visitors, t.NewVisitors))
		}
	}
	sort.Strings(lines)
	return strings.Join(append(lines, fmt.Sprintf("total %d", r.Visitors)), "|")
}

// by is the traffic report that counts what the reference does.
func by(monthly bool) store.TrafficBy {
	if monthly {
		return store.TrafficByMonth
	}
	return store.TrafficByDayWithNewVisitors
}

func fold(t *testing.T, db *store.DB, tenant uuid.UUID, batch, batches int) {
	t.Helper()
	for range batches {
		err := db.InTenant(context.Background(), tenant, func(tx pgx.Tx) error {
			_, err := store.FoldReports(context.Background(), tx, batch)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A visitor active on both sides of a local midnight is a visitor of each of the two
// local days and one visitor of the range, before and after folding.
func TestReportVisitorsAcrossALocalMidnightCountOncePerDayAndOnceInTheRange(t *testing.T) {
	ctx := context.Background()
	_, beta, owner, db := reportsDB(t)
	at := func(s string) time.Time {
		ts, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	visit := func(firstSeen string, starts ...string) {
		v := uuid.New()
		if _, err := owner.Exec(ctx, `INSERT INTO visitors (tenant_id, visitor_id, created_at) VALUES ($1, $2, $3)`, beta, v, at(firstSeen)); err != nil {
			t.Fatal(err)
		}
		for _, s := range starts {
			if _, err := owner.Exec(ctx, `INSERT INTO visitor_sessions (tenant_id, visitor_id, started_at, last_seen_at, page_views) VALUES ($1, $2, $3, $3, 1)`,
				beta, v, at(s)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// x: 23:30 and 00:30 in New York; y: Jan 19 and Jan 20 in New York, three UTC days;
	// z: Jan 21 in UTC only, and new that day (first seen then).
	visit("2026-01-01 00:00", "2026-01-20 04:30", "2026-01-20 05:30")
	visit("2026-01-01 00:00", "2026-01-19 23:00", "2026-01-21 01:00")
	visit("2026-01-21 01:30", "2026-01-21 01:30")
	cases := []struct {
		name, from, to, zone string
		monthly              bool
		want                 string
	}{
		{"New York days", "2026-01-19", "2026-01-20", "America/New_York", false, "2026-01-19 2 0|2026-01-20 3 1|total 3"},
		{"one New York day", "2026-01-20", "2026-01-20", "America/New_York", false, "2026-01-20 3 1|total 3"},
		{"UTC days", "2026-01-19", "2026-01-21", "UTC", false, "2026-01-19 1 0|2026-01-20 1 0|2026-01-21 2 1|total 3"},
		{"half-hour zone", "2026-01-20", "2026-01-21", "Asia/Kolkata", false, "2026-01-20 2 0|2026-01-21 2 1|total 3"},
		{"New York month", "2026-01-20", "2026-01-20", "America/New_York", true, "2026-01 3 0|total 3"},
	}
	for _, phase := range []string{"queued", "folded"} {
		if phase == "folded" {
			fold(t, db, beta, 1000, 1)
		}
		for _, c := range cases {
			t.Run(phase+": "+c.name, func(t *testing.T) {
				err := db.InTenant(ctx, beta, func(tx pgx.Tx) error {
					got, err := store.ReportTraffic(ctx, tx, scope(t, c.from, c.to, c.zone, c.monthly), by(c.monthly))
					if err != nil {
						return err
					}
					if visitorLines(got) != c.want {
						t.Errorf("got  %s\nwant %s", visitorLines(got), c.want)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// The counters give the same visitors as deduplicating every visitor-day, in zones of
// every kind of offset and across daylight-saving changes and a month's end, whether the
// activity is folded, queued, partly both, or open conversations; activity arrives out
// of time order and is folded in small batches.
func TestReportVisitorCountersMatchTheCountByActivity(t *testing.T) {
	ctx := context.Background()
	alpha, _, owner, db := reportsDB(t)
	var unit uuid.UUID
	if err := owner.QueryRow(ctx, `SELECT unit_id FROM business_units WHERE tenant_id = $1`, alpha).Scan(&unit); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(7, 11))
	base := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC) // through the US (Mar 8) and European (Mar 29) clock changes
	const days = 30
	// Half the instants fall near a UTC, New York, Kolkata or Chatham midnight.
	instant := func() time.Time {
		d := base.AddDate(0, 0, rnd.IntN(days))
		if rnd.IntN(2) == 0 {
			return d.Add(time.Duration(rnd.IntN(24*60)) * time.Minute)
		}
		edge := []time.Duration{0, 4 * time.Hour, 5 * time.Hour, 18*time.Hour + 30*time.Minute, 10*time.Hour + 15*time.Minute}[rnd.IntN(5)]
		return d.Add(edge + time.Duration(rnd.IntN(120)-60)*time.Minute)
	}
	type activity struct {
		visitor uuid.UUID
		kind    int
		at      time.Time
	}
	var acts []activity
	for range 150 {
		v := uuid.New()
		if _, err := owner.Exec(ctx, `INSERT INTO visitors (tenant_id, visitor_id, created_at) VALUES ($1, $2, $3)`, alpha, v, instant()); err != nil {
			t.Fatal(err)
		}
		for range 1 + rnd.IntN(6) {
			acts = append(acts, activity{v, rnd.IntN(4), instant()})
		}
	}
	record := func(a activity) {
		var err error
		switch a.kind {
		case 0: // a visit
			_, err = owner.Exec(ctx, `INSERT INTO visitor_sessions (tenant_id, visitor_id, started_at, last_seen_at, page_views) VALUES ($1, $2, $3, $3, 1)`, alpha, a.visitor, a.at)
		case 1: // a visit, then a page viewed up to three hours later
			_, err = owner.Exec(ctx, `WITH s AS (INSERT INTO visitor_sessions (tenant_id, visitor_id, started_at, last_seen_at, page_views)
				VALUES ($1, $2, $3, $3, 1) RETURNING session_id) SELECT session_id FROM s`, alpha, a.visitor, a.at)
			if err == nil {
				_, err = owner.Exec(ctx, `UPDATE visitor_sessions SET page_views = page_views + 1, last_seen_at = $3
					WHERE tenant_id = $1 AND visitor_id = $2 AND started_at = $4`, alpha, a.visitor, a.at.Add(time.Duration(rnd.IntN(180))*time.Minute), a.at)
			}
		case 2: // a closed conversation
			_, err = owner.Exec(ctx, `INSERT INTO conversations (tenant_id, unit_id, visitor_id, state, visitor_token_hash, created_at, closed_at)
				VALUES ($1, $2, $3, 'closed', '\x00', $4, $4)`, alpha, unit, a.visitor, a.at)
		default: // an open conversation, read live
			_, err = owner.Exec(ctx, `INSERT INTO conversations (tenant_id, unit_id, visitor_id, state, visitor_token_hash, created_at)
				VALUES ($1, $2, $3, 'queued', '\x00', $4)`, alpha, unit, a.visitor, a.at)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	zones := []string{"UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns", "Pacific/Kiritimati", "Pacific/Pago_Pago"}
	type window struct {
		from, to string
		monthly  bool
	}
	windows := []window{{"2026-03-04", "2026-04-04", false}, {"2026-03-08", "2026-03-08", false}, {"2026-03-07", "2026-03-09", false},
		{"2026-03-28", "2026-03-30", false}, {"2026-03-10", "2026-03-24", false}, {"2026-03-31", "2026-04-01", false},
		{"2026-03-01", "2026-04-30", true}, {"2026-02-01", "2026-03-01", true}}
	compare := func(t *testing.T) {
		t.Helper()
		err := db.InTenant(ctx, alpha, func(tx pgx.Tx) error {
			for _, zone := range zones {
				for _, w := range windows {
					s := scope(t, w.from, w.to, zone, w.monthly)
					got, err := store.ReportTraffic(ctx, tx, s, by(w.monthly))
					if err != nil {
						return err
					}
					want, err := store.ReportVisitorsByActivity(ctx, tx, s, w.monthly)
					if err != nil {
						return err
					}
					if visitorLines(got) != visitorLines(want) {
						t.Errorf("%s %s..%s monthly=%v:\ngot  %s\nwant %s", zone, w.from, w.to, w.monthly, visitorLines(got), visitorLines(want))
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The rollups' own bookkeeping: each UTC day's and month's counter is its number of
	// rows, each row's prev_last_at the visitor's previous row's last_at, and each unit's
	// hour the sum of its agents' hours.
	consistent := func(t *testing.T) {
		t.Helper()
		var wrong int
		if err := owner.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM (SELECT day, count(*) AS n FROM report_visitor_days WHERE tenant_id = $1 GROUP BY day) d
			   FULL JOIN (SELECT day, visitors FROM report_visitor_day_counts WHERE tenant_id = $1) c USING (day)
			  WHERE d.n IS DISTINCT FROM c.visitors)
			+ (SELECT count(*) FROM (SELECT month, count(*) AS n FROM report_visitor_months WHERE tenant_id = $1 GROUP BY month) d
			   FULL JOIN (SELECT month, visitors FROM report_visitor_month_counts WHERE tenant_id = $1) c USING (month)
			  WHERE d.n IS DISTINCT FROM c.visitors)
			+ (SELECT count(*) FROM (SELECT prev_last_at, coalesce(lag(last_at) OVER (PARTITION BY visitor_id ORDER BY day), '-infinity') AS want
			                          FROM report_visitor_days WHERE tenant_id = $1) r WHERE prev_last_at <> want)
			+ (SELECT count(*) FROM (SELECT hour, unit_id, sum(conversations) AS c, sum(offline_messages) AS o FROM report_hours WHERE tenant_id = $1 GROUP BY 1, 2) h
			   FULL JOIN (SELECT hour, unit_id, conversations AS c, offline_messages AS o FROM report_unit_hours WHERE tenant_id = $1) u USING (hour, unit_id)
			  WHERE (h.c, h.o) IS DISTINCT FROM (u.c, u.o))`, alpha).Scan(&wrong); err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Errorf("%d counters, prev_last_at values or unit hours disagree with the rows", wrong)
		}
	}

	// The first half folded in small batches, the second half arriving after it (earlier
	// and later instants alike) and half of that folded too.
	rnd.Shuffle(len(acts), func(i, j int) { acts[i], acts[j] = acts[j], acts[i] })
	half := len(acts) / 2
	for _, a := range acts[:half] {
		record(a)
	}
	t.Run("all queued", compare)
	fold(t, db, alpha, 37, 1+half/37)
	for _, a := range acts[half:] {
		record(a)
	}
	fold(t, db, alpha, 23, (len(acts)-half)/46)
	t.Run("partly folded", func(t *testing.T) { compare(t); consistent(t) })
	fold(t, db, alpha, 5000, 1)
	t.Run("all folded", func(t *testing.T) { compare(t); consistent(t) })
}
