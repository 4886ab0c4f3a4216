package board_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/board"
)

// selectors parses a scoped query and returns the matchers of each of its selectors.
func selectors(t *testing.T, query string) [][]*labels.Matcher {
	t.Helper()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		t.Fatalf("scoped query %q does not parse: %v", query, err)
	}
	var out [][]*labels.Matcher
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs.LabelMatchers)
		}
		return nil
	})
	return out
}

// only reports whether the matchers on name are exactly want (one matcher).
func only(ms []*labels.Matcher, name string, typ labels.MatchType, value string) bool {
	n := 0
	ok := false
	for _, m := range ms {
		if m.Name == name {
			n++
			ok = m.Type == typ && m.Value == value
		}
	}
	return n == 1 && ok
}

func TestEverySelectorOfEveryPanelIsScopedByTheServer(t *testing.T) {
	scopes := []struct {
		name  string
		scope board.Scope
		unit  func(ms []*labels.Matcher) bool
	}{
		{"a tenant admin's board reads the tenant", board.Scope{Tenant: "acme"},
			func(ms []*labels.Matcher) bool {
				for _, m := range ms {
					if m.Name == board.UnitLabel {
						return false
					}
				}
				return true
			}},
		{"a one-unit board reads that unit", board.Scope{Tenant: "acme", Units: []string{"sales"}},
			func(ms []*labels.Matcher) bool { return only(ms, board.UnitLabel, labels.MatchEqual, "sales") }},
		{"a several-unit board reads those units, names quoted", board.Scope{Tenant: "acme", Units: []string{"sales", "after.sales"}},
			func(ms []*labels.Matcher) bool {
				return only(ms, board.UnitLabel, labels.MatchRegexp, `sales|after\.sales`)
			}},
	}
	for _, s := range scopes {
		t.Run(s.name, func(t *testing.T) {
			for _, p := range board.Panels {
				for _, target := range p.Targets {
					q, err := s.scope.Apply(target.Expr)
					if err != nil {
						t.Fatalf("panel %s: %v", p.ID, err)
					}
					sels := selectors(t, q)
					if len(sels) == 0 {
						t.Fatalf("panel %s: no selector in %s", p.ID, q)
					}
					for _, ms := range sels {
						if !only(ms, board.TenantLabel, labels.MatchEqual, "acme") || !s.unit(ms) {
							t.Fatalf("panel %s: selector %v of %s is not scoped", p.ID, ms, q)
						}
					}
				}
			}
		})
	}
}

func TestAQueryCannotWidenItsScope(t *testing.T) {
	cases := []struct {
		name  string
		scope board.Scope
		query string
	}{
		{"another tenant written in the query is replaced", board.Scope{Tenant: "acme", Units: []string{"sales"}},
			`sum(switchboard_agents{tenant="globex", business_unit=~".*"}) or switchboard_slots{tenant!="acme"}`},
		{"a unit name that is a regular expression matches only itself", board.Scope{Tenant: "acme", Units: []string{".*", "sales"}},
			`switchboard_agents`},
		{"a unit name that tries to close the selector stays a value", board.Scope{Tenant: "acme", Units: []string{`a"} or vector(1) or {x="`}},
			`switchboard_agents`},
		{"a tenant name that tries to close the selector stays a value", board.Scope{Tenant: `acme"} or {tenant=~".+`},
			`rate(switchboard_messages_total[5m]) / on() group_left max_over_time(switchboard_agents[5m:1m])`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := c.scope.Apply(c.query)
			if err != nil {
				t.Fatal(err)
			}
			sels := selectors(t, q)
			if len(sels) != strings.Count(q, "switchboard_") {
				t.Fatalf("%s has %d selectors, want one per metric name", q, len(sels))
			}
			for _, ms := range sels {
				if !only(ms, board.TenantLabel, labels.MatchEqual, c.scope.Tenant) {
					t.Fatalf("%s: selector %v is not on tenant %q alone", q, ms, c.scope.Tenant)
				}
				for _, m := range ms {
					if m.Name != board.UnitLabel {
						continue
					}
					for _, other := range []string{"support", "", "x"} {
						if m.Matches(other) {
							t.Fatalf("%s: the unit matcher %v matches %q", q, m, other)
						}
					}
				}
			}
		})
	}
	if _, err := (board.Scope{Tenant: "acme", Units: []string{}}).Apply(`switchboard_agents`); err == nil {
		t.Fatal("a unit-scoped board without units was evaluated")
	}
}

