// Package board is the supervision board: Grafana-style panels defined once as data, whose
// PromQL the server scopes to the caller's tenant and business units, evaluated against an
// external Prometheus or an embedded engine (the Prometheus TSDB and PromQL engine as a
// library, scraping the process's own registry), and exported as Grafana dashboard JSON.
package board

import (
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
)

// agentsByStatus counts the agents online by status, each once however many of the
// board's units it belongs to: an agent group's series repeat under each of its units, so
// max by (units) keeps one per group. A unit without agents still shows its zeros.
const agentsByStatus = `label_replace(
	sum by (status) (max by (units, status) (switchboard_agent_group_agents{status=~"available|busy|away"}))
	or sum by (status) (0 * switchboard_agents{status=~"available|busy|away"}),
	"status", "unavailable", "status", "away")`

// Panel is one panel of the board as defined: what it shows and where, and its queries.
type Panel struct {
	// ID names the panel, stable across evaluations and in the Grafana export.
	ID          string
	Title       string
	Description string
	Kind        supervisionv1.PanelKind
	// Unit is Grafana's unit name: "short", "percentunit", "s".
	Unit     string
	Min, Max float64
	// X, Y, Width and Height place the panel on a 24-column grid.
	X, Y, Width, Height int32
	Targets             []Target
	// Objective is the objective metric the panel's values measure, e.g. "satisfaction":
	// the panel carries the thresholds of the scope's objectives on it. Empty for none.
	Objective string
	// Goals says each series is one objective's attainment, labelled by the objective: each
	// series carries its objective's thresholds.
	Goals bool
}

// Target is one query of a panel. Its selectors name no tenant or business unit: the
// server adds them (and replaces any that are written).
type Target struct {
	// Expr is the PromQL.
	Expr string
	// Legend names each series, with {{label}} replaced by the series' label, as in
	// Grafana's legend format; empty means the series' labels.
	Legend string
}

