package supervision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/export"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// maxReportYears bounds a report's range.
const maxReportYears = 3

const dayLayout, monthLayout = "2006-01-02", "2006-01"

// report is a checked ReportRange: the days (or months) it covers, in order, and the
// store's scope.
type report struct {
	periods []string
	scope   store.ReportScope
	agents  map[uuid.UUID]store.ReportAgent
}

// civil reads a YYYY-MM-DD day.
func civil(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, rpcerr.Invalid(field, "required, as YYYY-MM-DD")
	}
	d, err := time.Parse(dayLayout, s)
	if err != nil {
		return time.Time{}, rpcerr.Invalid(field, "%s is not a day like 2026-01-31", rpcerr.Quote(s))
	}
	return d, nil
}

// reportRange checks a range and the caller's AllChats on the units it covers; monthly
// widens it to whole months. Nothing is read before the input is known to be good.
func (s *Server) reportRange(ctx context.Context, p *auth.Principal, r *supervisionv1.ReportRange, monthly bool) (*report, error) {
	if r == nil {
		return nil, rpcerr.Invalid("range", "required")
	}
	from, err := civil("range.from", r.From)
	if err != nil {
		return nil, err
	}
	to, err := civil("range.to", r.To)
	if err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, rpcerr.Invalid("range.to", "%s is before range.from %s", r.To, r.From)
	}
	if to.After(from.AddDate(maxReportYears, 0, 0)) {
		return nil, rpcerr.Invalid("range.to", "the range is longer than %d years", maxReportYears)
	}
	var loc *time.Location
	tz := r.TimeZone
	if tz != "" {
		// "Local" would be the server's zone, which callers cannot know.
		if loc, err = time.LoadLocation(r.TimeZone); err != nil || r.TimeZone == "Local" {
			return nil, rpcerr.Invalid("range.time_zone", "%s is not an IANA time zone like Europe/Paris", rpcerr.Quote(r.TimeZone))
		}
	}
	if monthly {
		from = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
		to = time.Date(to.Year(), to.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	}

	out := &report{}
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if r.BusinessUnit != "" {
			u, err := store.ReportUnitByName(ctx, tx, r.BusinessUnit)
			if errors.Is(err, store.ErrNotFound) {
				return rpcerr.Invalid("range.business_unit", "there is no business unit named %s", rpcerr.Quote(r.BusinessUnit))
			}
			if err != nil {
				return err
			}
			if loc == nil && u.TimeZone != "" {
				// Hours that name an unknown zone were refused when applied; UTC if not.
				if unitLoc, err := time.LoadLocation(u.TimeZone); err == nil {
					loc, tz = unitLoc, u.TimeZone
				}
			}
		}
		units, err := unitsWith(ctx, tx, p, store.PermAllChats, r.BusinessUnit)
		if err != nil {
			return err
		}
		out.scope.Units = units
		if out.agents, err = store.ReportAgents(ctx, tx); err != nil {
			return err
		}
		if r.Agent != "" {
			for id, a := range out.agents {
				if a.Name == r.Agent {
					out.scope.Agent = &id
				}
			}
			if out.scope.Agent == nil {
				return rpcerr.Invalid("range.agent", "there is no agent named %s", rpcerr.Quote(r.Agent))
			}
		}
		if tz != "" {
			if err := store.CheckTimeZone(ctx, tx, tz); errors.Is(err, store.ErrUnknownTimeZone) {
				return rpcerr.Invalid("range.time_zone", "%s is not a time zone the database knows", rpcerr.Quote(tz))
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	if loc == nil {
		loc = time.UTC
	}
	out.scope.Location = loc
	out.scope.Start = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc).UTC()
	out.scope.End = time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc).UTC()
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if !monthly {
			out.periods = append(out.periods, d.Format(dayLayout))
		} else if d.Day() == 1 {
			out.periods = append(out.periods, d.Format(monthLayout))
		}
	}
	return out, nil
}

// reportData reads what a report shows within one transaction: traffic too unless nil.
func (s *Server) reportData(ctx context.Context, p *auth.Principal, rep *report, byAgent bool, traffic *store.TrafficBy) (*store.ConversationReport, *store.TrafficReport, error) {
	var conv *store.ConversationReport
	var tr *store.TrafficReport
	err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		if conv, err = store.ReportConversations(ctx, tx, rep.scope, byAgent); err != nil {
			return err
		}
		if traffic != nil {
			tr, err = store.ReportTraffic(ctx, tx, rep.scope, *traffic)
		}
		return err
	})
	if err != nil {
		return nil, nil, rpcerr.Internal(ctx, err)
	}
	return conv, tr, nil
}

