package supervision_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// reportsConfig: sales counts its days in New York (UTC-5 in January), support has no
// hours (UTC). rita holds AllChats on both units, sam on sales only, sue on none.
const reportsConfig = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  displayName: Sales
  businessHours: {timeZone: America/New_York, weekly: [{days: [Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday], open: "00:00", close: "24:00"}]}
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats, AllChats]}
    - {name: rita, permissions: [AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec:
  displayName: Support
  supervisors:
    - {name: sam, permissions: [Supervise]}
    - {name: sue, permissions: [SuperviseOpenChats]}
    - {name: rita, permissions: [AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, displayName: Ann, businessUnits: [sales], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, displayName: Cat, businessUnits: [support], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
spec:
  supervisors:
    - {name: gina, permissions: [Supervise, SuperviseOpenChats, AllChats]}
`

// history is what the seeded past holds, in UTC:
//
//	Jan 14 09:59 V1 (first seen Jan 1) visits, 3 pages
//	Jan 14 10:00 c1 sales/ann, V1: visitor 10:00:00, ann 10:00:30, visitor 10:01:00 and 10:01:30,
//	             ann 10:02:00; closed 10:05 (first response 30 s, responses 30 and 60 s, handling 300 s)
//	Jan 15 02:59 V2 (new) visits, 2 pages
//	Jan 15 03:00 c2 sales/ann, V2: visitor 03:00:00, ann 03:00:10; closed 03:10 (Jan 14 in New York)
//	Jan 15 12:00 c3 support/cat, V1: visitor 12:00; closed 12:20 without a reply (handling 1200 s)
//	Jan 15 15:00 an offline message to sales
//	Jan 15 23:29 V3 (new) visits, 1 page
//	Jan 15 23:30 c4 support, no agent, V3: visitor 23:30; closed 23:40 without a reply
//
// and globex has one conversation on Jan 14 that acme must never see.
func seedReportHistory(t *testing.T, env *testenv.Env) {
	t.Helper()
	ctx := context.Background()
	acme, globex := env.Tenants["acme"].ID, env.Tenants["globex"].ID
	id := func(tenant uuid.UUID, query, name string) uuid.UUID {
		var out uuid.UUID
		if err := env.Owner.QueryRow(ctx, query, tenant, name).Scan(&out); err != nil {
			t.Fatalf("%s %s: %v", query, name, err)
		}
		return out
	}
	unit := func(tenant uuid.UUID, name string) uuid.UUID {
		return id(tenant, `SELECT unit_id FROM business_units WHERE tenant_id = $1 AND name = $2`, name)
	}
	agent := func(name string) uuid.UUID {
		return id(acme, `SELECT agent_id FROM agents WHERE tenant_id = $1 AND name = $2`, name)
	}
	at := func(s string) time.Time {
		ts, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Owner.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	visitor := func(tenant uuid.UUID, firstSeen, visit string, pages int) uuid.UUID {
		v := uuid.New()
		exec(`INSERT INTO visitors (tenant_id, visitor_id, name, created_at, first_visit_at) VALUES ($1, $2, 'V', $3, $3)`, tenant, v, at(firstSeen))
		if visit != "" {
			exec(`INSERT INTO visitor_sessions (tenant_id, visitor_id, started_at, last_seen_at, page_views) VALUES ($1, $2, $3, $3, $4)`,
				tenant, v, at(visit), pages)
		}
		return v
	}
	type message struct{ author, at string }
	conversation := func(tenant, unit uuid.UUID, agent *uuid.UUID, v uuid.UUID, start, closed string, msgs ...message) {
		c := uuid.New()
		var assigned, first *time.Time
		if agent != nil {
			a := at(start)
			assigned = &a
		}
		for _, m := range msgs {
			if m.author == "agent" && first == nil {
				f := at(m.at)
				first = &f
			}
		}
		exec(`INSERT INTO conversations (tenant_id, conversation_id, unit_id, visitor_id, agent_id, state, visitor_token_hash,
			created_at, queued_at, assigned_at, accepted_at, closed_at, first_agent_message_at, last_seq)
			VALUES ($1, $2, $3, $4, $5, 'closed', '\x00', $6, $6, $7, $7, $8, $9, $10)`,
			tenant, c, unit, v, agent, at(start), assigned, at(closed), first, len(msgs)+1)
		for i, m := range msgs {
			exec(`INSERT INTO events (tenant_id, conversation_id, seq, created_at, author_kind, kind, client_message_id, body)
				VALUES ($1, $2, $3, $4, $5, 'message', $6, 'hi')`, tenant, c, i+1, at(m.at), m.author, fmt.Sprint(i))
		}
		// A whisper and the closing event count as no message.
		exec(`INSERT INTO events (tenant_id, conversation_id, seq, created_at, author_kind, kind, system_kind, visibility)
			VALUES ($1, $2, $3, $4, 'system', 'system', 'closed', 'all')`, tenant, c, len(msgs)+1, at(closed))
	}
	sales, support := unit(acme, "sales"), unit(acme, "support")
	ann, cat := agent("ann"), agent("cat")

	v1 := visitor(acme, "2026-01-01 08:00:00", "2026-01-14 09:59:00", 3)
	conversation(acme, sales, &ann, v1, "2026-01-14 10:00:00", "2026-01-14 10:05:00",
		message{"visitor", "2026-01-14 10:00:00"}, message{"agent", "2026-01-14 10:00:30"},
		message{"visitor", "2026-01-14 10:01:00"}, message{"visitor", "2026-01-14 10:01:30"}, message{"agent", "2026-01-14 10:02:00"})
	v2 := visitor(acme, "2026-01-15 02:59:00", "2026-01-15 02:59:00", 2)
	conversation(acme, sales, &ann, v2, "2026-01-15 03:00:00", "2026-01-15 03:10:00",
		message{"visitor", "2026-01-15 03:00:00"}, message{"agent", "2026-01-15 03:00:10"})
	conversation(acme, support, &cat, v1, "2026-01-15 12:00:00", "2026-01-15 12:20:00", message{"visitor", "2026-01-15 12:00:00"})
	exec(`INSERT INTO offline_messages (tenant_id, unit_id, body, created_at) VALUES ($1, $2, 'call me', $3)`, acme, sales, at("2026-01-15 15:00:00"))
	v3 := visitor(acme, "2026-01-15 23:29:00", "2026-01-15 23:29:00", 1)
	conversation(acme, support, nil, v3, "2026-01-15 23:30:00", "2026-01-15 23:40:00", message{"visitor", "2026-01-15 23:30:00"})

	g := visitor(globex, "2026-01-14 11:00:00", "2026-01-14 11:00:00", 7)
	conversation(globex, unit(globex, "sales"), nil, g, "2026-01-14 11:00:00", "2026-01-14 11:30:00", message{"visitor", "2026-01-14 11:00:00"})
}

// waitFolded waits until the report folder has emptied every queue, so that what follows
// reads the rollups.
func waitFolded(t *testing.T, env *testenv.Env) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var queued int
		if err := env.Owner.QueryRow(context.Background(), `SELECT count(*) FROM report_queue`).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the report folder left %d rows queued after 15s", queued)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func rng(from, to, tz, unit, agent string) *supervisionv1.ReportRange {
	return &supervisionv1.ReportRange{From: from, To: to, TimeZone: tz, BusinessUnit: unit, Agent: agent}
}

// dailyLines renders a daily report as "day pv visitors conversations messages offline".
func dailyLines(t *testing.T, c supervisionv1connect.SupervisionServiceClient, r *supervisionv1.ReportRange) []string {
	t.Helper()
	res, err := c.GetDailyReport(context.Background(), connect.NewRequest(&supervisionv1.GetDailyReportRequest{Range: r}))
	if err != nil {
		t.Fatal(err)
	}
	line := func(label string, n *supervisionv1.ReportCounts) string {
		return fmt.Sprintf("%s %d %d %d %d %d", label, n.PageViews, n.Visitors, n.Conversations, n.Messages, n.OfflineMessages)
	}
	var out []string
	for _, row := range res.Msg.Rows {
		out = append(out, line(row.Day, row.Counts))
	}
	return append(out, line("total", res.Msg.Total))
}

func exportReport(t *testing.T, c supervisionv1connect.SupervisionServiceClient, kind supervisionv1.ReportKind, r *supervisionv1.ReportRange) (string, error) {
	t.Helper()
	s, err := c.ExportReport(context.Background(), connect.NewRequest(&supervisionv1.ExportReportRequest{Kind: kind, Range: r}))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for s.Receive() {
		b.Write(s.Msg().Csv)
	}
	return b.String(), s.Err()
}

func TestReportsCountWhatHappenedPerDayUnitAgentAndTimeZone(t *testing.T) {
	env := testenv.Start(t, cluster, reportsConfig)
	ctx := context.Background()
	seedReportHistory(t, env)
	rita := env.Supervision(env.Login(t, "acme", "rita"))
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	admin := env.Supervision(env.Login(t, "acme", "admin"))

	// Each check runs before and after the folder has caught up: a report is the same
	// whether it reads the queue or the rollups.
	for _, phase := range []string{"from the queue", "from the rollups"} {
		if phase == "from the rollups" {
			waitFolded(t, env)
			var hours int
			if err := env.Owner.QueryRow(ctx, `SELECT count(*) FROM report_hours WHERE tenant_id = $1`, env.Tenants["acme"].ID).Scan(&hours); err != nil || hours == 0 {
				t.Fatalf("the folder wrote no rollup rows: %d, %v", hours, err)
			}
		}
		t.Run(phase, func(t *testing.T) {
			daily := []struct {
				name   string
				client supervisionv1connect.SupervisionServiceClient
				r      *supervisionv1.ReportRange
				want   []string
			}{
				{"every unit, UTC days", rita, rng("2026-01-14", "2026-01-15", "", "", ""),
					[]string{"2026-01-14 3 1 1 5 0", "2026-01-15 3 3 3 4 1", "total 6 3 4 9 1"}},
				{"every unit, New York days", rita, rng("2026-01-14", "2026-01-15", "America/New_York", "", ""),
					[]string{"2026-01-14 5 2 2 7 0", "2026-01-15 1 2 2 2 1", "total 6 3 4 9 1"}},
				// +05:30: each UTC hour counts on the local day its first minute falls in.
				{"a half-hour zone", rita, rng("2026-01-15", "2026-01-15", "Asia/Kolkata", "", ""),
					[]string{"2026-01-15 2 2 2 3 1", "total 2 2 2 3 1"}},
				{"days without activity are rows too", rita, rng("2026-01-13", "2026-01-13", "UTC", "", ""),
					[]string{"2026-01-13 0 0 0 0 0", "total 0 0 0 0 0"}},
				{"sales counts in its own time zone; visitors and pages stay tenant-wide", sam, rng("2026-01-14", "2026-01-15", "", "sales", ""),
					[]string{"2026-01-14 5 2 2 7 0", "2026-01-15 1 2 0 0 1", "total 6 3 2 7 1"}},
				{"sales in UTC when asked", sam, rng("2026-01-14", "2026-01-15", "UTC", "sales", ""),
					[]string{"2026-01-14 3 1 1 5 0", "2026-01-15 3 3 1 2 1", "total 6 3 2 7 1"}},
				{"support", rita, rng("2026-01-14", "2026-01-15", "", "support", ""),
					[]string{"2026-01-14 3 1 0 0 0", "2026-01-15 3 3 2 2 0", "total 6 3 2 2 0"}},
				{"one agent's conversations", rita, rng("2026-01-14", "2026-01-15", "", "", "cat"),
					[]string{"2026-01-14 3 1 0 0 0", "2026-01-15 3 3 1 1 0", "total 6 3 1 1 0"}},
				{"sam without a unit sees sales only", sam, rng("2026-01-14", "2026-01-15", "UTC", "", ""),
					[]string{"2026-01-14 3 1 1 5 0", "2026-01-15 3 3 1 2 1", "total 6 3 2 7 1"}},
				{"the tenant admin sees every unit", admin, rng("2026-01-15", "2026-01-15", "", "", ""),
					[]string{"2026-01-15 3 3 3 4 1", "total 3 3 3 4 1"}},
			}
			for _, c := range daily {
				t.Run("daily: "+c.name, func(t *testing.T) {
					if got := dailyLines(t, c.client, c.r); strings.Join(got, "|") != strings.Join(c.want, "|") {
						t.Fatalf("got  %q\nwant %q", got, c.want)
					}
				})
			}

			t.Run("monthly widens to whole months", func(t *testing.T) {
				res, err := rita.GetMonthlyReport(ctx, connect.NewRequest(&supervisionv1.GetMonthlyReportRequest{Range: rng("2025-12-20", "2026-01-14", "", "", "")}))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range res.Msg.Rows {
					n := r.Counts
					got = append(got, fmt.Sprintf("%s %d %d %d %d %d", r.Month, n.PageViews, n.Visitors, n.Conversations, n.Messages, n.OfflineMessages))
				}
				n := res.Msg.Total
				got = append(got, fmt.Sprintf("total %d %d %d %d %d", n.PageViews, n.Visitors, n.Conversations, n.Messages, n.OfflineMessages))
				if want := "2025-12 0 0 0 0 0|2026-01 6 3 4 9 1|total 6 3 4 9 1"; strings.Join(got, "|") != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			})

			t.Run("visitor statistics", func(t *testing.T) {
				res, err := rita.GetVisitorStatistics(ctx, connect.NewRequest(&supervisionv1.GetVisitorStatisticsRequest{Range: rng("2026-01-14", "2026-01-15", "", "", "")}))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range res.Msg.Rows {
					got = append(got, fmt.Sprintf("%s %d %d %d %d %d %d", r.Day, r.Visitors, r.NewVisitors, r.ReturningVisitors, r.Visits, r.PageViews, r.Conversations))
				}
				if want := "2026-01-14 1 0 1 1 3 1|2026-01-15 3 2 1 2 3 3"; strings.Join(got, "|") != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			})

			t.Run("agent statistics", func(t *testing.T) {
				res, err := rita.GetAgentStatistics(ctx, connect.NewRequest(&supervisionv1.GetAgentStatisticsRequest{Range: rng("2026-01-14", "2026-01-15", "", "", "")}))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range res.Msg.Rows {
					got = append(got, fmt.Sprintf("%s/%s %d %d %.1f %.1f %d %.1f", r.Agent, r.DisplayName, r.Conversations, r.Messages,
						r.AverageFirstResponseSeconds, r.AverageResponseSeconds, r.UnansweredConversations, r.AverageHandlingSeconds))
				}
				want := "/not assigned 1 0 0.0 0.0 1 0.0|ann/Ann 2 3 20.0 33.3 0 450.0|cat/Cat 1 0 0.0 0.0 1 1200.0"
				if strings.Join(got, "|") != want {
					t.Fatalf("got  %q\nwant %q", got, want)
				}
			})

			t.Run("interaction statistics by day and hour", func(t *testing.T) {
				res, err := rita.GetInteractionStatistics(ctx, connect.NewRequest(&supervisionv1.GetInteractionStatisticsRequest{Range: rng("2026-01-14", "2026-01-15", "", "", "")}))
				if err != nil {
					t.Fatal(err)
				}
				var days, hours []string
				for _, r := range res.Msg.ByDay {
					days = append(days, fmt.Sprintf("%s %d %d %.1f", r.Day, r.Conversations, r.OfflineMessages, r.AverageResponseSeconds))
				}
				for _, r := range res.Msg.ByHour {
					if r.Conversations > 0 || r.OfflineMessages > 0 {
						hours = append(hours, fmt.Sprintf("%d %d %d %.1f", r.Hour, r.Conversations, r.OfflineMessages, r.AverageResponseSeconds))
					}
				}
				if want := "2026-01-14 1 0 45.0|2026-01-15 3 1 10.0"; strings.Join(days, "|") != want {
					t.Fatalf("by day: got %q, want %q", days, want)
				}
				if len(res.Msg.ByHour) != 24 {
					t.Fatalf("by hour has %d rows, want 24", len(res.Msg.ByHour))
				}
				if want := "3 1 0 10.0|10 1 0 45.0|12 1 0 0.0|15 0 1 0.0|23 1 0 0.0"; strings.Join(hours, "|") != want {
					t.Fatalf("by hour: got %q, want %q", hours, want)
				}
			})

			t.Run("CSV export", func(t *testing.T) {
				got, err := exportReport(t, rita, supervisionv1.ReportKind_REPORT_KIND_DAILY, rng("2026-01-14", "2026-01-15", "", "", ""))
				want := "day,page_views,visitors,conversations,messages,offline_messages\n2026-01-14,3,1,1,5,0\n2026-01-15,3,3,3,4,1\n"
				if err != nil || got != want {
					t.Fatalf("daily CSV: %v\n%s", err, got)
				}
				got, err = exportReport(t, rita, supervisionv1.ReportKind_REPORT_KIND_AGENTS, rng("2026-01-14", "2026-01-15", "", "", "ann"))
				want = "agent,display_name,conversations,messages,average_first_response_seconds,average_response_seconds,unanswered_conversations,average_handling_seconds\n" +
					"ann,Ann,2,3,20.0,33.3,0,450.0\n"
				if err != nil || got != want {
					t.Fatalf("agents CSV: %v\n%s", err, got)
				}
				got, err = exportReport(t, rita, supervisionv1.ReportKind_REPORT_KIND_INTERACTIONS_BY_HOUR, rng("2026-01-14", "2026-01-15", "", "", ""))
				if lines := strings.Split(strings.TrimSpace(got), "\n"); err != nil || len(lines) != 25 ||
					lines[0] != "hour,conversations,offline_messages,average_response_seconds" || lines[11] != "10,1,0,45.0" {
					t.Fatalf("by-hour CSV: %v\n%s", err, got)
				}
			})
		})
	}

	t.Run("another tenant's supervisor sees only its own tenant", func(t *testing.T) {
		gina := env.Supervision(env.Login(t, "globex", "gina"))
		want := []string{"2026-01-14 7 1 1 1 0", "2026-01-15 0 0 0 0 0", "total 7 1 1 1 0"}
		if got := dailyLines(t, gina, rng("2026-01-14", "2026-01-15", "", "", "")); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("gina: got %q, want %q", got, want)
		}
	})

	t.Run("a deleted tenant's rollups go with it", func(t *testing.T) {
		globex := env.Tenants["globex"].ID
		if _, err := env.Owner.Exec(ctx, `DELETE FROM tenants WHERE tenant_id = $1`, globex); err != nil {
			t.Fatal(err)
		}
		var left int
		if err := env.Owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM report_queue WHERE tenant_id = $1) + (SELECT count(*) FROM report_hours WHERE tenant_id = $1)
			+ (SELECT count(*) FROM report_traffic_hours WHERE tenant_id = $1) + (SELECT count(*) FROM report_visitor_days WHERE tenant_id = $1)
			+ (SELECT count(*) FROM report_visitor_months WHERE tenant_id = $1) + (SELECT count(*) FROM report_visitor_day_counts WHERE tenant_id = $1)
			+ (SELECT count(*) FROM report_visitor_month_counts WHERE tenant_id = $1) + (SELECT count(*) FROM report_unit_hours WHERE tenant_id = $1)`, globex).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d report rows of the deleted tenant are left (%v)", left, err)
		}
	})
}

