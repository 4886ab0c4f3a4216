// Package metrics exports the platform's state as Prometheus metrics on `serve`'s
// /metrics: each business unit's conversations, agents and slots read from PostgreSQL at
// scrape time, the connection pool, and the live streams. Names follow Prometheus
// conventions (switchboard_…, base units); labels are the tenant's and the business unit's
// names, bounded by configuration. A deleted tenant's series are gone from the next scrape.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Namespace prefixes every metric.
const Namespace = "switchboard"

// scrapeTimeout bounds the database read of one scrape.
const scrapeTimeout = 3 * time.Second

// New returns a registry with Switchboard's metrics, the Go runtime's and the process's,
// and the recorder of stored messages and ratings (run it with Recorder.Run).
func New(db *store.DB, pool *pgxpool.Pool, hub *live.Hub) (*prometheus.Registry, *Recorder) {
	reg := prometheus.NewRegistry()
	recorder := NewRecorder(db, reg)
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(liveHeap)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&units{db: db, recorder: recorder},
		&poolStats{pool: pool},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "streams",
			Help: "Live streams open on this replica (visitors', agents' and supervisors' subscriptions)."},
			func() float64 { return float64(hub.Subscribers()) }),
	)
	return reg, recorder
}

// liveHeap adds go_gc_heap_live_bytes, the heap the last collection found reachable: with
// GOGC at 400 the heap in use swings up to five times it between collections, so a leak
// shows in this figure long before it shows in the others (`switchboard bench soak`).
var liveHeap = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}

var unitLabels = []string{"tenant", "business_unit"}

var (
	conversationsDesc = prometheus.NewDesc(Namespace+"_conversations", "Conversations of the business unit by state: queued (waiting for an agent) or open (assigned or active).", append(unitLabels, "state"), nil)
	agentsDesc        = prometheus.NewDesc(Namespace+"_agents", "Agents of the business unit by status; offline means no stream open.", append(unitLabels, "status"), nil)
	slotsDesc         = prometheus.NewDesc(Namespace+"_slots", "Conversation slots of the unit's agents online: used (conversations held) or free (capacity left of available agents).", append(unitLabels, "kind"), nil)
	scrapeErrorsDesc  = prometheus.NewDesc(Namespace+"_metrics_scrape_errors", "1 when the last read of the business units' figures failed, else 0.", nil, nil)
	// An agent group's series repeat under each of its units' business_unit, so that a
	// query over any units counts each agent once: max by (units, …), then sum.
	groupAgentsDesc   = prometheus.NewDesc(Namespace+"_agent_group_agents", "Agents that belong to exactly the business units named in units (sorted, comma-separated), by status; repeated under each of those units.", append(unitLabels, "units", "status"), nil)
	groupSlotsDesc    = prometheus.NewDesc(Namespace+"_agent_group_slots", "Conversation slots of the online agents that belong to exactly the units named in units: used or free; repeated under each of those units.", append(unitLabels, "units", "kind"), nil)
	ratingsTodayDesc  = prometheus.NewDesc(Namespace+"_ratings_today", "The unit's ratings since midnight in its time zone, read from the database: satisfied (thumb up or CSAT 4–5) or unsatisfied.", append(unitLabels, "outcome"), nil)
	criteriaTodayDesc = prometheus.NewDesc(Namespace+"_rating_criterion_scores_today", "The unit's scores of a rating criterion since midnight in its time zone: good (4–5) or poor (1–3).", append(unitLabels, "criterion", "outcome"), nil)
)

// units reads every unit's live figures at scrape time.
type units struct {
	db       *store.DB
	recorder *Recorder
	mu       sync.Mutex
}

func (u *units) Describe(ch chan<- *prometheus.Desc) {
	ch <- conversationsDesc
	ch <- agentsDesc
	ch <- slotsDesc
	ch <- scrapeErrorsDesc
	ch <- groupAgentsDesc
	ch <- groupSlotsDesc
	ch <- ratingsTodayDesc
	ch <- criteriaTodayDesc
}

