package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Reports read rollups that a folder keeps up to date behind the writers (migration
// 0012 explains the tables). Every report query adds what the folder has not folded yet,
// so a report is exact at any moment; folding only keeps it fast.

// ReportFoldInterval is how often the folder looks for new rows.
const ReportFoldInterval = time.Second

// reportFoldBatch is how many queued rows one fold takes; large enough that a backlog
// (a restore, a migration of old data) drains quickly, small enough for short transactions.
const reportFoldBatch = 5000

// RunReportFolder folds every tenant's queued report rows every ReportFoldInterval until
// ctx ends.
func (db *DB) RunReportFolder(ctx context.Context) {
	t := time.NewTicker(ReportFoldInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := db.FoldAllReports(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("report folder", "err", err)
			}
		}
	}
}

// FoldAllReports folds every tenant's queue until it is empty and returns how many
// queued rows it folded. A tenant another replica is folding is skipped.
func (db *DB) FoldAllReports(ctx context.Context) (int, error) {
	tenants, err := db.TenantIDs(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, tenant := range tenants {
		for {
			n := 0
			err := db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
				var err error
				n, err = FoldReports(ctx, tx, reportFoldBatch)
				return err
			})
			if err != nil {
				return total, fmt.Errorf("folding reports of tenant %s: %w", tenant, err)
			}
			total += n
			if n < reportFoldBatch {
				break
			}
		}
	}
	return total, nil
}

