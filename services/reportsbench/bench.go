// Package reportsbench measures the reports, as `switchboard bench reports` runs it: a
// tenant is seeded with bulk SQL as the schema owner (conversations over a year with their
// messages, visits with page views, offline messages, and a few open conversations), the
// rollups are built by the production folder (store.FoldAllReports, the code the server
// runs every second), and then each report is timed through the public Connect API of an
// in-process server over HTTP/2.
package reportsbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/bench"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Options configures a run.
type Options struct {
	// Conversations is the number of stored conversations; 0 means 1,000,000.
	Conversations int
	// Runs is how many times each report is timed; 0 means 30.
	Runs int
	// DatabaseURL is a schema owner's connection to a PostgreSQL database to use. Empty
	// starts a private cluster (localpg) in a fresh temp folder, removed at the end.
	DatabaseURL string
	// DataDir, when set, keeps the private cluster in this folder instead of a temp one,
	// and a tenant an earlier run seeded there with as many conversations is reused, so
	// that the reports can be timed again without seeding again.
	DataDir string
	// Command is the command line that repeats the run, quoted in the report.
	Command string
	// Logf, if set, receives progress messages.
	Logf func(format string, args ...any)
}

// Defaults of Options.
const (
	DefaultConversations = 1_000_000
	DefaultRuns          = 30
)

// Shape of the seeded tenant, per conversation stored.
const (
	units         = 4
	agentsPerUnit = 5
	// visitorsPerConversation, sessionsPerConversation: returning visitors chat again.
	visitorsPerConversation = 0.6
	sessionsPerConversation = 1.5
	// maxPagesPerSession: a session views 1 to this many pages.
	maxPagesPerSession = 5
	// offlineShare: one offline message per this many conversations.
	offlineShare = 20
	// unansweredShare: one conversation in this many ends before any agent replied.
	unansweredShare = 10
	// openConversations are left open, for the part of every report read live.
	openConversations = 100
	analyst           = "analyst"
	benchPassword     = "switchboard-bench"
	// targetMs is the latency target of the daily and monthly reports.
	targetMs = 500
)

// Report is what a run measured.
type Report struct {
	Command         string    `json:"command"`
	StartedAt       time.Time `json:"startedAt"`
	NumCPU          int       `json:"numCPU"`
	GoVersion       string    `json:"goVersion"`
	PostgresVersion string    `json:"postgresVersion"`
	SharedBuffers   string    `json:"sharedBuffers"`
	WorkMem         string    `json:"workMem"`
	Database        string    `json:"database"`
	// Stored counts what was seeded.
	Conversations int64   `json:"conversations"`
	Messages      int64   `json:"messages"`
	Visitors      int64   `json:"visitors"`
	Visits        int64   `json:"visits"`
	PageViews     int64   `json:"pageViews"`
	Offline       int64   `json:"offlineMessages"`
	SeedSeconds   float64 `json:"seedSeconds"`
	// Reused is true when the tenant was seeded and folded by an earlier run (--data-dir).
	Reused bool `json:"reused"`
	// Folded is how many queued rows the folder moved into the rollups, and how long it took.
	Folded      int     `json:"folded"`
	FoldSeconds float64 `json:"foldSeconds"`
	// RollupRows counts the rollups' rows after folding.
	RollupRows map[string]int64 `json:"rollupRows"`
	Queries    []Query          `json:"queries"`
	Targets    []Target         `json:"targets"`
	Errors     []string         `json:"errors,omitempty"`
}

// Query is one timed report call.
type Query struct {
	Name    string        `json:"name"`
	Latency bench.Latency `json:"latency"`
	// Check is a figure of the answer, to show that it covered the data.
	Check string `json:"check"`
}

// Target is a latency goal and whether the run met it.
type Target struct {
	Name   string  `json:"name"`
	P99Ms  float64 `json:"p99Ms"`
	Goal   string  `json:"goal"`
	Passed bool    `json:"passed"`
}