// Live traffic through the API reaches the reports at once, and the rollups once folded.
func TestReportsFollowLiveConversations(t *testing.T) {
	env := testenv.Start(t, cluster, reportsConfig)
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	conv, visitor, _ := visitorStart(t, env, "sales")
	day := conv.CreatedAt.AsTime().UTC().Format("2006-01-02")
	today := rng(day, day, "UTC", "", "")
	rita := env.Supervision(env.Login(t, "acme", "rita"))

	if got := dailyLines(t, rita, today); got[0] != day+" 0 1 1 1 0" {
		t.Fatalf("an open conversation: %q", got)
	}
	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: "a1", Text: "how can I help?"})); err != nil {
		t.Fatal(err)
	}
	if _, err := visitor.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: "v2", Text: "where is my parcel"})); err != nil {
		t.Fatal(err)
	}
	if got := dailyLines(t, rita, today); got[0] != day+" 0 1 1 3 0" {
		t.Fatalf("after two more messages: %q", got)
	}
	if _, err := visitor.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	waitFolded(t, env)
	var folded int64
	if err := env.Owner.QueryRow(ctx, `SELECT coalesce(sum(conversations), 0) FROM report_hours WHERE tenant_id = $1`,
		env.Tenants["acme"].ID).Scan(&folded); err != nil || folded != 1 {
		t.Fatalf("the closed conversation is in the rollup %d times (%v), want once", folded, err)
	}
	if got := dailyLines(t, rita, today); got[0] != day+" 0 1 1 3 0" {
		t.Fatalf("from the rollup: %q", got)
	}
	res, err := rita.GetAgentStatistics(ctx, connect.NewRequest(&supervisionv1.GetAgentStatisticsRequest{Range: today}))
	if err != nil || len(res.Msg.Rows) != 1 {
		t.Fatalf("agent statistics: %v %v", res, err)
	}
	if r := res.Msg.Rows[0]; r.Agent != "ann" || r.Conversations != 1 || r.Messages != 1 || r.UnansweredConversations != 0 ||
		r.AverageResponseSeconds <= 0 || r.AverageHandlingSeconds <= 0 {
		t.Fatalf("ann today: %v", r)
	}
}