func TestTheGrafanaDashboardHasEveryPanelFixedToTheTenant(t *testing.T) {
	raw, err := board.GrafanaDashboard("acme")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string
		Templating struct {
			List []struct{ Name, Type, Query string }
		}
		Panels []struct {
			Type, Title string
			GridPos     struct{ X, Y, W, H int }
			Datasource  struct{ Type, UID string }
			Targets     []struct{ Expr, LegendFormat string }
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	if d.UID != "switchboard-acme" || len(d.Templating.List) != 1 || d.Templating.List[0].Type != "datasource" || d.Templating.List[0].Query != "prometheus" {
		t.Fatalf("uid %q, variables %+v: want a Prometheus data source variable", d.UID, d.Templating.List)
	}
	if len(d.Panels) != len(board.Panels) {
		t.Fatalf("%d panels, want %d", len(d.Panels), len(board.Panels))
	}
	for i, p := range d.Panels {
		want := board.Panels[i]
		if p.Title != want.Title || p.GridPos.W != int(want.Width) || p.GridPos.H != int(want.Height) || p.GridPos.X != int(want.X) || p.GridPos.Y != int(want.Y) {
			t.Errorf("panel %d is %+v, want %s at %d,%d %dx%d", i, p, want.Title, want.X, want.Y, want.Width, want.Height)
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) != len(want.Targets) {
			t.Errorf("panel %s: data source %+v, %d targets", p.Title, p.Datasource, len(p.Targets))
		}
		for _, target := range p.Targets {
			for _, ms := range selectors(t, target.Expr) {
				if !only(ms, board.TenantLabel, labels.MatchEqual, "acme") {
					t.Errorf("panel %s: %s reads beyond the tenant", p.Title, target.Expr)
				}
			}
		}
	}
	long, err := board.GrafanaDashboard(strings.Repeat("tenant.", 8))
	if err != nil {
		t.Fatal(err)
	}
	var ld struct{ UID string }
	if err := json.Unmarshal(long, &ld); err != nil || len(ld.UID) > 40 || strings.Contains(ld.UID, ".") {
		t.Fatalf("a long tenant's uid %q (%v): want 40 characters at most, no dots", ld.UID, err)
	}
}

// registry is a process registry with the board's metrics for two tenants.
type registry struct {
	*prometheus.Registry
	agents, slots, groupAgents, groupSlots, conversations *prometheus.GaugeVec
	ratings, criteria                                     *prometheus.GaugeVec
}

func newRegistry() *registry {
	unit := []string{"tenant", "business_unit"}
	r := &registry{
		Registry:      prometheus.NewRegistry(),
		agents:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_agents"}, append(unit, "status")),
		slots:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_slots"}, append(unit, "kind")),
		groupAgents:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_agent_group_agents"}, append(unit, "units", "status")),
		groupSlots:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_agent_group_slots"}, append(unit, "units", "kind")),
		conversations: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_conversations"}, append(unit, "state")),
		ratings:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_ratings_today"}, append(unit, "outcome")),
		criteria:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_rating_criterion_scores_today"}, append(unit, "criterion", "outcome")),
	}
	r.MustRegister(r.agents, r.slots, r.groupAgents, r.groupSlots, r.conversations, r.ratings, r.criteria)
	return r
}

func panel(t *testing.T, b *supervisionv1.Board, id string) map[string]float64 {
	t.Helper()
	for _, p := range b.Panels {
		if p.Id != id {
			continue
		}
		if p.Error != "" {
			t.Fatalf("panel %s: %s", id, p.Error)
		}
		out := map[string]float64{}
		for _, s := range p.Series {
			out[s.Legend] = s.Samples[len(s.Samples)-1].Value
		}
		return out
	}
	t.Fatalf("no panel %s", id)
	return nil
}

func TestTheEmbeddedEngineEvaluatesThePanelsFromTheRegistry(t *testing.T) {
	r := newRegistry()
	// acme: two agents available and one away in sales alone, three busy in support alone,
	// and one busy in both, with 3 free slots in sales and 2 for the agent of both.
	group := func(tenant, units, status string, v float64) {
		for _, unit := range strings.Split(units, ",") {
			r.groupAgents.WithLabelValues(tenant, unit, units, status).Set(v)
		}
	}
	group("acme", "sales", "available", 2)
	group("acme", "sales", "away", 1)
	group("acme", "support", "busy", 3)
	group("acme", "sales,support", "busy", 1)
	group("globex", "sales", "available", 100)
	r.groupSlots.WithLabelValues("acme", "sales", "sales", "free").Set(3)
	r.groupSlots.WithLabelValues("acme", "sales", "sales,support", "free").Set(2)
	r.groupSlots.WithLabelValues("acme", "support", "sales,support", "free").Set(2)
	r.groupSlots.WithLabelValues("globex", "sales", "sales", "free").Set(500)
	// Per unit, the agent of both counts in each.
	r.agents.WithLabelValues("acme", "sales", "available").Set(2)
	r.agents.WithLabelValues("acme", "sales", "away").Set(1)
	r.agents.WithLabelValues("acme", "sales", "busy").Set(1)
	r.agents.WithLabelValues("acme", "support", "busy").Set(4)
	r.agents.WithLabelValues("globex", "sales", "available").Set(100)
	r.slots.WithLabelValues("acme", "sales", "free").Set(5)
	r.slots.WithLabelValues("acme", "support", "free").Set(2)
	r.slots.WithLabelValues("globex", "sales", "free").Set(500)
	// A unit without agents shows zeros.
	r.agents.WithLabelValues("acme", "billing", "available").Set(0)
	r.slots.WithLabelValues("acme", "billing", "free").Set(0)
	e, err := board.OpenEmbedded(board.EmbeddedOptions{Gatherer: r})
	if err != nil {
		t.Fatal(err)
	}
	dir := e.Dir()
	defer e.Close()
	ctx := context.Background()
	start := time.Now()
	r.ratings.WithLabelValues("acme", "sales", "satisfied").Set(3)
	r.ratings.WithLabelValues("acme", "sales", "unsatisfied").Set(1)
	r.ratings.WithLabelValues("globex", "sales", "unsatisfied").Set(50)
	r.criteria.WithLabelValues("acme", "sales", "welcome", "good").Set(1)
	r.criteria.WithLabelValues("acme", "sales", "welcome", "poor").Set(0)
	r.criteria.WithLabelValues("acme", "sales", "quality", "good").Set(0)
	r.criteria.WithLabelValues("acme", "sales", "quality", "poor").Set(1)
	for i := 1; i <= 3; i++ {
		if err := e.Scrape(ctx, start.Add(time.Duration(i)*2*time.Second)); err != nil {
			t.Fatal(err)
		}
	}

	all := board.Evaluate(ctx, e, board.Scope{Tenant: "acme"}, time.Hour)
	if all.Source != "embedded" || !all.EvaluatedAt.AsTime().Equal(start.Add(6*time.Second).Truncate(time.Millisecond)) {
		t.Fatalf("source %q at %v", all.Source, all.EvaluatedAt.AsTime())
	}
	if got := panel(t, all, "agents-by-status"); len(got) != 3 || got["available"] != 2 || got["busy"] != 4 || got["unavailable"] != 1 {
		t.Fatalf("acme's agents by status: %v, want the agent of two units once", got)
	}
	if got := panel(t, all, "slots"); got["free"] != 5 {
		t.Fatalf("acme's free slots: %v, want those of the agent of two units once", got)
	}
	if got := panel(t, all, "satisfaction-today"); got["satisfaction"] != 0.75 {
		t.Fatalf("acme's satisfaction today: %v, want 3 of 4", got)
	}
	if got := panel(t, all, "ratings-today"); got["ratings"] != 4 {
		t.Fatalf("acme's ratings today: %v", got)
	}
	if got := panel(t, all, "satisfaction-by-criterion"); len(got) != 2 || got["welcome"] != 1 || got["quality"] != 0 {
		t.Fatalf("acme's satisfaction by criterion: %v", got)
	}
	short := board.Evaluate(ctx, e, board.Scope{Tenant: "acme"}, 10*time.Second)
	for _, p := range short.Panels {
		if p.Id == "agents-over-time" && (len(p.Series) != 3 || len(p.Series[0].Samples) < 6) {
			t.Fatalf("agents over the last 10s, a point a second: %v", p.Series)
		}
	}
	for _, p := range all.Panels {
		for _, s := range p.Series {
			if _, ok := s.Labels["tenant"]; ok {
				t.Fatalf("panel %s shows the tenant label: %v", p.Id, s.Labels)
			}
		}
	}

	sales := board.Evaluate(ctx, e, board.Scope{Tenant: "acme", Units: []string{"sales"}}, time.Hour)
	if got := panel(t, sales, "agents-by-status"); len(got) != 3 || got["available"] != 2 || got["busy"] != 1 || got["unavailable"] != 1 {
		t.Fatalf("acme sales' agents by status: %v", got)
	}
	billing := board.Evaluate(ctx, e, board.Scope{Tenant: "acme", Units: []string{"billing"}}, time.Hour)
	if got := panel(t, billing, "agents-by-status"); len(got) != 1 || got["available"] != 0 {
		t.Fatalf("acme billing's agents by status: %v, want zeros", got)
	}
	if got := panel(t, billing, "slots"); len(got) != 1 || got["free"] != 0 {
		t.Fatalf("acme billing's slots: %v, want zeros", got)
	}
	if got := panel(t, sales, "slots"); got["free"] != 5 {
		t.Fatalf("acme sales' slots: %v", got)
	}

	// A unit that goes away leaves the board at the next scrape, not five minutes later.
	r.agents.DeleteLabelValues("acme", "support", "busy")
	r.groupAgents.DeleteLabelValues("acme", "support", "support", "busy")
	r.groupAgents.DeleteLabelValues("acme", "support", "sales,support", "busy")
	if err := e.Scrape(ctx, start.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := panel(t, board.Evaluate(ctx, e, board.Scope{Tenant: "acme"}, time.Hour), "agents-by-status"); got["busy"] != 1 {
		t.Fatalf("after support was deleted: %v, want the busy agent of sales alone", got)
	}

	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the temporary folder %s is still there: %v", dir, err)
	}
}

func TestAPrometheusThatDoesNotAnswerFailsEachPanelNotTheBoard(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	src, err := board.NewExternal("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	b := board.Evaluate(context.Background(), src, board.Scope{Tenant: "acme"}, time.Hour)
	if b.Source != addr || len(b.Panels) != len(board.Panels) {
		t.Fatalf("source %q with %d panels", b.Source, len(b.Panels))
	}
	for _, p := range b.Panels {
		if p.Error == "" || len(p.Series) != 0 || p.Title == "" {
			t.Fatalf("panel %s: error %q, %d series", p.Id, p.Error, len(p.Series))
		}
	}
	for _, bad := range []string{"", "prometheus:9090", "ftp://prometheus", "http://"} {
		if _, err := board.NewExternal(bad); err == nil {
			t.Errorf("the Prometheus URL %q was accepted", bad)
		}
	}
}