// Panels are the board, in grid order.
var Panels = []Panel{
	{
		ID: "agents-by-status", Title: "Agents online", Kind: supervisionv1.PanelKind_PANEL_KIND_STAT, Unit: "short",
		Description: "Agents signed in by status: available (taking chats), busy (not taking new chats) and unavailable (away); an agent of several units counts once.",
		X:           0, Y: 0, Width: 8, Height: 4,
		Targets: []Target{{Expr: agentsByStatus, Legend: "{{status}}"}},
	},
	{
		ID: "slots", Title: "Conversation slots", Kind: supervisionv1.PanelKind_PANEL_KIND_STAT, Unit: "short",
		Description: "Slots of the agents online: free is the capacity left of available agents, used the conversations they hold; an agent of several units counts once.",
		X:           8, Y: 0, Width: 8, Height: 4,
		Targets: []Target{{
			Expr:   `sum by (kind) (max by (units, kind) (switchboard_agent_group_slots)) or sum by (kind) (0 * switchboard_slots)`,
			Legend: "{{kind}}",
		}},
	},
	{
		ID: "visitors", Title: "Visitors", Kind: supervisionv1.PanelKind_PANEL_KIND_STAT, Unit: "short",
		Description: "Visitors in conversation with an agent, those of them under a live signal, and those waiting in the queue.",
		X:           16, Y: 0, Width: 8, Height: 4,
		Targets: []Target{
			{Expr: `sum(switchboard_conversations{state="open"})`, Legend: "in conversation"},
			{Expr: `sum(switchboard_conversations_signalled)`, Legend: "under a signal"},
			{Expr: `sum(switchboard_conversations{state="queued"})`, Legend: "waiting"},
		},
	},
	{
		ID: "satisfaction-today", Title: "Satisfaction today", Kind: supervisionv1.PanelKind_PANEL_KIND_GAUGE, Unit: "percentunit", Min: 0, Max: 1,
		Objective:   "satisfaction",
		Description: "Share of today's ratings that are satisfied: a thumb up or a CSAT of 4 or 5, as the satisfaction objective counts. Today is since midnight in each unit's time zone, read from the stored ratings.",
		X:           0, Y: 4, Width: 8, Height: 6,
		Targets: []Target{{
			Expr:   `sum(switchboard_ratings_today{outcome="satisfied"}) / sum(switchboard_ratings_today)`,
			Legend: "satisfaction",
		}},
	},
	{
		ID: "satisfaction-by-criterion", Title: "Satisfaction today by criterion", Kind: supervisionv1.PanelKind_PANEL_KIND_GAUGE, Unit: "percentunit", Min: 0, Max: 1,
		Description: "Share of today's criterion scores of 4 or 5, for welcome, response time and quality of response, each judged against the satisfaction objective.",
		Objective:   "satisfaction",
		X:           8, Y: 4, Width: 10, Height: 6,
		Targets: []Target{{
			Expr:   `sum by (criterion) (switchboard_rating_criterion_scores_today{outcome="good"}) / sum by (criterion) (switchboard_rating_criterion_scores_today)`,
			Legend: "{{criterion}}",
		}},
	},
	{
		ID: "ratings-today", Title: "Ratings today", Kind: supervisionv1.PanelKind_PANEL_KIND_STAT, Unit: "short",
		Description: "Ratings visitors left today (since midnight in each unit's time zone), read from the stored ratings.",
		X:           18, Y: 4, Width: 6, Height: 6,
		Targets: []Target{{Expr: `sum(switchboard_ratings_today)`, Legend: "ratings"}},
	},
	{
		ID: "objectives", Title: "Goal progress", Kind: supervisionv1.PanelKind_PANEL_KIND_TABLE, Unit: "percentunit", Min: 0, Max: 1,
		Goals:       true,
		Description: "Attainment of each productivity objective over its window, per business unit (empty for the whole tenant).",
		X:           0, Y: 10, Width: 12, Height: 8,
		Targets: []Target{{
			Expr:   `max by (business_unit, objective, metric) (switchboard_objective_attainment_ratio)`,
			Legend: "{{objective}}",
		}},
	},
	{
		ID: "signals", Title: "Active signals", Kind: supervisionv1.PanelKind_PANEL_KIND_STAT, Unit: "short",
		Description: "Objectives missed now, by level.",
		X:           12, Y: 10, Width: 12, Height: 8,
		Targets: []Target{{Expr: `sum by (level) (switchboard_signals_active)`, Legend: "{{level}}"}},
	},
	{
		ID: "agents-over-time", Title: "Agents online over time", Kind: supervisionv1.PanelKind_PANEL_KIND_TIME_SERIES, Unit: "short",
		Description: "Agents signed in by status; an agent of several units counts once.",
		X:           0, Y: 18, Width: 12, Height: 8,
		Targets: []Target{{Expr: agentsByStatus, Legend: "{{status}}"}},
	},
	{
		ID: "conversations-over-time", Title: "Conversations over time", Kind: supervisionv1.PanelKind_PANEL_KIND_TIME_SERIES, Unit: "short",
		Description: "Conversations open with an agent and waiting in the queue.",
		X:           12, Y: 18, Width: 12, Height: 8,
		Targets: []Target{{Expr: `sum by (state) (switchboard_conversations)`, Legend: "{{state}}"}},
	},
	{
		ID: "first-response", Title: "First response time (90th percentile)", Kind: supervisionv1.PanelKind_PANEL_KIND_TIME_SERIES, Unit: "s",
		Objective:   "firstResponseTime",
		Description: "Time from assignment to the agent's first message, 90th percentile over 5 minutes.",
		X:           0, Y: 26, Width: 24, Height: 8,
		Targets: []Target{{
			Expr:   `histogram_quantile(0.9, sum by (le) (rate(switchboard_first_response_seconds_bucket[5m])))`,
			Legend: "p90",
		}},
	},
}