func TestReportsRefuseCallersWithoutAllChatsAndBadInput(t *testing.T) {
	env := testenv.Start(t, cluster, reportsConfig)
	ctx := context.Background()
	seedReportHistory(t, env)
	good := rng("2026-01-14", "2026-01-15", "", "", "")
	calls := func(r *supervisionv1.ReportRange, kind supervisionv1.ReportKind) map[string]func(c supervisionv1connect.SupervisionServiceClient) error {
		return map[string]func(c supervisionv1connect.SupervisionServiceClient) error{
			"GetDailyReport": func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.GetDailyReport(ctx, connect.NewRequest(&supervisionv1.GetDailyReportRequest{Range: r}))
				return err
			},
			"GetMonthlyReport": func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.GetMonthlyReport(ctx, connect.NewRequest(&supervisionv1.GetMonthlyReportRequest{Range: r}))
				return err
			},
			"GetVisitorStatistics": func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.GetVisitorStatistics(ctx, connect.NewRequest(&supervisionv1.GetVisitorStatisticsRequest{Range: r}))
				return err
			},
			"GetAgentStatistics": func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.GetAgentStatistics(ctx, connect.NewRequest(&supervisionv1.GetAgentStatisticsRequest{Range: r}))
				return err
			},
			"GetInteractionStatistics": func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.GetInteractionStatistics(ctx, connect.NewRequest(&supervisionv1.GetInteractionStatisticsRequest{Range: r}))
				return err
			},
			"ExportReport": func(c supervisionv1connect.SupervisionServiceClient) error {
				got, err := exportReport(t, c, kind, r)
				if err == nil && got != "" {
					return fmt.Errorf("exported %q", got)
				}
				return err
			},
		}
	}
	refused := []struct {
		name   string
		client supervisionv1connect.SupervisionServiceClient
		r      *supervisionv1.ReportRange
		code   connect.Code
	}{
		{"a supervisor without AllChats anywhere", env.Supervision(env.Login(t, "acme", "sue")), good, connect.CodePermissionDenied},
		{"a supervisor asking for a unit where it lacks AllChats", env.Supervision(env.Login(t, "acme", "sam")), rng("2026-01-14", "2026-01-15", "", "support", ""), connect.CodePermissionDenied},
		{"an agent", env.Supervision(env.Login(t, "acme", "ann")), good, connect.CodePermissionDenied},
		{"a visitor", env.Supervision(""), good, connect.CodeUnauthenticated},
		{"another tenant's supervisor naming this tenant's unit", env.Supervision(env.Login(t, "globex", "gina")), rng("2026-01-14", "2026-01-15", "", "support", ""), connect.CodeInvalidArgument},
	}
	for _, c := range refused {
		for name, call := range calls(c.r, supervisionv1.ReportKind_REPORT_KIND_DAILY) {
			t.Run(c.name+" calling "+name, func(t *testing.T) {
				if err := call(c.client); testenv.Code(err) != c.code {
					t.Fatalf("got %v, want %v", err, c.code)
				}
			})
		}
	}

	rita := env.Supervision(env.Login(t, "acme", "rita"))
	bad := []struct {
		name, field string
		r           *supervisionv1.ReportRange
		kind        supervisionv1.ReportKind
	}{
		{"no range", "range", nil, supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"no first day", "range.from", rng("", "2026-01-15", "", "", ""), supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"a first day that is no day", "range.from", rng("2026-02-30", "2026-03-01", "", "", ""), supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"a last day in another format", "range.to", rng("2026-01-14", "15/01/2026", "", "", ""), supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"the last day before the first", "range.to", rng("2026-01-15", "2026-01-14", "", "", ""), supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"more than three years", "range.to", rng("2020-01-01", "2023-01-02", "", "", ""), supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"an unknown time zone", "range.time_zone", rng("2026-01-14", "2026-01-15", "Mars/Olympus_Mons", "", ""), supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"the server's local zone", "range.time_zone", rng("2026-01-14", "2026-01-15", "Local", "", ""), supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"an unknown unit", "range.business_unit", rng("2026-01-14", "2026-01-15", "", "marketing", ""), supervisionv1.ReportKind_REPORT_KIND_DAILY},
		{"an unknown agent", "range.agent", rng("2026-01-14", "2026-01-15", "", "", "zed"), supervisionv1.ReportKind_REPORT_KIND_DAILY},
	}
	for _, c := range bad {
		for name, call := range calls(c.r, c.kind) {
			t.Run(c.name+" in "+name, func(t *testing.T) {
				err := call(rita)
				if testenv.Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), c.field+":") {
					t.Fatalf("got %v, want InvalidArgument naming %s", err, c.field)
				}
			})
		}
	}
	t.Run("an export without a report kind", func(t *testing.T) {
		if _, err := exportReport(t, rita, supervisionv1.ReportKind_REPORT_KIND_UNSPECIFIED, good); testenv.Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "kind:") {
			t.Fatalf("got %v, want InvalidArgument naming kind", err)
		}
	})
	t.Run("three years exactly is allowed", func(t *testing.T) {
		if _, err := rita.GetMonthlyReport(ctx, connect.NewRequest(&supervisionv1.GetMonthlyReportRequest{Range: rng("2023-01-15", "2026-01-15", "", "", "")})); err != nil {
			t.Fatal(err)
		}
	})
	var exports int
	if err := env.Owner.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'export'`).Scan(&exports); err != nil || exports != 0 {
		t.Fatalf("refused exports left %d audit entries (%v)", exports, err)
	}
}

// TestFirstResponseAfterATransferIsTheNewAgentsOwn: ann answers, the conversation moves to
// support and cat answers a second after taking it. Cat's first response is that second,
// not ann's earlier reply minus cat's assignment (which was negative).
func TestFirstResponseAfterATransferIsTheNewAgentsOwn(t *testing.T) {
	env := testenv.Start(t, cluster, reportsConfig)
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	cat, catFeed := agentOnline(t, env, "acme", "cat")
	conv, visitor, _ := visitorStart(t, env, "sales")
	day := conv.CreatedAt.AsTime().UTC().Format("2006-01-02")
	rita := env.Supervision(env.Login(t, "acme", "rita"))
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: "a1", Text: "let me pass you to support"})); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := sam.TransferConversation(ctx, connect.NewRequest(&supervisionv1.TransferConversationRequest{ConversationId: conv.Id,
		Target: &supervisionv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "support"}})); err != nil {
		t.Fatal(err)
	}
	catFeed.wait(t, "the transferred conversation", func(r *chatv1.AgentStreamResponse) bool {
		return r.GetAssignment().GetConversation().GetId() == conv.Id
	})
	if _, err := cat.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, err := cat.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: "c1", Text: "support here"})); err != nil {
		t.Fatal(err)
	}
	if _, err := visitor.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	var firstReplyAfterAssignment float64
	if err := env.Owner.QueryRow(ctx, `SELECT extract(epoch FROM max(e.created_at) - c.assigned_at)::float8 FROM conversations c
		JOIN events e ON e.tenant_id = c.tenant_id AND e.conversation_id = c.conversation_id AND e.client_message_id = 'c1'
		WHERE c.conversation_id = $1 GROUP BY c.assigned_at`, conv.Id).Scan(&firstReplyAfterAssignment); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		res, err := rita.GetAgentStatistics(ctx, connect.NewRequest(&supervisionv1.GetAgentStatisticsRequest{Range: rng(day, day, "UTC", "", "cat")}))
		if err != nil || len(res.Msg.Rows) != 1 {
			t.Fatalf("cat's statistics %s: %v %v", when, res, err)
		}
		if got := res.Msg.Rows[0].AverageFirstResponseSeconds; got < 1 || math.Abs(got-firstReplyAfterAssignment) > 0.01 {
			t.Fatalf("cat's average first response %s: %v s, want the %v s from cat's assignment to cat's reply", when, got, firstReplyAfterAssignment)
		}
	}
	check("before folding")
	waitFolded(t, env)
	check("from the rollup")
}