// Run seeds, folds and measures. It returns what was measured even when a step failed.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Conversations == 0 {
		o.Conversations = DefaultConversations
	}
	if o.Runs == 0 {
		o.Runs = DefaultRuns
	}
	if o.Conversations < 1000 || o.Runs < 1 {
		return nil, fmt.Errorf("conversations %d (at least 1000) and runs %d (at least 1)", o.Conversations, o.Runs)
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	rep := &Report{Command: o.Command, StartedAt: time.Now().UTC().Truncate(time.Second), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version()}
	db, err := bench.OpenDatabase(ctx, o.DatabaseURL, o.DataDir, "reports bench", o.Logf)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	url := db.URL
	rep.Database = db.Description
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connecting as the schema owner: %w", err)
	}
	defer owner.Close(context.WithoutCancel(ctx))
	for _, s := range []struct {
		name string
		dst  *string
	}{{"server_version", &rep.PostgresVersion}, {"shared_buffers", &rep.SharedBuffers}, {"work_mem", &rep.WorkMem}} {
		if err := owner.QueryRow(ctx, "SHOW "+s.name).Scan(s.dst); err != nil {
			return nil, fmt.Errorf("reading PostgreSQL setting %s: %w", s.name, err)
		}
	}

	tenant, found, err := seeded(ctx, owner, o)
	if err != nil {
		return rep, err
	}
	rep.Reused = found
	if !found {
		if tenant, err = seed(ctx, owner, o, rep); err != nil {
			return rep, err
		}
	}
	if err := count(ctx, owner, tenant, rep); err != nil {
		return rep, err
	}
	// The search index is not measured here, and a deployment's indexer is caught up with
	// its history; without this, the server's indexer would spend the timed minutes
	// indexing a million seeded conversations.
	o.Logf("reports bench: marking the seeded conversations as indexed for search")
	if _, err := owner.Exec(ctx, `INSERT INTO conversation_search (tenant_id, conversation_id, indexed_seq, indexed_at)
		SELECT tenant_id, conversation_id, last_seq, now() FROM conversations WHERE tenant_id = $1 AND state = 'closed'
		ON CONFLICT DO NOTHING`, tenant.ID); err != nil {
		return rep, fmt.Errorf("marking the seeded conversations as indexed: %w", err)
	}
	if err := fold(ctx, owner, url, tenant, o, rep); err != nil {
		return rep, err
	}

	srv, err := server.New(ctx, server.Config{DatabaseURL: url, SkipMigrate: true})
	if err != nil {
		return rep, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Pool.Close()
		return rep, fmt.Errorf("listening on loopback: %w", err)
	}
	// The server's handler is served without its background workers: the reports need
	// none (everything is folded, and what is not is read live), and the search indexer
	// would look for unindexed conversations among the million seeded ones every second,
	// in competition with the timed calls.
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	p.SetHTTP1(true)
	hs := &http.Server{Handler: srv.Handler(), Protocols: p, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // ends with Close below
	defer func() {
		hs.Close()
		srv.Pool.Close()
	}()
	hc := &http.Client{Transport: &http.Transport{Protocols: p}}
	defer hc.CloseIdleConnections()
	base := "http://" + ln.Addr().String()
	if err := waitHealthy(ctx, hc, base); err != nil {
		return rep, err
	}
	login, err := authv1connect.NewAuthServiceClient(hc, base).Login(ctx, connect.NewRequest(&authv1.LoginRequest{Tenant: tenant.Name, Username: analyst, Password: benchPassword}))
	if err != nil {
		return rep, fmt.Errorf("signing the analyst in: %w", err)
	}
	client := supervisionv1connect.NewSupervisionServiceClient(hc, base, connect.WithInterceptors(bearer(login.Msg.Token)))
	if err := measure(ctx, client, o, rep); err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		return rep, err
	}
	return rep, nil
}

