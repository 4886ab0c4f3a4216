package metrics

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/services/store"
)

// Recorder counts what the chat service stores: messages by author kind, and ratings by
// value and criterion, labelled with the tenant's and business unit's names. Names are
// resolved off the request's path by one goroutine (a conversation's unit is read once and
// kept), so a message is never slowed by its metrics.
type Recorder struct {
	db       *store.DB
	messages *prometheus.CounterVec
	ratings  *prometheus.CounterVec
	criteria *prometheus.CounterVec
	// firstResponse and handling are observed at the agent's first message and at close.
	firstResponse *prometheus.HistogramVec
	handling      *prometheus.HistogramVec
	dropped       prometheus.Counter
	queue         chan observation

	mu      sync.Mutex
	names   map[uuid.UUID]unitName // by conversation
	tenants *tenantSeries
	// initialized are the units whose series were started at zero.
	initialized map[unitName]bool
	// responded holds the conversations whose first response was observed (Run's only).
	responded map[uuid.UUID]bool
}

type unitName struct{ tenant, unit string }

type observation struct {
	tenant, conversation uuid.UUID
	authorKind           string
	rating               *store.Rating
	closed               bool
	// transferred makes the conversation's unit be read again.
	transferred bool
}

// maxNames bounds the conversations whose names are kept; the map starts afresh past it.
const maxNames = 100_000

// NewRecorder returns a recorder registered with reg; Run resolves and counts.
func NewRecorder(db *store.DB, reg prometheus.Registerer) *Recorder {
	r := &Recorder{
		db: db,
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "messages_total",
			Help: "Messages stored, by the kind of their author: visitor, agent, supervisor (whispers)."}, append(unitLabels, "author_kind")),
		ratings: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "ratings_total",
			Help: "Visitors' ratings by overall value: thumb up or down, and CSAT 1–5 as csat_1…csat_5."}, append(unitLabels, "value")),
		criteria: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "rating_criterion_scores_total",
			Help: "Visitors' scores (1–5) of a rating criterion: welcome, response_time, quality."}, append(unitLabels, "criterion", "score")),
		firstResponse: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "first_response_seconds",
			Help:    "Time from a conversation's assignment to its agent's first message.",
			Buckets: []float64{5, 10, 15, 30, 45, 60, 90, 120, 180, 300, 600}}, unitLabels),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "handling_duration_seconds",
			Help:    "Time from a conversation's assignment to its close.",
			Buckets: []float64{60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 7200}}, unitLabels),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "metrics_observations_dropped_total",
			Help: "Observations not counted because the metrics queue was full."}),
		queue:       make(chan observation, 4096),
		names:       map[uuid.UUID]unitName{},
		initialized: map[unitName]bool{},
		responded:   map[uuid.UUID]bool{},
	}
	r.tenants = newTenantSeries(r.messages, r.ratings, r.criteria, r.firstResponse, r.handling)
	reg.MustRegister(r)
	return r
}

// Message counts a stored message.
func (r *Recorder) Message(tenant, conversation uuid.UUID, authorKind string) {
	r.enqueue(observation{tenant: tenant, conversation: conversation, authorKind: authorKind})
}

// Transferred forgets a conversation's unit, which may have changed.
func (r *Recorder) Transferred(tenant, conversation uuid.UUID) {
	r.enqueue(observation{tenant: tenant, conversation: conversation, transferred: true})
}

// Closed observes a conversation's handling time.
func (r *Recorder) Closed(tenant, conversation uuid.UUID) {
	r.enqueue(observation{tenant: tenant, conversation: conversation, closed: true})
}

// Rating counts a visitor's rating.
func (r *Recorder) Rating(tenant, conversation uuid.UUID, rating store.Rating) {
	r.enqueue(observation{tenant: tenant, conversation: conversation, rating: &rating})
}

func (r *Recorder) enqueue(o observation) {
	select {
	case r.queue <- o:
	default:
		r.dropped.Inc()
	}
}

// Run counts queued observations until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case o := <-r.queue:
			if o.transferred {
				r.mu.Lock()
				delete(r.names, o.conversation)
				r.mu.Unlock()
				continue
			}
			n, err := r.name(ctx, o.tenant, o.conversation)
			if err != nil {
				if ctx.Err() == nil {
					slog.Warn("metrics: naming a conversation's unit", "conversation", o.conversation, "err", err)
				}
				continue
			}
			r.count(n, o)
			if err := r.time(ctx, n, o); err != nil && ctx.Err() == nil {
				slog.Warn("metrics: timing a conversation", "conversation", o.conversation, "err", err)
			}
		}
	}
}