func (u *units) Collect(ch chan<- prometheus.Metric) {
	// Concurrent scrapes wait for each other rather than multiply the query.
	u.mu.Lock()
	defer u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	stats, err := u.db.AllUnitStats(ctx)
	groups, groupsErr := u.db.AllAgentGroupStats(ctx)
	ratings, ratingsErr := u.db.AllUnitRatingsToday(ctx)
	failed := 0.0
	if err := errors.Join(err, groupsErr, ratingsErr); err != nil {
		slog.Warn("metrics: reading the business units' figures", "err", err)
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrorsDesc, prometheus.GaugeValue, failed)
	collectGroups(ch, groups)
	collectRatingsToday(ch, ratings)
	for _, s := range stats {
		u.recorder.initUnit(s.Tenant, s.Unit)
		gauge := func(d *prometheus.Desc, v int64, extra string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), s.Tenant, s.Unit, extra)
		}
		gauge(conversationsDesc, s.Queued, "queued")
		gauge(conversationsDesc, s.Open, "open")
		gauge(agentsDesc, s.Available, "available")
		gauge(agentsDesc, s.Busy, "busy")
		gauge(agentsDesc, s.Away, "away")
		gauge(agentsDesc, s.Offline, "offline")
		gauge(slotsDesc, s.UsedSlots, "used")
		gauge(slotsDesc, s.FreeSlots, "free")
	}
}

func collectGroups(ch chan<- prometheus.Metric, groups []store.AgentGroupStats) {
	for _, g := range groups {
		units := strings.Join(g.Units, ",")
		for _, unit := range g.Units {
			gauge := func(d *prometheus.Desc, v int64, extra string) {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), g.Tenant, unit, units, extra)
			}
			gauge(groupAgentsDesc, g.Available, "available")
			gauge(groupAgentsDesc, g.Busy, "busy")
			gauge(groupAgentsDesc, g.Away, "away")
			gauge(groupAgentsDesc, g.Offline, "offline")
			gauge(groupSlotsDesc, g.UsedSlots, "used")
			gauge(groupSlotsDesc, g.FreeSlots, "free")
		}
	}
}

func collectRatingsToday(ch chan<- prometheus.Metric, ratings []store.UnitRatingsToday) {
	for _, r := range ratings {
		ch <- prometheus.MustNewConstMetric(ratingsTodayDesc, prometheus.GaugeValue, float64(r.Satisfied), r.Tenant, r.Unit, "satisfied")
		ch <- prometheus.MustNewConstMetric(ratingsTodayDesc, prometheus.GaugeValue, float64(r.Unsatisfied), r.Tenant, r.Unit, "unsatisfied")
		for criterion, scores := range r.Criteria {
			ch <- prometheus.MustNewConstMetric(criteriaTodayDesc, prometheus.GaugeValue, float64(scores[0]), r.Tenant, r.Unit, criterion, "good")
			ch <- prometheus.MustNewConstMetric(criteriaTodayDesc, prometheus.GaugeValue, float64(scores[1]), r.Tenant, r.Unit, criterion, "poor")
		}
	}
}

var (
	poolConnsDesc    = prometheus.NewDesc(Namespace+"_db_pool_connections", "PostgreSQL connections of this replica's pool by state: idle, acquired, constructing.", []string{"state"}, nil)
	poolMaxDesc      = prometheus.NewDesc(Namespace+"_db_pool_max_connections", "The most connections the pool opens.", nil, nil)
	poolAcquiresDesc = prometheus.NewDesc(Namespace+"_db_pool_acquires_total", "Connections acquired from the pool.", nil, nil)
	poolWaitsDesc    = prometheus.NewDesc(Namespace+"_db_pool_acquire_waits_total", "Acquisitions that had to wait for a connection.", nil, nil)
	poolWaitDesc     = prometheus.NewDesc(Namespace+"_db_pool_acquire_wait_seconds_total", "Time spent waiting for connections.", nil, nil)
)

// poolStats reads the pgx pool's statistics.
type poolStats struct{ pool *pgxpool.Pool }

func (p *poolStats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConnsDesc, poolMaxDesc, poolAcquiresDesc, poolWaitsDesc, poolWaitDesc} {
		ch <- d
	}
}

func (p *poolStats) Collect(ch chan<- prometheus.Metric) {
	s := p.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquiresDesc, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitsDesc, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitDesc, prometheus.CounterValue, s.AcquireDuration().Seconds())
}