// FoldReports moves up to limit queued rows of the transaction's tenant into the rollups
// and deletes them, all in the transaction, and returns how many it folded; 0 when
// another transaction holds the tenant's folding lock.
func FoldReports(ctx context.Context, tx pgx.Tx, limit int) (int, error) {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended(sb_current_tenant()::text, 12))`).Scan(&ok); err != nil || !ok {
		return 0, err
	}
	var (
		n        int
		days     []time.Time
		visitors []uuid.UUID
	)
	err := tx.QueryRow(ctx, foldStatement, limit).Scan(&n, &days, &visitors)
	if err != nil {
		return 0, fmt.Errorf("folding report rows: %w", err)
	}
	// A visitor-day's prev_last_at is the last_at of the visitor's row before it: it
	// changes for the rows just written and for the visitor's next row, whose earlier
	// neighbour may now be one of them (queued rows need not come in time order).
	if _, err := tx.Exec(ctx, `WITH touched AS (SELECT * FROM unnest($1::date[], $2::uuid[]) AS t(day, visitor_id)),
		targets AS (
			SELECT t.day, t.visitor_id FROM touched t
			UNION
			SELECT n.day, t.visitor_id FROM touched t CROSS JOIN LATERAL (
				SELECT r.day FROM report_visitor_days r
				 WHERE r.tenant_id = sb_current_tenant() AND r.visitor_id = t.visitor_id AND r.day > t.day
				 ORDER BY r.day LIMIT 1) n),
		prev AS (
			SELECT t.day, t.visitor_id, coalesce((SELECT p.last_at FROM report_visitor_days p
				 WHERE p.tenant_id = sb_current_tenant() AND p.visitor_id = t.visitor_id AND p.day < t.day
				 ORDER BY p.day DESC LIMIT 1), '-infinity') AS at
			  FROM targets t)
		UPDATE report_visitor_days r SET prev_last_at = prev.at FROM prev
		 WHERE r.tenant_id = sb_current_tenant() AND r.day = prev.day AND r.visitor_id = prev.visitor_id AND r.prev_last_at <> prev.at`,
		days, visitors); err != nil {
		return 0, fmt.Errorf("linking visitor-days: %w", err)
	}
	return n, nil
}

// foldStatement moves up to $1 queued rows of the tenant into the rollups and returns how
// many it took and the visitor-days it wrote. One statement, so that what it deletes
// from the queue and what it adds to the rollups commit together; the figures of one hour
// are summed before they are upserted, since one statement may not change a row twice.
var foldStatement = fmt.Sprintf(`WITH taken AS (
			DELETE FROM report_queue q
			 WHERE q.tenant_id = sb_current_tenant()
			   AND q.queue_id IN (SELECT queue_id FROM report_queue WHERE tenant_id = sb_current_tenant() ORDER BY queue_id LIMIT $1)
			RETURNING q.kind, q.ref, q.unit_id, q.visitor_id, q.at, q.page_views),
		facts AS MATERIALIZED (
			SELECT f.hour, f.unit_id, f.agent_id, sum(f.conversations) AS conversations, sum(f.visitor_messages) AS visitor_messages,
			       sum(f.agent_messages) AS agent_messages, sum(f.offline_messages) AS offline_messages,
			       sum(f.first_response_sum) AS first_response_sum, sum(f.first_response_count) AS first_response_count,
			       sum(f.response_sum) AS response_sum, sum(f.response_count) AS response_count, sum(f.unanswered) AS unanswered,
			       sum(f.handling_sum) AS handling_sum, sum(f.handling_count) AS handling_count
			  FROM (SELECT f.hour, f.unit_id, f.agent_id, f.conversations, f.visitor_messages, f.agent_messages, 0::bigint AS offline_messages,
			               f.first_response_sum, f.first_response_count, f.response_sum, f.response_count, f.unanswered, f.handling_sum, f.handling_count
			          FROM sb_report_facts(ARRAY(SELECT ref FROM taken WHERE kind = 'conversation')) f
			        UNION ALL
			        SELECT date_trunc('hour', t.at, 'UTC'), t.unit_id, '00000000-0000-0000-0000-000000000000', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0
			          FROM taken t WHERE t.kind = 'offline') f
			 GROUP BY f.hour, f.unit_id, f.agent_id),
		hours AS (
			INSERT INTO report_hours AS r (tenant_id, hour, unit_id, agent_id, conversations, visitor_messages, agent_messages, offline_messages,
				first_response_sum, first_response_count, response_sum, response_count, unanswered, handling_sum, handling_count)
			SELECT sb_current_tenant(), f.hour, f.unit_id, f.agent_id, f.conversations, f.visitor_messages, f.agent_messages,
			       f.offline_messages, f.first_response_sum, f.first_response_count, f.response_sum, f.response_count,
			       f.unanswered, f.handling_sum, f.handling_count
			  FROM facts f
			ON CONFLICT (tenant_id, hour, unit_id, agent_id) DO UPDATE SET %[1]s),
		unit_hours AS (
			INSERT INTO report_unit_hours AS r (tenant_id, hour, unit_id, conversations, visitor_messages, agent_messages, offline_messages,
				first_response_sum, first_response_count, response_sum, response_count, unanswered, handling_sum, handling_count)
			SELECT sb_current_tenant(), f.hour, f.unit_id, sum(f.conversations), sum(f.visitor_messages), sum(f.agent_messages),
			       sum(f.offline_messages), sum(f.first_response_sum), sum(f.first_response_count), sum(f.response_sum), sum(f.response_count),
			       sum(f.unanswered), sum(f.handling_sum), sum(f.handling_count)
			  FROM facts f GROUP BY f.hour, f.unit_id
			ON CONFLICT (tenant_id, hour, unit_id) DO UPDATE SET %[1]s),
		traffic AS (
			INSERT INTO report_traffic_hours AS r (tenant_id, hour, visits, page_views)
			SELECT sb_current_tenant(), date_trunc('hour', t.at, 'UTC'), count(*) FILTER (WHERE t.kind = 'visit'), sum(t.page_views)
			  FROM taken t WHERE t.kind IN ('visit', 'page_view') GROUP BY 2
			ON CONFLICT (tenant_id, hour) DO UPDATE SET visits = r.visits + excluded.visits, page_views = r.page_views + excluded.page_views),
		days AS (
			INSERT INTO report_visitor_days AS r (tenant_id, day, visitor_id, first_at, last_at, first_seen_at)
			SELECT sb_current_tenant(), (t.at AT TIME ZONE 'UTC')::date, t.visitor_id, min(t.at), max(t.at),
			       (SELECT v.created_at FROM visitors v WHERE v.tenant_id = sb_current_tenant() AND v.visitor_id = t.visitor_id)
			  FROM taken t WHERE t.visitor_id IS NOT NULL GROUP BY 2, 3
			ON CONFLICT (tenant_id, day, visitor_id) DO UPDATE SET
				first_at = least(r.first_at, excluded.first_at), last_at = greatest(r.last_at, excluded.last_at),
				first_seen_at = coalesce(r.first_seen_at, excluded.first_seen_at)
			RETURNING r.day, r.visitor_id, r.xmax = 0 AS inserted),
		day_counts AS (
			INSERT INTO report_visitor_day_counts AS r (tenant_id, day, visitors)
			SELECT sb_current_tenant(), d.day, count(*) FROM days d WHERE d.inserted GROUP BY d.day
			ON CONFLICT (tenant_id, day) DO UPDATE SET visitors = r.visitors + excluded.visitors),
		months AS (
			INSERT INTO report_visitor_months AS r (tenant_id, month, visitor_id, first_at, last_at)
			SELECT sb_current_tenant(), date_trunc('month', t.at, 'UTC')::date, t.visitor_id, min(t.at), max(t.at)
			  FROM taken t WHERE t.visitor_id IS NOT NULL GROUP BY 2, 3
			ON CONFLICT (tenant_id, month, visitor_id) DO UPDATE SET
				first_at = least(r.first_at, excluded.first_at), last_at = greatest(r.last_at, excluded.last_at)
			RETURNING r.month, r.xmax = 0 AS inserted),
		month_counts AS (
			INSERT INTO report_visitor_month_counts AS r (tenant_id, month, visitors)
			SELECT sb_current_tenant(), m.month, count(*) FROM months m WHERE m.inserted GROUP BY m.month
			ON CONFLICT (tenant_id, month) DO UPDATE SET visitors = r.visitors + excluded.visitors)
		SELECT (SELECT count(*) FROM taken), ARRAY(SELECT day FROM days), ARRAY(SELECT visitor_id FROM days)`, rollupSums)

// rollupSums adds a fold's figures to an hourly rollup's row.
const rollupSums = `conversations = r.conversations + excluded.conversations,
				visitor_messages = r.visitor_messages + excluded.visitor_messages,
				agent_messages = r.agent_messages + excluded.agent_messages,
				offline_messages = r.offline_messages + excluded.offline_messages,
				first_response_sum = r.first_response_sum + excluded.first_response_sum,
				first_response_count = r.first_response_count + excluded.first_response_count,
				response_sum = r.response_sum + excluded.response_sum,
				response_count = r.response_count + excluded.response_count,
				unanswered = r.unanswered + excluded.unanswered,
				handling_sum = r.handling_sum + excluded.handling_sum,
				handling_count = r.handling_count + excluded.handling_count`

// NoAgent is the agent of report figures of conversations no agent took.
var NoAgent = uuid.Nil

// ReportScope is what a report covers: the instants [Start, End) (local midnights of the
// first day and of the day after the last), days counted in Location, conversations of
// Units, and of Agent when it is not nil.
type ReportScope struct {
	Start, End time.Time
	Location   *time.Location
	Units      []uuid.UUID
	Agent      *uuid.UUID
}

// ReportFigures are the conversation figures of a report cell. Durations are in seconds.
type ReportFigures struct {
	Conversations      int64
	VisitorMessages    int64
	AgentMessages      int64
	OfflineMessages    int64
	FirstResponseSum   float64
	FirstResponseCount int64
	ResponseSum        float64
	ResponseCount      int64
	Unanswered         int64
	HandlingSum        float64
	HandlingCount      int64
}

// Add adds o to f.
func (f *ReportFigures) Add(o *ReportFigures) {
	f.Conversations += o.Conversations
	f.VisitorMessages += o.VisitorMessages
	f.AgentMessages += o.AgentMessages
	f.OfflineMessages += o.OfflineMessages
	f.FirstResponseSum += o.FirstResponseSum
	f.FirstResponseCount += o.FirstResponseCount
	f.ResponseSum += o.ResponseSum
	f.ResponseCount += o.ResponseCount
	f.Unanswered += o.Unanswered
	f.HandlingSum += o.HandlingSum
	f.HandlingCount += o.HandlingCount
}

// ConversationReport is a scope's conversation figures by local day ("YYYY-MM-DD") and by
// local hour of the day, or by agent (NoAgent for conversations no agent took).
type ConversationReport struct {
	ByDay   map[string]*ReportFigures
	ByHour  [24]ReportFigures
	ByAgent map[uuid.UUID]*ReportFigures
}

// reportFigures is every figure of the scope, from an hourly rollup (%[3]s, whose agent is
// %[2]s, filtered by %[4]s), plus the
// conversations not folded yet (open, or closed and still queued), plus the queued
// offline messages; one statement, so one snapshot. $1 and $2 bound the UTC hours, $3 is
// the units, $4 the agent or NULL.
const reportFigures = `WITH tail AS (
		SELECT conversation_id FROM conversations WHERE tenant_id = sb_current_tenant() AND state <> 'closed'
		UNION
		SELECT ref FROM report_queue WHERE tenant_id = sb_current_tenant() AND kind = 'conversation'),
	figures AS (
		SELECT r.hour, %[2]s AS agent_id, r.conversations, r.visitor_messages, r.agent_messages, r.offline_messages,
		       r.first_response_sum, r.first_response_count, r.response_sum, r.response_count,
		       r.unanswered, r.handling_sum, r.handling_count
		  FROM %[3]s r
		 WHERE r.tenant_id = sb_current_tenant() AND r.hour >= $1 AND r.hour < $2
		   AND r.unit_id = ANY ($3) AND %[4]s
		UNION ALL
		SELECT f.hour, f.agent_id, f.conversations, f.visitor_messages, f.agent_messages, 0,
		       f.first_response_sum, f.first_response_count, f.response_sum, f.response_count,
		       f.unanswered, f.handling_sum, f.handling_count
		  FROM sb_report_facts(ARRAY(SELECT conversation_id FROM tail)) f
		 WHERE f.hour >= $1 AND f.hour < $2 AND f.unit_id = ANY ($3) AND ($4::uuid IS NULL OR f.agent_id = $4)
		UNION ALL
		SELECT date_trunc('hour', q.at, 'UTC'), '00000000-0000-0000-0000-000000000000', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0
		  FROM report_queue q
		 WHERE q.tenant_id = sb_current_tenant() AND q.kind = 'offline' AND date_trunc('hour', q.at, 'UTC') >= $1
		   AND date_trunc('hour', q.at, 'UTC') < $2 AND q.unit_id = ANY ($3) AND $4::uuid IS NULL)
	SELECT %[1]s, sum(conversations)::bigint, sum(visitor_messages)::bigint, sum(agent_messages)::bigint, sum(offline_messages)::bigint,
	       sum(first_response_sum), sum(first_response_count)::bigint, sum(response_sum), sum(response_count)::bigint,
	       sum(unanswered)::bigint, sum(handling_sum), sum(handling_count)::bigint
	  FROM figures GROUP BY 1`

// The groupings reports need. Figures are summed per UTC hour and placed on local days and
// hours here, so that PostgreSQL converts no time zone for them. Without an agent, hours
// are read from the rollup per unit.
const agentFilter = "($4::uuid IS NULL OR r.agent_id = $4)"

var (
	figuresByHour          = fmt.Sprintf(reportFigures, "hour", "r.agent_id", "report_hours", agentFilter)
	figuresByHourAllAgents = fmt.Sprintf(reportFigures, "hour", "NULL::uuid", "report_unit_hours", "$4::uuid IS NULL")
	figuresByAgent         = fmt.Sprintf(reportFigures, "agent_id", "r.agent_id", "report_hours", agentFilter)
)

// ReportConversations reads a scope's conversation figures by local day and hour, or, when
// byAgent, by agent.
func ReportConversations(ctx context.Context, tx pgx.Tx, s ReportScope, byAgent bool) (*ConversationReport, error) {
	query := figuresByHour
	switch {
	case byAgent:
		query = figuresByAgent
	case s.Agent == nil:
		query = figuresByHourAllAgents
	}
	if err := noJIT(ctx, tx); err != nil {
		return nil, fmt.Errorf("reading conversation figures: %w", err)
	}
	rows, err := tx.Query(ctx, query, s.Start, s.End, s.Units, s.Agent)
	if err != nil {
		return nil, fmt.Errorf("reading conversation figures: %w", err)
	}
	defer rows.Close()
	out := &ConversationReport{ByDay: map[string]*ReportFigures{}, ByAgent: map[uuid.UUID]*ReportFigures{}}
	for rows.Next() {
		var (
			hour  time.Time
			agent uuid.UUID
			f     ReportFigures
		)
		key := any(&hour)
		if byAgent {
			key = &agent
		}
		if err := rows.Scan(key, &f.Conversations, &f.VisitorMessages, &f.AgentMessages, &f.OfflineMessages,
			&f.FirstResponseSum, &f.FirstResponseCount, &f.ResponseSum, &f.ResponseCount, &f.Unanswered, &f.HandlingSum, &f.HandlingCount); err != nil {
			return nil, err
		}
		if byAgent {
			out.ByAgent[agent] = &f
			continue
		}
		// An hour counts on the local day and at the local hour its first minute falls in.
		local := hour.In(s.Location)
		day := local.Format("2006-01-02")
		if out.ByDay[day] == nil {
			out.ByDay[day] = &ReportFigures{}
		}
		out.ByDay[day].Add(&f)
		out.ByHour[local.Hour()].Add(&f)
	}
	return out, rows.Err()
}

// Traffic is a day's (or a range's) visitors and pages.
type Traffic struct {
	Visitors    int64
	NewVisitors int64
	Visits      int64
	PageViews   int64
}

// TrafficReport is a scope's tenant-wide traffic by local day or month, and the distinct
// visitors of the whole scope.
type TrafficReport struct {
	ByPeriod map[string]*Traffic
	Visitors int64
}

// TrafficBy is the period a traffic report counts by.
type TrafficBy int

const (
	// TrafficByDay counts by local day, visitors distinct per day and over the scope.
	TrafficByDay TrafficBy = iota
	// TrafficByDayWithNewVisitors counts new visitors too.
	TrafficByDayWithNewVisitors
	// TrafficByMonth counts by local month; the scope's visitors sum the months'.
	TrafficByMonth
)

// ReportTraffic reads tenant-wide traffic (units and agent of s do not apply: pages belong
// to no unit) by local day ("YYYY-MM-DD") or month ("YYYY-MM"). Visitors are distinct per
// period; a visitor is new in the period in which it was first seen.
func ReportTraffic(ctx context.Context, tx pgx.Tx, s ReportScope, by TrafficBy) (*TrafficReport, error) {
	monthly := by == TrafficByMonth
	out := &TrafficReport{ByPeriod: map[string]*Traffic{}}
	at := func(period string) *Traffic {
		if out.ByPeriod[period] == nil {
			out.ByPeriod[period] = &Traffic{}
		}
		return out.ByPeriod[period]
	}
	rows, err := tx.Query(ctx, `SELECT t.hour, sum(t.visits)::bigint, sum(t.page_views)::bigint FROM (
			SELECT hour, visits, page_views FROM report_traffic_hours
			 WHERE tenant_id = sb_current_tenant() AND hour >= $1 AND hour < $2
			UNION ALL
			SELECT date_trunc('hour', at, 'UTC'), (kind = 'visit')::int, page_views FROM report_queue
			 WHERE tenant_id = sb_current_tenant() AND kind IN ('visit', 'page_view')
			   AND date_trunc('hour', at, 'UTC') >= $1 AND date_trunc('hour', at, 'UTC') < $2) t
		GROUP BY 1`, s.Start, s.End)
	if err != nil {
		return nil, fmt.Errorf("reading page views: %w", err)
	}
	layout := "2006-01-02"
	if monthly {
		layout = "2006-01"
	}
	for rows.Next() {
		var hour time.Time
		var visits, views int64
		if err := rows.Scan(&hour, &visits, &views); err != nil {
			rows.Close()
			return nil, err
		}
		t := at(hour.In(s.Location).Format(layout))
		t.Visits += visits
		t.PageViews += views
	}
	if rows.Close(); rows.Err() != nil {
		return nil, fmt.Errorf("reading page views: %w", rows.Err())
	}

	periods, ok := visitorPeriods(s, monthly)
	if !ok {
		// A local day longer than a UTC day and straddling two UTC midnights: no zone in use
		// has one, but the count by activity is exact for it too.
		return out, visitorsByActivity(ctx, tx, s, monthly, at, out)
	}
	return out, countVisitors(ctx, tx, s, by, periods, at, out)
}

// visitorsByActivity counts distinct visitors from each visitor's first and last
// activity of every UTC day (or month) of the scope, deduplicated: exact in every zone, but
// proportional to the visitor-days of the scope (0012's way, kept for periods that
// visitorPeriods cannot split).
func visitorsByActivity(ctx context.Context, tx pgx.Tx, s ReportScope, monthly bool, at func(string) *Traffic, out *TrafficReport) error {
	// Each kept row stands for its visitor's first and last activity in a UTC day (or
	// month), which name every local period the visitor was active in; the neighbouring
	// UTC periods are read because a local period overlaps them.
	query := `WITH activity AS (
			SELECT d.visitor_id, a.at, d.first_seen_at FROM report_visitor_days d
			 CROSS JOIN LATERAL (VALUES (d.first_at), (d.last_at)) a(at)
			 WHERE d.tenant_id = sb_current_tenant() AND d.day >= ($1 AT TIME ZONE 'UTC')::date - 1 AND d.day <= ($2 AT TIME ZONE 'UTC')::date
			UNION ALL
			SELECT q.visitor_id, q.at, v.created_at FROM report_queue q
			  LEFT JOIN visitors v ON v.tenant_id = q.tenant_id AND v.visitor_id = q.visitor_id
			 WHERE q.tenant_id = sb_current_tenant() AND q.visitor_id IS NOT NULL
			UNION ALL
			SELECT c.visitor_id, c.created_at, v.created_at FROM conversations c
			  LEFT JOIN visitors v ON v.tenant_id = c.tenant_id AND v.visitor_id = c.visitor_id
			 WHERE c.tenant_id = sb_current_tenant() AND c.state <> 'closed'),
		per_day AS MATERIALIZED (
			SELECT (at AT TIME ZONE $3)::date AS day, visitor_id, bool_or((first_seen_at AT TIME ZONE $3)::date = (at AT TIME ZONE $3)::date) AS fresh
			  FROM activity WHERE at >= $1 AND at < $2 GROUP BY 1, 2)
		SELECT 0, to_char(day, 'YYYY-MM-DD'), count(*), count(*) FILTER (WHERE fresh) FROM per_day GROUP BY day
		UNION ALL
		SELECT 1, '', count(*), 0 FROM (SELECT visitor_id FROM per_day GROUP BY visitor_id) v`
	if monthly {
		// Monthly totals sum the months (the proto says so), so no distinct count over
		// the whole range is made; the month table is much smaller than the day table.
		query = `WITH activity AS (
			SELECT d.visitor_id, a.at FROM report_visitor_months d
			 CROSS JOIN LATERAL (VALUES (d.first_at), (d.last_at)) a(at)
			 WHERE d.tenant_id = sb_current_tenant() AND d.month >= (date_trunc('month', $1 AT TIME ZONE 'UTC') - interval '1 month')::date
			   AND d.month <= ($2 AT TIME ZONE 'UTC')::date
			UNION ALL
			SELECT q.visitor_id, q.at FROM report_queue q
			 WHERE q.tenant_id = sb_current_tenant() AND q.visitor_id IS NOT NULL
			UNION ALL
			SELECT c.visitor_id, c.created_at FROM conversations c
			 WHERE c.tenant_id = sb_current_tenant() AND c.state <> 'closed'),
		per_month AS (
			SELECT date_trunc('month', at AT TIME ZONE $3) AS month, visitor_id FROM activity
			 WHERE at >= $1 AND at < $2 GROUP BY 1, 2)
		SELECT 0, to_char(month, 'YYYY-MM'), count(*), 0 FROM per_month GROUP BY month`
	}
	// Visitors are counted by hash aggregates over a period's visitor-days; given room,
	// they do not spill to disk.
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return fmt.Errorf("reading visitors: %w", err)
	}
	rows, err := tx.Query(ctx, query, s.Start, s.End, s.Location.String())
	if err != nil {
		return fmt.Errorf("reading visitors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var grouping int
		var period string
		var visitors, fresh int64
		if err := rows.Scan(&grouping, &period, &visitors, &fresh); err != nil {
			return err
		}
		if grouping == 1 {
			out.Visitors = visitors
			continue
		}
		t := at(period)
		t.Visitors, t.NewVisitors = visitors, fresh
		if monthly {
			out.Visitors += visitors
		}
	}
	return rows.Err()
}

// visitorPeriod is a local day or month [start, end) and the UTC days (or months) lo and
// hi that hold its first and last instants; hi is lo or the one after it. loSmall: less of
// the period lies in lo than in hi.
type visitorPeriod struct {
	key        string
	start, end time.Time
	lo, hi     time.Time
	loSmall    bool
}

// visitorPeriods splits the scope into its local days (or months) and the UTC days (or
// months) they overlap; false when a period overlaps more than two.
func visitorPeriods(s ReportScope, monthly bool) ([]visitorPeriod, bool) {
	utc := func(t time.Time) time.Time {
		t = t.UTC()
		if monthly {
			return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	next := func(t time.Time) time.Time {
		if monthly {
			return t.AddDate(0, 1, 0)
		}
		return t.AddDate(0, 0, 1)
	}
	var out []visitorPeriod
	for start := s.Start; start.Before(s.End); {
		local := start.In(s.Location)
		p := visitorPeriod{key: local.Format("2006-01-02"), start: start}
		if monthly {
			p.key = local.Format("2006-01")
			p.end = time.Date(local.Year(), local.Month()+1, 1, 0, 0, 0, 0, s.Location).UTC()
		} else {
			p.end = time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, s.Location).UTC()
		}
		// PostgreSQL keeps microseconds: the period's last instant is a microsecond before its end.
		p.lo, p.hi = utc(p.start), utc(p.end.Add(-time.Microsecond))
		if p.hi.After(next(p.lo)) {
			return nil, false
		}
		p.loSmall = next(p.lo).Sub(p.start) < p.end.Sub(p.hi)
		out = append(out, p)
		start = p.end
	}
	return out, true
}

// visitorCount counts the distinct visitors of local periods from the UTC ones (see
// migration 0014), in one statement. Per period ($1 to $6: keys, lo, start, hi, end,
// loSmall):
//
//   - the rollup's visitors: when the period lies in one UTC period, its counter minus the
//     rows wholly before the period's start or wholly after its end; else the counter of
//     the UTC period holding more of it, minus its rows wholly outside the period, plus the
//     rows of the other UTC period active within the period whose visitor the first does
//     not hold;
//   - new visitors (%[4]s; days only): the rows active within the period of visitors first
//     seen in it;
//   - the visitors active within the period in what is not folded yet (queued rows, open
//     conversations) whom the rollup does not hold, and (%[5]s) the new ones among them.
//
// %[6]s adds the range [$7, $8)'s distinct visitors (days only; $9 and $10 are its first
// and last UTC days): each visitor's first row in it, in the first UTC day if active after
// the range's start, or in a later one if the visitor's activity before that day ended
// before the range started. %[1]s is the rollup, %[2]s its counter, %[3]s its period column.
const visitorCount = `WITH p AS (
		SELECT * FROM unnest($1::text[], $2::date[], $3::timestamptz[], $4::date[], $5::timestamptz[], $6::bool[])
		    AS p(period, lo, s, hi, e, lo_small)),
	unfolded AS (
		SELECT u.visitor_id, u.at, v.created_at AS first_seen_at FROM (
			SELECT visitor_id, at FROM report_queue WHERE tenant_id = sb_current_tenant() AND visitor_id IS NOT NULL
			UNION
			SELECT visitor_id, created_at FROM conversations WHERE tenant_id = sb_current_tenant() AND state <> 'closed') u
		  LEFT JOIN visitors v ON v.tenant_id = sb_current_tenant() AND v.visitor_id = u.visitor_id),
	counted AS (
		SELECT p.period, CASE
			WHEN p.lo = p.hi THEN
				coalesce((SELECT c.visitors FROM %[2]s c WHERE c.tenant_id = sb_current_tenant() AND c.%[3]s = p.lo), 0)
				- (SELECT count(*) FROM %[1]s r WHERE r.tenant_id = sb_current_tenant() AND r.%[3]s = p.lo AND r.last_at < p.s)
				- (SELECT count(*) FROM %[1]s r WHERE r.tenant_id = sb_current_tenant() AND r.%[3]s = p.lo AND r.first_at >= p.e)
			WHEN p.lo_small THEN
				coalesce((SELECT c.visitors FROM %[2]s c WHERE c.tenant_id = sb_current_tenant() AND c.%[3]s = p.hi), 0)
				- (SELECT count(*) FROM %[1]s r WHERE r.tenant_id = sb_current_tenant() AND r.%[3]s = p.hi AND r.first_at >= p.e)
				+ (SELECT count(*) FROM %[1]s r WHERE r.tenant_id = sb_current_tenant() AND r.%[3]s = p.lo AND r.last_at >= p.s
				      AND NOT EXISTS (SELECT FROM %[1]s o WHERE o.tenant_id = sb_current_tenant() AND o.%[3]s = p.hi
				                         AND o.visitor_id = r.visitor_id AND o.first_at < p.e))
			ELSE
				coalesce((SELECT c.visitors FROM %[2]s c WHERE c.tenant_id = sb_current_tenant() AND c.%[3]s = p.lo), 0)
				- (SELECT count(*) FROM %[1]s r WHERE r.tenant_id = sb_current_tenant() AND r.%[3]s = p.lo AND r.last_at < p.s)
				+ (SELECT count(*) FROM %[1]s r WHERE r.tenant_id = sb_current_tenant() AND r.%[3]s = p.hi AND r.first_at < p.e
				      AND NOT EXISTS (SELECT FROM %[1]s o WHERE o.tenant_id = sb_current_tenant() AND o.%[3]s = p.lo
				                         AND o.visitor_id = r.visitor_id AND o.last_at >= p.s))
			END AS visitors,
			%[4]s AS fresh,
			(SELECT count(DISTINCT u.visitor_id) FROM unfolded u WHERE u.at >= p.s AND u.at < p.e
			    AND NOT EXISTS (SELECT FROM %[1]s r WHERE r.tenant_id = sb_current_tenant() AND r.%[3]s IN (p.lo, p.hi) AND r.visitor_id = u.visitor_id
			                       AND (r.%[3]s > p.lo OR r.last_at >= p.s) AND (r.%[3]s < p.hi OR r.first_at < p.e))) AS unfolded_visitors,
			%[5]s AS unfolded_fresh
		  FROM p)
	SELECT period, visitors + unfolded_visitors, fresh + unfolded_fresh FROM counted
	%[6]s`

// The day form's new visitors (when $11) and range total; the month form has neither (a
// monthly report's total sums its months).
const (
	visitorFreshDays = `CASE WHEN $11 THEN (SELECT count(DISTINCT r.visitor_id) FROM report_visitor_days r
			   WHERE r.tenant_id = sb_current_tenant() AND r.first_seen_at >= p.s AND r.first_seen_at < p.e AND r.day IN (p.lo, p.hi)
			     AND (r.day > p.lo OR r.last_at >= p.s) AND (r.day < p.hi OR r.first_at < p.e)) ELSE 0 END`
	visitorUnfoldedFreshDays = `CASE WHEN $11 THEN (SELECT count(DISTINCT u.visitor_id) FROM unfolded u
			   WHERE u.at >= p.s AND u.at < p.e AND u.first_seen_at >= p.s AND u.first_seen_at < p.e
			     AND NOT EXISTS (SELECT FROM report_visitor_days r WHERE r.tenant_id = sb_current_tenant() AND r.day IN (p.lo, p.hi)
			                        AND r.visitor_id = u.visitor_id AND r.first_seen_at >= p.s AND r.first_seen_at < p.e
			                        AND (r.day > p.lo OR r.last_at >= p.s) AND (r.day < p.hi OR r.first_at < p.e))) ELSE 0 END`
	visitorTotalDays = `UNION ALL
	SELECT NULL, CASE WHEN $9::date = $10::date THEN
			(SELECT count(*) FROM report_visitor_days r WHERE r.tenant_id = sb_current_tenant() AND r.day = $9 AND r.last_at >= $7 AND r.first_at < $8)
		ELSE
			(SELECT count(*) FROM report_visitor_days r WHERE r.tenant_id = sb_current_tenant() AND r.day = $9 AND r.last_at >= $7)
			+ coalesce((SELECT sum(n.n) FROM generate_series(1, $10::date - $9::date - 1) d(i)
			   CROSS JOIN LATERAL (SELECT count(*) AS n FROM report_visitor_days r
			                        WHERE r.tenant_id = sb_current_tenant() AND r.day = $9::date + d.i AND r.prev_last_at < $7) n), 0)
			+ (SELECT count(*) FROM report_visitor_days r WHERE r.tenant_id = sb_current_tenant() AND r.day = $10 AND r.prev_last_at < $7 AND r.first_at < $8)
		END
		+ (SELECT count(DISTINCT u.visitor_id) FROM unfolded u WHERE u.at >= $7 AND u.at < $8
		    AND NOT EXISTS (SELECT FROM report_visitor_days r WHERE r.tenant_id = sb_current_tenant() AND r.visitor_id = u.visitor_id
		                       AND r.day BETWEEN $9 AND $10 AND (r.day > $9 OR r.last_at >= $7) AND (r.day < $10 OR r.first_at < $8))), 0`
)

var (
	visitorCountDays   = fmt.Sprintf(visitorCount, "report_visitor_days", "report_visitor_day_counts", "day", visitorFreshDays, visitorUnfoldedFreshDays, visitorTotalDays)
	visitorCountMonths = fmt.Sprintf(visitorCount, "report_visitor_months", "report_visitor_month_counts", "month", "0", "0", "")
)

// countVisitors counts the distinct visitors of each period, their new visitors and (days
// only) the distinct visitors of the whole scope, from the visitor counters (migration 0014).
func countVisitors(ctx context.Context, tx pgx.Tx, s ReportScope, by TrafficBy, periods []visitorPeriod, at func(string) *Traffic, out *TrafficReport) error {
	monthly := by == TrafficByMonth
	var (
		keys                   []string
		los, starts, his, ends []time.Time
		loSmall                []bool
	)
	for _, p := range periods {
		keys, los, starts, his, ends, loSmall = append(keys, p.key), append(los, p.lo), append(starts, p.start), append(his, p.hi), append(ends, p.end), append(loSmall, p.loSmall)
	}
	query, args := visitorCountMonths, []any{keys, los, starts, his, ends, loSmall}
	if !monthly {
		last := s.End.Add(-time.Microsecond).UTC()
		first := s.Start.UTC()
		query = visitorCountDays
		args = append(args, s.Start, s.End,
			time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC), time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC),
			by == TrafficByDayWithNewVisitors)
	}
	if err := noJIT(ctx, tx); err != nil {
		return fmt.Errorf("counting visitors: %w", err)
	}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("counting visitors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var period *string
		var visitors, fresh int64
		if err := rows.Scan(&period, &visitors, &fresh); err != nil {
			return fmt.Errorf("counting visitors: %w", err)
		}
		if period == nil {
			out.Visitors = visitors
			continue
		}
		if visitors > 0 {
			t := at(*period)
			t.Visitors, t.NewVisitors = visitors, fresh
		}
		if monthly {
			out.Visitors += visitors
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("counting visitors: %w", err)
	}
	return nil
}

// noJIT turns PostgreSQL's JIT compilation off for the rest of the transaction. The
// reports' statements are many small index reads whose summed cost estimate passes
// jit_above_cost: compiling them took 2.3 s on the benchmark's machine, running them 50 ms.
func noJIT(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET LOCAL jit = off`)
	return err
}

