package board_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/services/board"
)

// serveRegistry is a registry shaped as serve's for the board: every metric a panel reads,
// per tenant and business unit, as the services export them.
type serveRegistry struct {
	*prometheus.Registry
	agents, slots, groupAgents, groupSlots        *prometheus.GaugeVec
	conversations, signalled, signals, attainment *prometheus.GaugeVec
	ratingsToday, criteriaToday                   *prometheus.GaugeVec
	messages                                      *prometheus.CounterVec
	firstResponse, handling                       *prometheus.HistogramVec
}

func newServeRegistry() *serveRegistry {
	unit := []string{"tenant", "business_unit"}
	r := &serveRegistry{
		Registry:      prometheus.NewRegistry(),
		agents:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_agents"}, append(unit, "status")),
		slots:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_slots"}, append(unit, "kind")),
		groupAgents:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_agent_group_agents"}, append(unit, "units", "status")),
		groupSlots:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_agent_group_slots"}, append(unit, "units", "kind")),
		conversations: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_conversations"}, append(unit, "state")),
		signalled:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_conversations_signalled"}, append(unit, "level")),
		signals:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_signals_active"}, append(unit, "objective", "level")),
		attainment:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_objective_attainment_ratio"}, append(unit, "objective", "metric")),
		ratingsToday:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_ratings_today"}, append(unit, "outcome")),
		criteriaToday: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_rating_criterion_scores_today"}, append(unit, "criterion", "outcome")),
		messages:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_messages_total"}, append(unit, "author_kind")),
		firstResponse: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_first_response_seconds",
			Buckets: []float64{5, 10, 15, 30, 45, 60, 90, 120, 180, 300, 600}}, unit),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_handling_duration_seconds",
			Buckets: []float64{60, 120, 300, 600, 900, 1200, 1800, 2700, 3600}}, unit),
	}
	r.MustRegister(r.agents, r.slots, r.groupAgents, r.groupSlots, r.conversations, r.signalled, r.signals, r.attainment,
		r.ratingsToday, r.criteriaToday, r.messages, r.firstResponse, r.handling)
	return r
}

// day simulates a contact centre: the benchmarked tenant's 200 agents in 10 units of 20
// (capacity 3 each), and other tenants the board must leave out.
type day struct {
	r       *serveRegistry
	rnd     *rand.Rand
	tenants []string
}

const (
	units         = 10
	agentsPerUnit = 20
	otherTenants  = 1
)

func (d *day) step() {
	for _, tenant := range d.tenants {
		for u := range units {
			unit := fmt.Sprintf("unit-%d", u)
			available := float64(d.rnd.IntN(agentsPerUnit + 1))
			busy := float64(d.rnd.IntN(agentsPerUnit - int(available) + 1))
			away := float64(agentsPerUnit) - available - busy
			d.r.agents.WithLabelValues(tenant, unit, "available").Set(available)
			d.r.agents.WithLabelValues(tenant, unit, "busy").Set(busy)
			d.r.agents.WithLabelValues(tenant, unit, "away").Set(away)
			d.r.agents.WithLabelValues(tenant, unit, "offline").Set(0)
			used := float64(d.rnd.IntN(int(available+busy)*3 + 1))
			d.r.slots.WithLabelValues(tenant, unit, "used").Set(used)
			d.r.slots.WithLabelValues(tenant, unit, "free").Set(max(0, available*3-used))
			// Each unit's agents belong to it alone: one group per unit.
			d.r.groupAgents.WithLabelValues(tenant, unit, unit, "available").Set(available)
			d.r.groupAgents.WithLabelValues(tenant, unit, unit, "busy").Set(busy)
			d.r.groupAgents.WithLabelValues(tenant, unit, unit, "away").Set(away)
			d.r.groupAgents.WithLabelValues(tenant, unit, unit, "offline").Set(0)
			d.r.groupSlots.WithLabelValues(tenant, unit, unit, "used").Set(used)
			d.r.groupSlots.WithLabelValues(tenant, unit, unit, "free").Set(max(0, available*3-used))
			d.r.conversations.WithLabelValues(tenant, unit, "open").Set(used)
			d.r.conversations.WithLabelValues(tenant, unit, "queued").Set(float64(d.rnd.IntN(5)))
			d.r.signalled.WithLabelValues(tenant, unit, "warning").Set(float64(d.rnd.IntN(3)))
			d.r.signalled.WithLabelValues(tenant, unit, "critical").Set(float64(d.rnd.IntN(2)))
			d.r.signals.WithLabelValues(tenant, unit, "first-response", "warning").Set(float64(d.rnd.IntN(3)))
			d.r.attainment.WithLabelValues(tenant, unit, "first-response", "firstResponseTime").Set(d.rnd.Float64())
			d.r.attainment.WithLabelValues(tenant, unit, "satisfaction", "satisfaction").Set(d.rnd.Float64())
			for range d.rnd.IntN(3) {
				d.r.ratingsToday.WithLabelValues(tenant, unit, []string{"satisfied", "unsatisfied"}[d.rnd.IntN(2)]).Inc()
				for _, c := range []string{"welcome", "response_time", "quality"} {
					d.r.criteriaToday.WithLabelValues(tenant, unit, c, []string{"good", "poor"}[d.rnd.IntN(2)]).Inc()
				}
			}
			for _, kind := range []string{"visitor", "agent", "supervisor"} {
				d.r.messages.WithLabelValues(tenant, unit, kind).Add(float64(d.rnd.IntN(20)))
			}
			for range d.rnd.IntN(4) {
				d.r.firstResponse.WithLabelValues(tenant, unit).Observe(d.rnd.Float64() * 200)
				d.r.handling.WithLabelValues(tenant, unit).Observe(d.rnd.Float64() * 3000)
			}
		}
	}
}

// BenchmarkBoardEmbedded evaluates the whole board (every panel, time series over the
// default hour) of a tenant with 200 agents from the embedded engine holding 23 hours of
// scrapes every DefaultScrapeInterval.
func BenchmarkBoardEmbedded(b *testing.B) {
	d := &day{r: newServeRegistry(), rnd: rand.New(rand.NewPCG(1, 2))}
	for i := range otherTenants + 1 {
		d.tenants = append(d.tenants, fmt.Sprintf("tenant-%d", i))
	}
	e, err := board.OpenEmbedded(board.EmbeddedOptions{Gatherer: d.r})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	history := 23 * time.Hour
	if h, err := time.ParseDuration(os.Getenv("BOARD_BENCH_HISTORY")); err == nil {
		history = h
	}
	now := time.Now()
	began := time.Now()
	for at := now.Add(-history); !at.After(now); at = at.Add(e.Interval()) {
		d.step()
		if err := e.Scrape(ctx, at); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Compact(); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s of scrapes every %s stored in %s", history, e.Interval(), time.Since(began).Round(time.Second))
	b.Run("200 agents", func(b *testing.B) {
		scope := board.Scope{Tenant: "tenant-0"}
		for b.Loop() {
			got := board.Evaluate(ctx, e, scope, board.DefaultSpan)
			for _, p := range got.Panels {
				if p.Error != "" {
					b.Fatalf("panel %s: %s", p.Id, p.Error)
				}
			}
		}
	})
}
