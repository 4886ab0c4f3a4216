package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/services/store"
)

// PerAgent exports series with an agent label, for the tenants that opt in (Tenant
// spec.perAgentMetrics) and no others: each agent's status and open conversations, read at
// scrape time, and its messages, closed conversations and handling time, counted off the
// request's path like the Recorder's. A tenant that opts out or is deleted loses its agent
// series at the next scrape.
type PerAgent struct {
	db       *store.DB
	messages *prometheus.CounterVec
	closed   *prometheus.CounterVec
	handling *prometheus.CounterVec
	dropped  prometheus.Counter
	queue    chan agentObservation

	mu      sync.Mutex
	optedIn map[uuid.UUID]bool // by tenant id, refreshed every optInRefresh
	agents  map[uuid.UUID]agentName
	tenants *tenantSeries
}

type agentName struct{ tenant, agent string }

type agentObservation struct {
	tenant, conversation uuid.UUID
	message, closed      bool
	transferred          bool
}

// optInRefresh is how often the tenants' opt-ins are read again.
const optInRefresh = 15 * time.Second

var (
	agentLabels        = []string{"tenant", "agent"}
	agentOpenDesc      = prometheus.NewDesc(Namespace+"_agent_open_conversations", "Conversations the agent holds now (assigned or active); only for tenants with spec.perAgentMetrics.", agentLabels, nil)
	agentStatusDesc    = prometheus.NewDesc(Namespace+"_agent_status", "1 for the agent's status now (available, busy, away, offline), 0 for the others; only for tenants with spec.perAgentMetrics.", append(agentLabels, "status"), nil)
	agentStatuses      = []string{"available", "busy", "away", "offline"}
	agentScrapeErrDesc = prometheus.NewDesc(Namespace+"_agent_metrics_scrape_errors", "1 when the last read of the agents' figures failed, else 0.", nil, nil)
)

// NewPerAgent returns the per-agent metrics, registered with reg; Run counts.
func NewPerAgent(db *store.DB, reg prometheus.Registerer) *PerAgent {
	p := &PerAgent{
		db: db,
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "agent_messages_total",
			Help: "Messages the agent sent to visitors; only for tenants with spec.perAgentMetrics."}, agentLabels),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "agent_conversations_closed_total",
			Help: "Conversations of the agent that ended; only for tenants with spec.perAgentMetrics."}, agentLabels),
		handling: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "agent_handling_seconds_total",
			Help: "Sum of the handling times (assignment to close) of the agent's ended conversations; divide by agent_conversations_closed_total for the mean."}, agentLabels),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "agent_metrics_observations_dropped_total",
			Help: "Per-agent observations not counted because the queue was full."}),
		queue:   make(chan agentObservation, 4096),
		optedIn: map[uuid.UUID]bool{},
		agents:  map[uuid.UUID]agentName{},
	}
	p.tenants = newTenantSeries(p.messages, p.closed, p.handling)
	reg.MustRegister(p)
	return p
}

// Message counts an agent's message.
func (p *PerAgent) Message(tenant, conversation uuid.UUID, authorKind string) {
	if authorKind == store.AuthorAgent && p.wants(tenant) {
		p.enqueue(agentObservation{tenant: tenant, conversation: conversation, message: true})
	}
}

// Rating is not counted per agent.
func (p *PerAgent) Rating(uuid.UUID, uuid.UUID, store.Rating) {}

// Closed counts an ended conversation and its handling time.
func (p *PerAgent) Closed(tenant, conversation uuid.UUID) {
	if p.wants(tenant) {
		p.enqueue(agentObservation{tenant: tenant, conversation: conversation, closed: true})
	}
}

// Transferred forgets a conversation's agent, which may have changed.
func (p *PerAgent) Transferred(tenant, conversation uuid.UUID) {
	if !p.wants(tenant) {
		return
	}
	p.enqueue(agentObservation{tenant: tenant, conversation: conversation, transferred: true})
}

func (p *PerAgent) wants(tenant uuid.UUID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.optedIn[tenant]
}

func (p *PerAgent) enqueue(o agentObservation) {
	select {
	case p.queue <- o:
	default:
		p.dropped.Inc()
	}
}

// Run counts queued observations until ctx ends, and keeps the opt-ins current.
func (p *PerAgent) Run(ctx context.Context) {
	p.refresh(ctx)
	tick := time.NewTicker(optInRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.refresh(ctx)
		case o := <-p.queue:
			if err := p.count(ctx, o); err != nil && ctx.Err() == nil {
				slog.Warn("metrics: counting per agent", "conversation", o.conversation, "err", err)
			}
		}
	}
}

