package signals

import (
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/services/store"
)

// Metrics counts signals and what objectives observe. Label values are tenant and unit
// names and objective names, all bounded by configuration.
type Metrics struct {
	engine *Engine

	raisedTotal  *prometheus.CounterVec
	observations *prometheus.CounterVec
	response     *prometheus.HistogramVec
}

var (
	activeDesc = prometheus.NewDesc("switchboard_signals_active",
		"Signals active now by objective and level (every replica reports the same: aggregate with max).",
		[]string{"tenant", "business_unit", "objective", "level"}, nil)
	signalledDesc = prometheus.NewDesc("switchboard_conversations_signalled",
		"Open conversations with an active live signal, by the highest level (every replica reports the same: aggregate with max).",
		[]string{"tenant", "business_unit", "level"}, nil)
)

func newMetrics() *Metrics {
	return &Metrics{
		raisedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_signals_raised_total",
			Help: "Signals raised, by objective and level (counted by the replica that stored them)."},
			[]string{"tenant", "business_unit", "objective", "level"}),
		observations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_objective_observations_total",
			Help: "First responses, responses and handled conversations judged against the objective that applies to them: met (at most the target) or missed."},
			[]string{"tenant", "business_unit", "objective", "outcome"}),
		response: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_response_seconds",
			Help:    "How long visitors waited for each reply of an agent, from their first unanswered message.",
			Buckets: []float64{5, 10, 15, 30, 45, 60, 90, 120, 180, 300, 600}},
			[]string{"tenant", "business_unit"}),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- activeDesc
	ch <- signalledDesc
	m.raisedTotal.Describe(ch)
	m.observations.Describe(ch)
	m.response.Describe(ch)
}

// Collect implements prometheus.Collector: the active signals from the engine's memory,
// and the counters.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	if e := m.engine; e != nil {
		type activeKey struct{ tenant, unit, objective, level string }
		type convKey struct{ tenant, unit, level string }
		active := map[activeKey]int{}
		signalled := map[convKey]int{}
		e.mu.Lock()
		for _, tn := range e.tenants {
			worst := map[string]string{} // subject → level
			unitOf := map[string]string{}
			for _, s := range tn.active {
				unit := ""
				if s.Unit.Valid {
					unit = tn.units[s.Unit.UUID]
				}
				active[activeKey{tn.name, unit, s.Objective, s.Level}]++
				if s.Source == store.SourceLive {
					if worst[s.Subject] != store.LevelCritical {
						worst[s.Subject] = s.Level
					}
					unitOf[s.Subject] = unit
				}
			}
			for subject, level := range worst {
				signalled[convKey{tn.name, unitOf[subject], level}]++
			}
		}
		e.mu.Unlock()
		for k, n := range active {
			ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(n), k.tenant, k.unit, k.objective, k.level)
		}
		for k, n := range signalled {
			ch <- prometheus.MustNewConstMetric(signalledDesc, prometheus.GaugeValue, float64(n), k.tenant, k.unit, k.level)
		}
	}
	m.raisedTotal.Collect(ch)
	m.observations.Collect(ch)
	m.response.Collect(ch)
}

func (m *Metrics) raised(tn *tenant, s *store.Signal) {
	m.raisedTotal.WithLabelValues(tn.name, tn.unitName(s.Unit.UUID), s.Objective, s.Level).Inc()
}

// initTenant starts the tenant's counters and histograms at zero, so that rate() sees
// their first increment.
func (m *Metrics) initTenant(tn *tenant) {
	for id, unit := range tn.units {
		m.response.WithLabelValues(tn.name, unit)
		for _, o := range tn.objectives {
			if o.Unit.Valid && o.Unit.UUID != id {
				continue
			}
			m.observations.WithLabelValues(tn.name, unit, o.Name, "met")
			m.observations.WithLabelValues(tn.name, unit, o.Name, "missed")
		}
	}
}

// forget drops a deleted tenant's series.
func (m *Metrics) forget(tenant string) {
	l := prometheus.Labels{"tenant": tenant}
	m.raisedTotal.DeletePartialMatch(l)
	m.observations.DeletePartialMatch(l)
	m.response.DeletePartialMatch(l)
}

func (tn *tenant) unitName(id uuid.UUID) string { return tn.units[id] }

// observe counts what changed in a conversation between two reads, for a change made on
// this replica (so that replicas do not count it twice): a first response, a reply, a
// close. prev is nil for a conversation not seen before.
func (e *Engine) observe(tn *tenant, prev, c *store.ConversationTimes) {
	if prev == nil {
		prev = &store.ConversationTimes{State: store.StateAssigned}
	}
	judge := func(metric string, seconds float64) {
		if o := tn.objectiveFor(c, metric); o != nil {
			outcome := "met"
			if seconds > o.Target {
				outcome = "missed"
			}
			e.metrics.observations.WithLabelValues(tn.name, tn.unitName(c.Unit), o.Name, outcome).Inc()
		}
	}
	if prev.FirstAgentAt == nil && c.FirstAgentAt != nil && c.AssignedAt != nil {
		judge(FirstResponseTime, max(c.FirstAgentAt.Sub(*c.AssignedAt).Seconds(), 0))
	}
	if prev.AwaitingSince != nil && c.LastAgentAt != nil && !c.LastAgentAt.Before(*prev.AwaitingSince) &&
		(c.AwaitingSince == nil || c.AwaitingSince.After(*prev.AwaitingSince)) {
		wait := max(c.LastAgentAt.Sub(*prev.AwaitingSince).Seconds(), 0)
		e.metrics.response.WithLabelValues(tn.name, tn.unitName(c.Unit)).Observe(wait)
		if prev.FirstAgentAt != nil {
			judge(ResponseTime, wait)
		}
	}
	if prev.Open() && !c.Open() && c.ClosedAt != nil && c.AssignedAt != nil {
		judge(HandlingDuration, max(c.ClosedAt.Sub(*c.AssignedAt).Seconds(), 0))
	}
}