// time observes the first response at an agent's first message, and the handling time at
// close, from the conversation's stored times.
func (r *Recorder) time(ctx context.Context, n unitName, o observation) error {
	first := o.authorKind == store.AuthorAgent && !r.responded[o.conversation]
	if !first && !o.closed {
		return nil
	}
	var response, handling *float64
	err := r.db.InTenant(ctx, o.tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT extract(epoch FROM first_agent_message_at - assigned_at)::float8,
			extract(epoch FROM closed_at - assigned_at)::float8
			FROM conversations WHERE tenant_id = sb_current_tenant() AND conversation_id = $1`, o.conversation).Scan(&response, &handling)
	})
	if err != nil {
		return err
	}
	if first && response != nil {
		if len(r.responded) >= maxNames {
			r.responded = map[uuid.UUID]bool{}
		}
		r.responded[o.conversation] = true
		r.firstResponse.WithLabelValues(n.tenant, n.unit).Observe(max(*response, 0))
	}
	if o.closed && handling != nil {
		r.handling.WithLabelValues(n.tenant, n.unit).Observe(max(*handling, 0))
		delete(r.responded, o.conversation)
	}
	return nil
}

func (r *Recorder) count(n unitName, o observation) {
	if o.closed {
		return
	}
	if o.rating == nil {
		r.messages.WithLabelValues(n.tenant, n.unit, o.authorKind).Inc()
		return
	}
	rt := o.rating
	if rt.Thumb != "" {
		r.ratings.WithLabelValues(n.tenant, n.unit, "thumb_"+rt.Thumb).Inc()
	}
	if rt.CSAT > 0 {
		r.ratings.WithLabelValues(n.tenant, n.unit, "csat_"+strconv.Itoa(int(rt.CSAT))).Inc()
	}
	for criterion, score := range map[string]int32{"welcome": rt.Welcome, "response_time": rt.ResponseTime, "quality": rt.Quality} {
		if score > 0 {
			r.criteria.WithLabelValues(n.tenant, n.unit, criterion, strconv.Itoa(int(score))).Inc()
		}
	}
}

func (r *Recorder) name(ctx context.Context, tenant, conversation uuid.UUID) (unitName, error) {
	r.mu.Lock()
	n, ok := r.names[conversation]
	r.mu.Unlock()
	if ok {
		return n, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := r.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT t.name, u.name FROM conversations c
			JOIN business_units u ON u.tenant_id = c.tenant_id AND u.unit_id = c.unit_id
			JOIN tenants t ON t.tenant_id = c.tenant_id
			WHERE c.tenant_id = sb_current_tenant() AND c.conversation_id = $1`, conversation).Scan(&n.tenant, &n.unit)
	})
	if err != nil {
		return n, err
	}
	r.mu.Lock()
	if len(r.names) >= maxNames {
		r.names = map[uuid.UUID]unitName{}
	}
	r.names[conversation] = n
	r.mu.Unlock()
	r.tenants.saw(n.tenant)
	return n, nil
}

// initUnit starts a unit's counters and histograms at zero, so that the first message or
// rating after a scrape shows as an increase (rate() ignores a series' first sample).
func (r *Recorder) initUnit(tenant, unit string) {
	n := unitName{tenant: tenant, unit: unit}
	r.mu.Lock()
	done := r.initialized[n]
	r.initialized[n] = true
	r.mu.Unlock()
	r.tenants.saw(tenant)
	if done {
		return
	}
	for _, kind := range []string{store.AuthorVisitor, store.AuthorAgent, store.AuthorSupervisor} {
		r.messages.WithLabelValues(tenant, unit, kind)
	}
	for _, v := range []string{"thumb_up", "thumb_down", "csat_1", "csat_2", "csat_3", "csat_4", "csat_5"} {
		r.ratings.WithLabelValues(tenant, unit, v)
	}
	for _, criterion := range []string{"welcome", "response_time", "quality"} {
		for score := 1; score <= 5; score++ {
			r.criteria.WithLabelValues(tenant, unit, criterion, strconv.Itoa(score))
		}
	}
	r.firstResponse.WithLabelValues(tenant, unit)
	r.handling.WithLabelValues(tenant, unit)
}

// Describe describes the recorder's metrics.
func (r *Recorder) Describe(ch chan<- *prometheus.Desc) {
	r.messages.Describe(ch)
	r.ratings.Describe(ch)
	r.criteria.Describe(ch)
	r.firstResponse.Describe(ch)
	r.handling.Describe(ch)
	r.dropped.Describe(ch)
}

// Collect drops the series of tenants that no longer exist, then collects.
func (r *Recorder) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if existing, err := r.db.TenantNames(ctx); err == nil {
		gone := r.tenants.keepOnly(existing)
		r.mu.Lock()
		for n := range r.initialized {
			if slices.Contains(gone, n.tenant) {
				delete(r.initialized, n)
			}
		}
		r.mu.Unlock()
	}
	r.messages.Collect(ch)
	r.ratings.Collect(ch)
	r.criteria.Collect(ch)
	r.firstResponse.Collect(ch)
	r.handling.Collect(ch)
	r.dropped.Collect(ch)
}