// seed provisions the bench tenant and fills it with bulk INSERT … SELECT as the schema
// owner. The report triggers queue every stored row, as they do for live traffic.
func seed(ctx context.Context, owner *pgx.Conn, o Options, rep *Report) (provision.Applied, error) {
	name := "reportsbench-" + randomSuffix()
	cfg := &provision.Config{Tenants: []v1alpha1.Tenant{{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.TenantSpec{DisplayName: "Switchboard reports bench"}}}}
	for u := range units {
		cfg.BusinessUnits = append(cfg.BusinessUnits, v1alpha1.BusinessUnit{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unit-%d", u+1), Namespace: name},
			Spec: v1alpha1.BusinessUnitSpec{Supervisors: []v1alpha1.Supervisor{{Name: analyst, Permissions: []v1alpha1.Permission{v1alpha1.PermissionAllChats}}}}})
	}
	for i := range units * agentsPerUnit {
		cfg.AgentCapacities = append(cfg.AgentCapacities, v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Name: agentName(i), Namespace: name},
			Spec: v1alpha1.AgentCapacitySpec{Agent: agentName(i), BusinessUnits: []string{fmt.Sprintf("unit-%d", i/agentsPerUnit+1)}, MaxConversations: 10}})
	}
	applied, err := provision.Apply(ctx, owner, cfg)
	if err != nil {
		return provision.Applied{}, fmt.Errorf("provisioning tenant %s: %w", name, err)
	}
	hash, err := auth.HashPassword(benchPassword)
	if err != nil {
		return provision.Applied{}, err
	}
	if err := provision.DemoAccounts(ctx, owner, applied, hash); err != nil {
		return provision.Applied{}, fmt.Errorf("creating the accounts: %w", err)
	}
	t := applied[0]

	n := o.Conversations
	visitors := int(float64(n) * visitorsPerConversation)
	sessions := int(float64(n) * sessionsPerConversation)
	now := time.Now().UTC().Truncate(time.Hour)
	start := time.Now()
	// Each step is plain SQL over generate_series; random() is seeded so that runs match.
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"seeding the generator", `SELECT setseed(0.42)`, nil},
		{"visitors", `CREATE TEMPORARY TABLE bench_visitors AS
			SELECT g AS n, gen_random_uuid() AS id FROM generate_series(1, $1) g`, []any{visitors}},
		{"indexing visitors", `CREATE INDEX ON bench_visitors (n)`, nil},
		{"visitor rows", `INSERT INTO visitors (tenant_id, visitor_id, created_at)
			SELECT $1, id, $2::timestamptz - interval '366 days' FROM bench_visitors`, []any{t.ID, now}},
		{"visits and page views", `INSERT INTO visitor_sessions (tenant_id, visitor_id, started_at, last_seen_at, page_views)
			SELECT $1, v.id, s.at, s.at + interval '5 minutes', s.pages
			  FROM (SELECT 1 + floor(random() * $3)::int AS vn, $2::timestamptz - random() * interval '365 days' AS at,
			               1 + floor(random() * $5)::int AS pages
			          FROM generate_series(1, $4)) s
			  JOIN bench_visitors v ON v.n = s.vn`, []any{t.ID, now, visitors, sessions, maxPagesPerSession}},
		// A visitor was first seen at its first visit.
		{"first visits", `UPDATE visitors v SET created_at = f.first, first_visit_at = f.first
			  FROM (SELECT visitor_id, min(started_at) AS first FROM visitor_sessions WHERE tenant_id = $1 GROUP BY visitor_id) f
			 WHERE v.tenant_id = $1 AND v.visitor_id = f.visitor_id`, []any{t.ID}},
		{"conversations", `INSERT INTO conversations (tenant_id, unit_id, visitor_id, agent_id, state, visitor_token_hash,
				created_at, queued_at, assigned_at, accepted_at, closed_at, last_activity_at, first_agent_message_at, last_seq)
			SELECT $1, ($3::uuid[])[1 + s.a / $6], v.id, CASE WHEN s.unanswered THEN NULL ELSE ($4::uuid[])[1 + s.a] END, 'closed', '\x00',
			       s.at, s.at, CASE WHEN s.unanswered THEN NULL ELSE s.at + interval '5 seconds' END,
			       CASE WHEN s.unanswered THEN NULL ELSE s.at + interval '5 seconds' END,
			       s.at + interval '6 minutes', s.at + interval '6 minutes',
			       CASE WHEN s.unanswered THEN NULL ELSE s.at + interval '5 seconds' + s.wait * interval '1 second' END,
			       CASE WHEN s.unanswered THEN 1 ELSE 4 END
			  FROM (SELECT floor(random() * $7)::int AS a, 1 + floor(random() * $5)::int AS vn,
			               $2::timestamptz - interval '1 hour' - random() * interval '364 days' AS at,
			               random() < 1.0 / $8 AS unanswered, 10 + random() * 110 AS wait
			          FROM generate_series(1, $9)) s
			  JOIN bench_visitors v ON v.n = s.vn`,
			[]any{t.ID, now, unitIDs(ctx, owner, t.ID), agentIDs(ctx, owner, t.ID), visitors, agentsPerUnit, units * agentsPerUnit, unansweredShare, n}},
		// Visitor, agent, visitor, agent; an unanswered conversation has the first only.
		{"messages", `INSERT INTO events (tenant_id, conversation_id, seq, created_at, author_kind, kind, client_message_id, body)
			SELECT c.tenant_id, c.conversation_id, k,
			       CASE k WHEN 1 THEN c.created_at WHEN 2 THEN c.first_agent_message_at
			              WHEN 3 THEN c.created_at + interval '2 minutes' ELSE c.created_at + interval '3 minutes' END,
			       CASE WHEN k % 2 = 1 THEN 'visitor' ELSE 'agent' END, 'message', k::text, 'message ' || k
			  FROM conversations c CROSS JOIN generate_series(1, 4) k
			 WHERE c.tenant_id = $1 AND k <= c.last_seq`, []any{t.ID}},
		{"offline messages", `INSERT INTO offline_messages (tenant_id, unit_id, body, created_at)
			SELECT $1, ($3::uuid[])[1 + floor(random() * $4)::int], 'please call back', $2::timestamptz - random() * interval '365 days'
			  FROM generate_series(1, $5)`, []any{t.ID, now, unitIDs(ctx, owner, t.ID), units, n / offlineShare}},
		{"open conversations", `INSERT INTO conversations (tenant_id, unit_id, visitor_id, agent_id, state, visitor_token_hash,
				created_at, queued_at, assigned_at, accepted_at, last_activity_at, last_seq)
			SELECT $1, ($3::uuid[])[1 + (g % $5) / $6], v.id, ($4::uuid[])[1 + g % $5], 'active', '\x00',
			       $2::timestamptz - g * interval '10 seconds', $2::timestamptz - g * interval '10 seconds',
			       $2::timestamptz - g * interval '10 seconds', $2::timestamptz - g * interval '10 seconds', $2::timestamptz, 0
			  FROM generate_series(1, $7) g JOIN bench_visitors v ON v.n = g`,
			[]any{t.ID, time.Now().UTC(), unitIDs(ctx, owner, t.ID), agentIDs(ctx, owner, t.ID), units * agentsPerUnit, agentsPerUnit, openConversations}},
		{"statistics", `ANALYZE`, nil},
	}
	for _, s := range steps {
		o.Logf("reports bench: %s", s.what)
		if _, err := owner.Exec(ctx, s.sql, s.args...); err != nil {
			return t, fmt.Errorf("seeding %s: %w", s.what, err)
		}
	}
	rep.SeedSeconds = time.Since(start).Seconds()
	return t, nil
}