func counts(f *store.ReportFigures, t *store.Traffic) *supervisionv1.ReportCounts {
	c := &supervisionv1.ReportCounts{}
	if f != nil {
		c.Conversations, c.Messages, c.OfflineMessages = f.Conversations, f.VisitorMessages+f.AgentMessages, f.OfflineMessages
	}
	if t != nil {
		c.PageViews, c.Visitors = t.PageViews, t.Visitors
	}
	return c
}

func addCounts(total, c *supervisionv1.ReportCounts) {
	total.PageViews += c.PageViews
	total.Visitors += c.Visitors
	total.Conversations += c.Conversations
	total.Messages += c.Messages
	total.OfflineMessages += c.OfflineMessages
}

func average(sum float64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func (s *Server) dailyReport(ctx context.Context, p *auth.Principal, r *supervisionv1.ReportRange) (*supervisionv1.GetDailyReportResponse, error) {
	rep, err := s.reportRange(ctx, p, r, false)
	if err != nil {
		return nil, err
	}
	conv, tr, err := s.reportData(ctx, p, rep, false, new(store.TrafficByDay))
	if err != nil {
		return nil, err
	}
	out := &supervisionv1.GetDailyReportResponse{Total: &supervisionv1.ReportCounts{}}
	for _, day := range rep.periods {
		c := counts(conv.ByDay[day], tr.ByPeriod[day])
		addCounts(out.Total, c)
		out.Rows = append(out.Rows, &supervisionv1.DailyReportRow{Day: day, Counts: c})
	}
	// A visitor of several days is one visitor of the range.
	out.Total.Visitors = tr.Visitors
	return out, nil
}

func (s *Server) monthlyReport(ctx context.Context, p *auth.Principal, r *supervisionv1.ReportRange) (*supervisionv1.GetMonthlyReportResponse, error) {
	rep, err := s.reportRange(ctx, p, r, true)
	if err != nil {
		return nil, err
	}
	conv, tr, err := s.reportData(ctx, p, rep, false, new(store.TrafficByMonth))
	if err != nil {
		return nil, err
	}
	months := map[string]*store.ReportFigures{}
	for day, f := range conv.ByDay {
		month := day[:len(monthLayout)]
		if months[month] == nil {
			months[month] = &store.ReportFigures{}
		}
		months[month].Add(f)
	}
	out := &supervisionv1.GetMonthlyReportResponse{Total: &supervisionv1.ReportCounts{}}
	for _, month := range rep.periods {
		c := counts(months[month], tr.ByPeriod[month])
		addCounts(out.Total, c)
		out.Rows = append(out.Rows, &supervisionv1.MonthlyReportRow{Month: month, Counts: c})
	}
	return out, nil
}

func (s *Server) visitorStatistics(ctx context.Context, p *auth.Principal, r *supervisionv1.ReportRange) (*supervisionv1.GetVisitorStatisticsResponse, error) {
	rep, err := s.reportRange(ctx, p, r, false)
	if err != nil {
		return nil, err
	}
	conv, tr, err := s.reportData(ctx, p, rep, false, new(store.TrafficByDayWithNewVisitors))
	if err != nil {
		return nil, err
	}
	out := &supervisionv1.GetVisitorStatisticsResponse{}
	for _, day := range rep.periods {
		row := &supervisionv1.VisitorStatisticsRow{Day: day}
		if t := tr.ByPeriod[day]; t != nil {
			row.Visitors, row.NewVisitors, row.ReturningVisitors = t.Visitors, t.NewVisitors, t.Visitors-t.NewVisitors
			row.Visits, row.PageViews = t.Visits, t.PageViews
		}
		if f := conv.ByDay[day]; f != nil {
			row.Conversations = f.Conversations
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

func (s *Server) agentStatistics(ctx context.Context, p *auth.Principal, r *supervisionv1.ReportRange) (*supervisionv1.GetAgentStatisticsResponse, error) {
	rep, err := s.reportRange(ctx, p, r, false)
	if err != nil {
		return nil, err
	}
	conv, _, err := s.reportData(ctx, p, rep, true, nil)
	if err != nil {
		return nil, err
	}
	out := &supervisionv1.GetAgentStatisticsResponse{}
	for id, f := range conv.ByAgent {
		if f.Conversations == 0 && f.AgentMessages == 0 && f.ResponseCount == 0 {
			continue // only offline messages, which no agent takes
		}
		row := &supervisionv1.AgentStatisticsRow{
			Conversations:               f.Conversations,
			Messages:                    f.AgentMessages,
			AverageFirstResponseSeconds: average(f.FirstResponseSum, f.FirstResponseCount),
			AverageResponseSeconds:      average(f.ResponseSum, f.ResponseCount),
			UnansweredConversations:     f.Unanswered,
			AverageHandlingSeconds:      average(f.HandlingSum, f.HandlingCount),
		}
		switch a, ok := rep.agents[id]; {
		case id == store.NoAgent:
			// Conversations that ended before any agent took them: missed chats.
			row.DisplayName = "not assigned"
		case ok:
			row.Agent, row.DisplayName = a.Name, a.DisplayName
		default:
			row.DisplayName = "deleted agent"
		}
		out.Rows = append(out.Rows, row)
	}
	sort.Slice(out.Rows, func(i, j int) bool { return out.Rows[i].Agent < out.Rows[j].Agent })
	return out, nil
}

func (s *Server) interactionStatistics(ctx context.Context, p *auth.Principal, r *supervisionv1.ReportRange) (*supervisionv1.GetInteractionStatisticsResponse, error) {
	rep, err := s.reportRange(ctx, p, r, false)
	if err != nil {
		return nil, err
	}
	conv, _, err := s.reportData(ctx, p, rep, false, nil)
	if err != nil {
		return nil, err
	}
	row := func(f *store.ReportFigures) *supervisionv1.InteractionStatisticsRow {
		if f == nil {
			return &supervisionv1.InteractionStatisticsRow{}
		}
		return &supervisionv1.InteractionStatisticsRow{Conversations: f.Conversations, OfflineMessages: f.OfflineMessages,
			AverageResponseSeconds: average(f.ResponseSum, f.ResponseCount)}
	}
	out := &supervisionv1.GetInteractionStatisticsResponse{}
	for _, day := range rep.periods {
		r := row(conv.ByDay[day])
		r.Day = day
		out.ByDay = append(out.ByDay, r)
	}
	for h := range conv.ByHour {
		r := row(&conv.ByHour[h])
		r.Hour = int32(h)
		out.ByHour = append(out.ByHour, r)
	}
	return out, nil
}

// GetDailyReport counts page views, visitors, conversations, messages and offline
// messages per day.
func (s *Server) GetDailyReport(ctx context.Context, req *connect.Request[supervisionv1.GetDailyReportRequest]) (*connect.Response[supervisionv1.GetDailyReportResponse], error) {
	return answer(ctx, req.Msg.Range, s.dailyReport)
}

// GetMonthlyReport counts the daily report's figures per month.
func (s *Server) GetMonthlyReport(ctx context.Context, req *connect.Request[supervisionv1.GetMonthlyReportRequest]) (*connect.Response[supervisionv1.GetMonthlyReportResponse], error) {
	return answer(ctx, req.Msg.Range, s.monthlyReport)
}

// GetVisitorStatistics counts visitors, new and returning, visits and pages per day.
func (s *Server) GetVisitorStatistics(ctx context.Context, req *connect.Request[supervisionv1.GetVisitorStatisticsRequest]) (*connect.Response[supervisionv1.GetVisitorStatisticsResponse], error) {
	return answer(ctx, req.Msg.Range, s.visitorStatistics)
}

// GetAgentStatistics gives each agent's conversations, messages and times.
func (s *Server) GetAgentStatistics(ctx context.Context, req *connect.Request[supervisionv1.GetAgentStatisticsRequest]) (*connect.Response[supervisionv1.GetAgentStatisticsResponse], error) {
	return answer(ctx, req.Msg.Range, s.agentStatistics)
}

// GetInteractionStatistics counts conversations, offline messages and response times by
// day and by hour of the day.
func (s *Server) GetInteractionStatistics(ctx context.Context, req *connect.Request[supervisionv1.GetInteractionStatisticsRequest]) (*connect.Response[supervisionv1.GetInteractionStatisticsResponse], error) {
	return answer(ctx, req.Msg.Range, s.interactionStatistics)
}

// answer checks the caller and builds a report.
func answer[T any](ctx context.Context, r *supervisionv1.ReportRange, build func(context.Context, *auth.Principal, *supervisionv1.ReportRange) (*T, error)) (*connect.Response[T], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	out, err := build(ctx, p, r)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func seconds(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func countCells(c *supervisionv1.ReportCounts) []string {
	return []string{itoa(c.PageViews), itoa(c.Visitors), itoa(c.Conversations), itoa(c.Messages), itoa(c.OfflineMessages)}
}

// reportTable is a report as CSV: a header and rows. Reports are at most a row per day of
// three years, so they are built whole and streamed in pieces.
func (s *Server) reportTable(ctx context.Context, p *auth.Principal, kind supervisionv1.ReportKind, r *supervisionv1.ReportRange) ([][]string, error) {
	countHeader := []string{"page_views", "visitors", "conversations", "messages", "offline_messages"}
	switch kind {
	case supervisionv1.ReportKind_REPORT_KIND_DAILY:
		rep, err := s.dailyReport(ctx, p, r)
		if err != nil {
			return nil, err
		}
		table := [][]string{append([]string{"day"}, countHeader...)}
		for _, row := range rep.Rows {
			table = append(table, append([]string{row.Day}, countCells(row.Counts)...))
		}
		return table, nil
	case supervisionv1.ReportKind_REPORT_KIND_MONTHLY:
		rep, err := s.monthlyReport(ctx, p, r)
		if err != nil {
			return nil, err
		}
		table := [][]string{append([]string{"month"}, countHeader...)}
		for _, row := range rep.Rows {
			table = append(table, append([]string{row.Month}, countCells(row.Counts)...))
		}
		return table, nil
	case supervisionv1.ReportKind_REPORT_KIND_VISITORS:
		rep, err := s.visitorStatistics(ctx, p, r)
		if err != nil {
			return nil, err
		}
		table := [][]string{{"day", "visitors", "new_visitors", "returning_visitors", "visits", "page_views", "conversations"}}
		for _, row := range rep.Rows {
			table = append(table, []string{row.Day, itoa(row.Visitors), itoa(row.NewVisitors), itoa(row.ReturningVisitors),
				itoa(row.Visits), itoa(row.PageViews), itoa(row.Conversations)})
		}
		return table, nil
	case supervisionv1.ReportKind_REPORT_KIND_AGENTS:
		rep, err := s.agentStatistics(ctx, p, r)
		if err != nil {
			return nil, err
		}
		table := [][]string{{"agent", "display_name", "conversations", "messages", "average_first_response_seconds",
			"average_response_seconds", "unanswered_conversations", "average_handling_seconds"}}
		for _, row := range rep.Rows {
			table = append(table, []string{row.Agent, row.DisplayName, itoa(row.Conversations), itoa(row.Messages),
				seconds(row.AverageFirstResponseSeconds), seconds(row.AverageResponseSeconds), itoa(row.UnansweredConversations),
				seconds(row.AverageHandlingSeconds)})
		}
		return table, nil
	case supervisionv1.ReportKind_REPORT_KIND_INTERACTIONS_BY_DAY, supervisionv1.ReportKind_REPORT_KIND_INTERACTIONS_BY_HOUR:
		rep, err := s.interactionStatistics(ctx, p, r)
		if err != nil {
			return nil, err
		}
		header, rows := "day", rep.ByDay
		if kind == supervisionv1.ReportKind_REPORT_KIND_INTERACTIONS_BY_HOUR {
			header, rows = "hour", rep.ByHour
		}
		table := [][]string{{header, "conversations", "offline_messages", "average_response_seconds"}}
		for _, row := range rows {
			first := row.Day
			if header == "hour" {
				first = strconv.Itoa(int(row.Hour))
			}
			table = append(table, []string{first, itoa(row.Conversations), itoa(row.OfflineMessages), seconds(row.AverageResponseSeconds)})
		}
		return table, nil
	}
	return nil, rpcerr.Invalid("kind", "choose a report (unknown value %d)", kind)
}

// ExportReport streams a report as CSV: a header row, then the report's rows.
func (s *Server) ExportReport(ctx context.Context, req *connect.Request[supervisionv1.ExportReportRequest], stream *connect.ServerStream[supervisionv1.ExportReportResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	table, err := s.reportTable(ctx, p, req.Msg.Kind, req.Msg.Range)
	if err != nil {
		return err
	}
	w := export.NewWriter(func(piece []byte) error {
		return stream.Send(&supervisionv1.ExportReportResponse{Csv: piece})
	})
	for _, row := range table {
		if err := w.Row(row...); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	s.audit(ctx, p, store.AuditExport, uuid.Nil, fmt.Sprintf("%s report export, %d rows", req.Msg.Kind, len(table)-1))
	return nil
}