// ReportUnit is a business unit as reports name it.
type ReportUnit struct {
	ID       uuid.UUID
	TimeZone string // of its business hours; "" when it has none
}

// ReportUnitByName finds a unit of the transaction's tenant by name.
func ReportUnitByName(ctx context.Context, tx pgx.Tx, name string) (*ReportUnit, error) {
	var u ReportUnit
	err := tx.QueryRow(ctx, `SELECT unit_id, coalesce(business_hours->>'timeZone', '') FROM business_units
		WHERE tenant_id = sb_current_tenant() AND name = $1`, name).Scan(&u.ID, &u.TimeZone)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &u, err
}

// ReportAgent is an agent as reports name it.
type ReportAgent struct {
	ID          uuid.UUID
	Name        string
	DisplayName string
}

// ReportAgents lists the agents of the transaction's tenant by id.
func ReportAgents(ctx context.Context, tx pgx.Tx) (map[uuid.UUID]ReportAgent, error) {
	rows, err := tx.Query(ctx, `SELECT agent_id, name, display_name FROM agents WHERE tenant_id = sb_current_tenant()`)
	if err != nil {
		return nil, fmt.Errorf("listing agents: %w", err)
	}
	out := map[uuid.UUID]ReportAgent{}
	for rows.Next() {
		var a ReportAgent
		if err := rows.Scan(&a.ID, &a.Name, &a.DisplayName); err != nil {
			rows.Close()
			return nil, err
		}
		out[a.ID] = a
	}
	return out, rows.Err()
}

// codeInvalidParameterValue is the SQLSTATE of an unknown time zone.
const codeInvalidParameterValue = "22023"

// ErrUnknownTimeZone: PostgreSQL does not know the time zone.
var ErrUnknownTimeZone = errors.New("time zone not known")

// CheckTimeZone reports ErrUnknownTimeZone when PostgreSQL, which counts the days, does
// not know a zone that Go knows. The transaction cannot go on after that error.
func CheckTimeZone(ctx context.Context, tx pgx.Tx, name string) error {
	_, err := tx.Exec(ctx, `SELECT now() AT TIME ZONE $1`, name)
	if hasCode(err, codeInvalidParameterValue) {
		return ErrUnknownTimeZone
	}
	return err
}