// refresh reads which tenants opted in.
func (p *PerAgent) refresh(ctx context.Context) {
	ids, err := p.db.PerAgentTenantIDs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			slog.Warn("metrics: reading the per-agent metrics opt-ins", "err", err)
		}
		return
	}
	p.mu.Lock()
	p.optedIn = ids
	p.mu.Unlock()
}

func (p *PerAgent) count(ctx context.Context, o agentObservation) error {
	if o.transferred {
		p.mu.Lock()
		delete(p.agents, o.conversation)
		p.mu.Unlock()
		return nil
	}
	p.mu.Lock()
	n, ok := p.agents[o.conversation]
	p.mu.Unlock()
	if ok && o.message {
		p.messages.WithLabelValues(n.tenant, n.agent).Inc()
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var handling *float64
	var agent *string
	err := p.db.InTenant(ctx, o.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT t.name, a.name, extract(epoch FROM c.closed_at - c.assigned_at)::float8
			FROM conversations c JOIN tenants t ON t.tenant_id = c.tenant_id
			LEFT JOIN agents a ON a.tenant_id = c.tenant_id AND a.agent_id = c.agent_id
			WHERE c.tenant_id = sb_current_tenant() AND c.conversation_id = $1`, o.conversation).Scan(&n.tenant, &agent, &handling)
	})
	if err != nil || agent == nil {
		return err
	}
	n.agent = *agent
	p.tenants.saw(n.tenant)
	if o.message {
		p.mu.Lock()
		if len(p.agents) >= maxNames {
			p.agents = map[uuid.UUID]agentName{}
		}
		p.agents[o.conversation] = n
		p.mu.Unlock()
		p.messages.WithLabelValues(n.tenant, n.agent).Inc()
		return nil
	}
	p.mu.Lock()
	delete(p.agents, o.conversation)
	p.mu.Unlock()
	p.closed.WithLabelValues(n.tenant, n.agent).Inc()
	if handling != nil {
		p.handling.WithLabelValues(n.tenant, n.agent).Add(max(*handling, 0))
	}
	return nil
}

// Describe describes the per-agent metrics.
func (p *PerAgent) Describe(ch chan<- *prometheus.Desc) {
	ch <- agentOpenDesc
	ch <- agentStatusDesc
	ch <- agentScrapeErrDesc
	p.messages.Describe(ch)
	p.closed.Describe(ch)
	p.handling.Describe(ch)
	p.dropped.Describe(ch)
}

// Collect reads the opted-in tenants' agents, drops the counters of tenants no longer
// opted in, and collects.
func (p *PerAgent) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	stats, tenants, err := p.db.AllAgentStats(ctx)
	failed := 0.0
	if err != nil {
		slog.Warn("metrics: reading the agents' figures", "err", err)
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(agentScrapeErrDesc, prometheus.GaugeValue, failed)
	if err == nil {
		p.tenants.keepOnly(tenants)
	}
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(agentOpenDesc, prometheus.GaugeValue, float64(s.Open), s.Tenant, s.Agent)
		for _, status := range agentStatuses {
			v := 0.0
			if status == s.Status {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(agentStatusDesc, prometheus.GaugeValue, v, s.Tenant, s.Agent, status)
		}
	}
	p.messages.Collect(ch)
	p.closed.Collect(ch)
	p.handling.Collect(ch)
	p.dropped.Collect(ch)
}

// Observers hands what the chat service stored to each of several observers in turn.
type Observers []interface {
	Message(tenant, conversation uuid.UUID, authorKind string)
	Rating(tenant, conversation uuid.UUID, r store.Rating)
	Closed(tenant, conversation uuid.UUID)
	Transferred(tenant, conversation uuid.UUID)
}

// Message hands a stored message to each observer.
func (o Observers) Message(tenant, conversation uuid.UUID, authorKind string) {
	for _, x := range o {
		x.Message(tenant, conversation, authorKind)
	}
}

// Rating hands a rating to each observer.
func (o Observers) Rating(tenant, conversation uuid.UUID, r store.Rating) {
	for _, x := range o {
		x.Rating(tenant, conversation, r)
	}
}

// Closed hands an ended conversation to each observer.
func (o Observers) Closed(tenant, conversation uuid.UUID) {
	for _, x := range o {
		x.Closed(tenant, conversation)
	}
}

// Transferred hands a transfer to each observer.
func (o Observers) Transferred(tenant, conversation uuid.UUID) {
	for _, x := range o {
		x.Transferred(tenant, conversation)
	}
}