// seeded finds a tenant an earlier run with the same options left in o.DataDir.
func seeded(ctx context.Context, owner *pgx.Conn, o Options) (provision.Applied, bool, error) {
	if o.DataDir == "" {
		return provision.Applied{}, false, nil
	}
	var t provision.Applied
	err := owner.QueryRow(ctx, `SELECT t.tenant_id, t.name FROM tenants t WHERE t.name LIKE 'reportsbench-%'
		AND (SELECT count(*) FROM conversations c WHERE c.tenant_id = t.tenant_id) = $1 LIMIT 1`, o.Conversations+openConversations).Scan(&t.ID, &t.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	if err == nil {
		o.Logf("reports bench: reusing tenant %s seeded by an earlier run", t.Name)
	}
	return t, err == nil, err
}

// count reads what the tenant holds.
func count(ctx context.Context, owner *pgx.Conn, t provision.Applied, rep *Report) error {
	return owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations WHERE tenant_id = $1), (SELECT count(*) FROM events WHERE tenant_id = $1),
		(SELECT count(*) FROM visitors WHERE tenant_id = $1), (SELECT count(*) FROM visitor_sessions WHERE tenant_id = $1),
		(SELECT coalesce(sum(page_views), 0) FROM visitor_sessions WHERE tenant_id = $1), (SELECT count(*) FROM offline_messages WHERE tenant_id = $1)`, t.ID).
		Scan(&rep.Conversations, &rep.Messages, &rep.Visitors, &rep.Visits, &rep.PageViews, &rep.Offline)
}

func agentName(i int) string { return fmt.Sprintf("agent-%02d", i+1) }

// unitIDs and agentIDs list the bench tenant's units and agents in name order; a failure
// shows as the seeding step's error.
func unitIDs(ctx context.Context, owner *pgx.Conn, tenant uuid.UUID) []uuid.UUID {
	return ids(ctx, owner, `SELECT unit_id FROM business_units WHERE tenant_id = $1 ORDER BY name`, tenant)
}

func agentIDs(ctx context.Context, owner *pgx.Conn, tenant uuid.UUID) []uuid.UUID {
	return ids(ctx, owner, `SELECT agent_id FROM agents WHERE tenant_id = $1 ORDER BY name`, tenant)
}

func ids(ctx context.Context, owner *pgx.Conn, query string, tenant uuid.UUID) []uuid.UUID {
	rows, err := owner.Query(ctx, query, tenant)
	if err != nil {
		return nil
	}
	out, _ := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return out
}

// fold runs the production folder until every queued row is in the rollups.
func fold(ctx context.Context, owner *pgx.Conn, url string, tenant provision.Applied, o Options, rep *Report) error {
	pool, err := store.Open(ctx, url, store.PoolOptions{MaxConns: 4, AsApp: true})
	if err != nil {
		return err
	}
	defer pool.Close()
	db := &store.DB{Pool: pool}
	o.Logf("reports bench: folding the queued rows into the rollups")
	start := time.Now()
	if rep.Folded, err = db.FoldAllReports(ctx); err != nil {
		return err
	}
	rep.FoldSeconds = time.Since(start).Seconds()
	// Autovacuum would do this soon after; done here so that every report is timed on
	// settled tables.
	if _, err := owner.Exec(ctx, `VACUUM ANALYZE report_queue, report_hours, report_unit_hours, report_traffic_hours, report_visitor_days, report_visitor_months,
		report_visitor_day_counts, report_visitor_month_counts`); err != nil {
		return fmt.Errorf("vacuuming the rollups: %w", err)
	}
	rep.RollupRows = map[string]int64{}
	for _, table := range []string{"report_hours", "report_unit_hours", "report_traffic_hours", "report_visitor_days", "report_visitor_months", "report_queue"} {
		var n int64
		if err := owner.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()+` WHERE tenant_id = $1`, tenant.ID).Scan(&n); err != nil {
			return err
		}
		rep.RollupRows[table] = n
	}
	return nil
}

// measure times each report through the API: one unmeasured call, then o.Runs calls.
func measure(ctx context.Context, c supervisionv1connect.SupervisionServiceClient, o Options, rep *Report) error {
	last := time.Now().UTC().AddDate(0, 0, -1)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	month := &supervisionv1.ReportRange{From: day(last.AddDate(0, 0, -29)), To: day(last)}
	year := &supervisionv1.ReportRange{From: day(last.AddDate(0, -11, 0)), To: day(last)} // widened to 12 whole months
	days365 := &supervisionv1.ReportRange{From: day(last.AddDate(0, 0, -364)), To: day(last)}
	inZone := &supervisionv1.ReportRange{From: month.From, To: month.To, TimeZone: "America/New_York"}
	oneAgent := &supervisionv1.ReportRange{From: month.From, To: month.To, BusinessUnit: "unit-1", Agent: agentName(0)}
	daily := func(r *supervisionv1.ReportRange) func() (string, error) {
		return func() (string, error) {
			res, err := c.GetDailyReport(ctx, connect.NewRequest(&supervisionv1.GetDailyReportRequest{Range: r}))
			if err != nil {
				return "", err
			}
			t := res.Msg.Total
			return fmt.Sprintf("%d days: %d conversations, %d messages, %d page views, %d visitors", len(res.Msg.Rows), t.Conversations, t.Messages, t.PageViews, t.Visitors), nil
		}
	}
	queries := []struct {
		name string
		call func() (string, error)
	}{
		{"daily report, 30 days", daily(month)},
		{"daily report, 30 days, America/New_York", daily(inZone)},
		{"daily report, 30 days, one unit and agent", daily(oneAgent)},
		{"monthly report, 12 months", func() (string, error) {
			res, err := c.GetMonthlyReport(ctx, connect.NewRequest(&supervisionv1.GetMonthlyReportRequest{Range: year}))
			if err != nil {
				return "", err
			}
			t := res.Msg.Total
			return fmt.Sprintf("%d months: %d conversations, %d messages, %d page views, %d visitors (sum of months)", len(res.Msg.Rows), t.Conversations, t.Messages, t.PageViews, t.Visitors), nil
		}},
		{"daily report, 365 days", daily(days365)},
		{"visitor statistics, 30 days", func() (string, error) {
			res, err := c.GetVisitorStatistics(ctx, connect.NewRequest(&supervisionv1.GetVisitorStatisticsRequest{Range: month}))
			if err != nil {
				return "", err
			}
			var visitors, fresh int64
			for _, r := range res.Msg.Rows {
				visitors, fresh = visitors+r.Visitors, fresh+r.NewVisitors
			}
			return fmt.Sprintf("%d days: %d visitor-days, %d new", len(res.Msg.Rows), visitors, fresh), nil
		}},
		{"agent statistics, 30 days", func() (string, error) {
			res, err := c.GetAgentStatistics(ctx, connect.NewRequest(&supervisionv1.GetAgentStatisticsRequest{Range: month}))
			if err != nil {
				return "", err
			}
			if len(res.Msg.Rows) == 0 {
				return "no agents", nil
			}
			r := res.Msg.Rows[len(res.Msg.Rows)-1]
			return fmt.Sprintf("%d rows; %s: %d conversations, first response %.0f s, response %.0f s", len(res.Msg.Rows), r.Agent, r.Conversations, r.AverageFirstResponseSeconds, r.AverageResponseSeconds), nil
		}},
		{"interaction statistics, 30 days", func() (string, error) {
			res, err := c.GetInteractionStatistics(ctx, connect.NewRequest(&supervisionv1.GetInteractionStatisticsRequest{Range: month}))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d days, %d hours", len(res.Msg.ByDay), len(res.Msg.ByHour)), nil
		}},
		{"CSV export of the daily report, 30 days", func() (string, error) {
			s, err := c.ExportReport(ctx, connect.NewRequest(&supervisionv1.ExportReportRequest{Kind: supervisionv1.ReportKind_REPORT_KIND_DAILY, Range: month}))
			if err != nil {
				return "", err
			}
			size := 0
			for s.Receive() {
				size += len(s.Msg().Csv)
			}
			return fmt.Sprintf("%d bytes", size), s.Err()
		}},
	}
	for _, q := range queries {
		o.Logf("reports bench: timing %s", q.name)
		check, err := q.call()
		if err != nil {
			return fmt.Errorf("%s: %w", q.name, err)
		}
		ns := make([]int64, 0, o.Runs)
		for range o.Runs {
			start := time.Now()
			if _, err := q.call(); err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			ns = append(ns, int64(time.Since(start)))
		}
		rep.Queries = append(rep.Queries, Query{Name: q.name, Latency: bench.LatencyOf(ns), Check: check})
	}
	for _, q := range rep.Queries {
		if q.Name == "daily report, 30 days" || q.Name == "monthly report, 12 months" {
			rep.Targets = append(rep.Targets, Target{Name: q.Name, P99Ms: q.Latency.P99Ms, Goal: fmt.Sprintf("p99 under %d ms", targetMs), Passed: q.Latency.P99Ms < targetMs})
		}
	}
	return nil
}

// Print writes the report for people.
func Print(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Switchboard reports benchmark, %s\n", rep.StartedAt.Format(time.RFC3339))
	fmt.Fprintf(tw, "command:\t%s\n", rep.Command)
	fmt.Fprintf(tw, "machine:\t%d CPUs, %s, PostgreSQL %s (shared_buffers %s, work_mem %s), %s\n", rep.NumCPU, rep.GoVersion, rep.PostgresVersion, rep.SharedBuffers, rep.WorkMem, rep.Database)
	fmt.Fprintf(tw, "stored:\t%d conversations, %d messages, %d visitors, %d visits, %d page views, %d offline messages (seeded in %.0f s)\n",
		rep.Conversations, rep.Messages, rep.Visitors, rep.Visits, rep.PageViews, rep.Offline, rep.SeedSeconds)
	if rep.Reused {
		fmt.Fprintf(tw, "reused:\ta tenant seeded and folded by an earlier run in the same --data-dir\n")
	}
	fmt.Fprintf(tw, "folded:\t%d queued rows in %.1f s; rollup rows: %v\n", rep.Folded, rep.FoldSeconds, rep.RollupRows)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "report\tcalls\tp50 ms\tp99 ms\tmax ms\tanswer")
	for _, q := range rep.Queries {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%s\n", q.Name, q.Latency.Samples, q.Latency.P50Ms, q.Latency.P99Ms, q.Latency.MaxMs, q.Check)
	}
	fmt.Fprintln(tw)
	for _, t := range rep.Targets {
		verdict := "met"
		if !t.Passed {
			verdict = "MISSED"
		}
		fmt.Fprintf(tw, "target %s:\t%s, p99 %.1f ms: %s\n", t.Name, t.Goal, t.P99Ms, verdict)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(tw, "error:\t%s\n", e)
	}
	return tw.Flush()
}

type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", "Bearer "+string(b))
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func waitHealthy(ctx context.Context, hc *http.Client, base string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the in-process server does not answer: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
