package board_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/switchboard-chat/switchboard/services/board"
)

// FuzzAScopedQueryReadsOnlyItsTenant feeds any query and unit name to the server's scoping
// and checks what a board would then read: the scoped text, parsed again as Prometheus
// parses it, has every selector on the caller's tenant and units alone, and the PromQL
// engine, evaluating it, asks the storage for nothing else.
func FuzzAScopedQueryReadsOnlyItsTenant(f *testing.F) {
	for _, p := range board.Panels {
		for _, q := range p.Targets {
			f.Add(strings.ReplaceAll(q.Expr, "$__today", "1h"), "sales", true)
		}
	}
	for _, q := range []string{
		`sum(switchboard_agents{tenant="globex", business_unit=~".*"}) or switchboard_slots{tenant!="acme"}`,
		`{__name__=~".+"}`,
		`{tenant="globex"}`,
		`rate(switchboard_messages_total[5m]) / on() group_left max_over_time(switchboard_agents[5m:1m])`,
		`label_replace(switchboard_agents, "tenant", "globex", "", "")`,
		`absent(switchboard_agents{tenant="globex"})`,
		`switchboard_agents @ start() offset -1h`,
		`count by (tenant) ({__name__!=""})`,
		`info(switchboard_agents, {tenant="globex"})`,
		`sum_over_time(switchboard_agents{tenant=~"glob.*"}[1h:5m] @ 1000)`,
		`vector(1) + on(tenant) group_left {tenant="globex"}`,
	} {
		f.Add(q, "sales", false)
		f.Add(q, `a"} or {tenant=~".+`, true)
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 100_000, Timeout: 2 * time.Second, LookbackDelta: 5 * time.Minute})
	reparse := parser.NewParser(parser.Options{})
	now := time.Unix(1_780_000_000, 0)

	f.Fuzz(func(t *testing.T, query, unit string, unitScoped bool) {
		scope := board.Scope{Tenant: "acme"}
		if unitScoped {
			scope.Units = []string{unit, "support"}
		}
		scoped, err := scope.Apply(query)
		if err != nil {
			return // refused: nothing is read
		}
		expr, err := reparse.ParseExpr(scoped)
		if err != nil {
			return // Prometheus refuses it too: nothing is read
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				if reason := outsideScope(scope, vs.LabelMatchers); reason != "" {
					t.Fatalf("query %q scoped to %q: selector %v %s", query, scoped, vs.LabelMatchers, reason)
				}
			}
			return nil
		})

		rec := &recorder{}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		q, err := engine.NewInstantQuery(ctx, rec, nil, scoped, now)
		if err != nil {
			return
		}
		q.Exec(ctx)
		q.Close()
		for _, ms := range rec.selects() {
			if reason := outsideScope(scope, ms); reason != "" {
				t.Fatalf("query %q scoped to %q: the engine selected %v, which %s", query, scoped, ms, reason)
			}
		}
	})
}

// outsideScope says how matchers read outside scope, or "" when they read inside it: one
// tenant matcher, equal to the scope's tenant, and for a unit-scoped board one unit matcher
// that matches the scope's units and nothing else tried.
func outsideScope(scope board.Scope, ms []*labels.Matcher) string {
	if !only(ms, board.TenantLabel, labels.MatchEqual, scope.Tenant) {
		return "is not on the tenant alone"
	}
	if scope.Units == nil {
		return ""
	}
	n := 0
	for _, m := range ms {
		if m.Name != board.UnitLabel {
			continue
		}
		n++
		for _, u := range scope.Units {
			if !m.Matches(u) {
				return "misses the unit " + u
			}
		}
		for _, other := range []string{"", "x", "globex", "sales2", scope.Units[0] + "x", "x" + scope.Units[0]} {
			if m.Matches(other) && other != scope.Units[0] && other != scope.Units[1] {
				return "matches the unit " + other + " outside the scope"
			}
		}
	}
	if n != 1 {
		return "does not carry exactly one unit matcher"
	}
	return ""
}

// recorder is a storage that holds no series and records what the engine asks it for.
type recorder struct {
	mu       sync.Mutex
	matchers [][]*labels.Matcher
}

func (r *recorder) Querier(int64, int64) (storage.Querier, error) { return r, nil }

func (r *recorder) record(ms []*labels.Matcher) {
	r.mu.Lock()
	r.matchers = append(r.matchers, ms)
	r.mu.Unlock()
}

func (r *recorder) selects() [][]*labels.Matcher {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.matchers
}

func (r *recorder) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	r.record(ms)
	return storage.EmptySeriesSet()
}

func (r *recorder) LabelValues(_ context.Context, _ string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	r.record(ms)
	return nil, nil, nil
}

func (r *recorder) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	r.record(ms)
	return nil, nil, nil
}

func (r *recorder) Close() error { return nil }
