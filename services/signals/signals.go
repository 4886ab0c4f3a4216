// Package signals raises and clears live signals: a conversation past a
// ProductivityObjective's warning or critical threshold for first response time, response
// time (the visitor waiting for a reply) or handling duration. Every replica evaluates
// every open conversation from memory ten times a second; the memory follows the
// conversations' events through the hub (which carries other replicas' events too) and is
// read again from PostgreSQL every few seconds. Signals are stored (one active signal per
// objective and conversation, which makes replicas agree), published on the tenant's signal
// topic, and counted in metrics.
package signals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/store"
)

// The metrics live signals follow.
const (
	FirstResponseTime = "firstResponseTime"
	ResponseTime      = "responseTime"
	HandlingDuration  = "handlingDuration"
)

var liveMetrics = []string{FirstResponseTime, ResponseTime, HandlingDuration}

// Timing of the engine. A threshold crossed is seen within EvaluateInterval; a change made
// on another replica that the hub did not carry is seen within ResyncInterval.
const (
	EvaluateInterval = 100 * time.Millisecond
	ResyncInterval   = 2 * time.Second
)

// Engine evaluates the live signals of every tenant on one replica.
type Engine struct {
	db      *store.DB
	hub     *live.Hub
	tell    func(live.Notice)
	metrics *Metrics

	// touched receives conversations whose events the hub carried.
	touched chan touch

	mu      sync.Mutex
	tenants map[uuid.UUID]*tenant
}

type touch struct {
	tenant, conversation uuid.UUID
	local                bool
}

// New returns an engine; tell carries notices to the other replicas (the chat service's
// bridge). The engine taps the hub at once; call Run to start it.
func New(db *store.DB, hub *live.Hub, tell func(live.Notice)) *Engine {
	e := &Engine{db: db, hub: hub, tell: tell, metrics: newMetrics(), touched: make(chan touch, 8192), tenants: map[uuid.UUID]*tenant{}}
	e.metrics.engine = e
	hub.Tap(e.tap)
	return e
}

// Metrics are the engine's Prometheus collectors.
func (e *Engine) Metrics() *Metrics { return e.metrics }

// tap hears every published item; it must not block.
func (e *Engine) tap(t live.Topic, it live.Item) {
	switch {
	case it.Event != nil && t.Kind == live.ActivityTopic:
		select {
		case e.touched <- touch{tenant: t.Tenant, conversation: it.Event.ConversationID, local: !it.Remote}:
		default:
			// The next resync reads every open conversation again.
		}
	case it.Assignment != nil:
		select {
		case e.touched <- touch{tenant: t.Tenant, conversation: it.Assignment.ID, local: !it.Remote}:
		default:
		}
	case it.Signal != nil:
		e.mu.Lock()
		if tn := e.tenants[t.Tenant]; tn != nil {
			tn.remember(it.Signal)
		}
		e.mu.Unlock()
	}
}

// tenant is one tenant's state in memory.
type tenant struct {
	id         uuid.UUID
	name       string
	units      map[uuid.UUID]string
	agents     map[uuid.UUID]store.SignalAgent
	objectives []objective
	convs      map[uuid.UUID]*store.ConversationTimes
	// active are the live and alert signals active now, by objective and subject.
	active map[key]*store.Signal
	// dirty are conversations to read again, true when one of their events was local.
	dirty map[uuid.UUID]bool
	// gone are conversations read closed (or no longer open) whose signals are to clear. A
	// conversation this replica has not read yet is neither open nor gone: its signals,
	// raised by another replica, are left alone.
	gone map[uuid.UUID]bool
}

type key struct{ objective, subject string }

func (tn *tenant) remember(s *store.Signal) {
	k := key{s.Objective, s.Subject}
	if s.ClearedAt != nil {
		if cur := tn.active[k]; cur != nil && cur.ID == s.ID {
			delete(tn.active, k)
		}
		return
	}
	tn.active[k] = s
}

type objective struct {
	store.SignalObjective
	selector labels.Selector // nil: every agent
}

// specificity orders objectives: an agent selector beats a unit, which beats the tenant.
func (o *objective) specificity() int {
	n := 0
	if o.selector != nil {
		n += 2
	}
	if o.Unit.Valid {
		n++
	}
	return n
}

// Run evaluates until ctx ends.
func (e *Engine) Run(ctx context.Context) {
	evaluate := time.NewTicker(EvaluateInterval)
	defer evaluate.Stop()
	e.resync(ctx)
	lastResync := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-e.touched:
			e.markDirty(t)
		case <-evaluate.C:
			e.drainTouched()
			e.reloadDirty(ctx)
			if time.Since(lastResync) >= ResyncInterval {
				e.resync(ctx)
				lastResync = time.Now()
			}
			e.evaluate(ctx, time.Now())
		}
	}
}

func (e *Engine) drainTouched() {
	for {
		select {
		case t := <-e.touched:
			e.markDirty(t)
		default:
			return
		}
	}
}

func (e *Engine) markDirty(t touch) {
	e.mu.Lock()
	defer e.mu.Unlock()
	tn := e.tenants[t.tenant]
	if tn == nil {
		// A tenant created since the last resync; the next resync loads it.
		return
	}
	tn.dirty[t.conversation] = tn.dirty[t.conversation] || t.local
}

// resync reads every tenant's state again.
func (e *Engine) resync(ctx context.Context) {
	ids, err := e.db.TenantIDs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			slog.Warn("signals: listing tenants", "err", err)
		}
		return
	}
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		seen[id] = true
		var st *store.SignalState
		err := e.db.InTenant(ctx, id, func(tx pgx.Tx) error {
			var err error
			st, err = store.LoadSignalState(ctx, tx, liveMetrics)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("signals: reading a tenant's state", "tenant", id, "err", err)
			}
			continue
		}
		e.apply(id, st)
	}
	e.mu.Lock()
	for id, tn := range e.tenants {
		if !seen[id] {
			delete(e.tenants, id)
			e.metrics.forget(tn.name)
		}
	}
	e.mu.Unlock()
}

func (e *Engine) apply(id uuid.UUID, st *store.SignalState) {
	objectives := make([]objective, 0, len(st.Objectives))
	for _, o := range st.Objectives {
		obj := objective{SignalObjective: o}
		if len(o.AgentSelector) > 0 && string(o.AgentSelector) != "null" {
			var ls metav1.LabelSelector
			sel, err := func() (labels.Selector, error) {
				if err := json.Unmarshal(o.AgentSelector, &ls); err != nil {
					return nil, err
				}
				return metav1.LabelSelectorAsSelector(&ls)
			}()
			if err != nil {
				slog.Warn("signals: an objective's agent selector does not parse; the objective is skipped", "objective", o.Name, "err", err)
				continue
			}
			obj.selector = sel
		}
		objectives = append(objectives, obj)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	tn := e.tenants[id]
	if tn == nil {
		tn = &tenant{id: id, dirty: map[uuid.UUID]bool{}, gone: map[uuid.UUID]bool{}}
		e.tenants[id] = tn
	}
	if tn.name != "" && tn.name != st.TenantName {
		e.metrics.forget(tn.name)
	}
	tn.name, tn.units, tn.agents, tn.objectives = st.TenantName, st.Units, st.Agents, objectives
	e.metrics.initTenant(tn)
	convs := make(map[uuid.UUID]*store.ConversationTimes, len(st.Conversations))
	for _, c := range st.Conversations {
		// A conversation with events waiting keeps its previous times, so that the reload
		// sees the change and counts what it observes.
		if prev, ok := tn.convs[c.ID]; ok && tn.dirty[c.ID] {
			convs[c.ID] = prev
			continue
		}
		convs[c.ID] = c
	}
	for cid := range tn.dirty {
		if prev, ok := tn.convs[cid]; ok {
			if _, kept := convs[cid]; !kept {
				convs[cid] = prev
			}
		}
	}
	tn.convs = convs
	tn.active = make(map[key]*store.Signal, len(st.Active))
	for _, s := range st.Active {
		tn.active[key{s.Objective, s.Subject}] = s
		if s.Conversation.Valid && convs[s.Conversation.UUID] == nil {
			tn.gone[s.Conversation.UUID] = true
		}
	}
}

// reloadDirty reads the conversations whose events the hub carried.
func (e *Engine) reloadDirty(ctx context.Context) {
	type batch struct {
		ids   []uuid.UUID
		local map[uuid.UUID]bool
	}
	batches := map[uuid.UUID]batch{}
	e.mu.Lock()
	for id, tn := range e.tenants {
		if len(tn.dirty) == 0 {
			continue
		}
		b := batch{local: tn.dirty}
		for cid := range tn.dirty {
			b.ids = append(b.ids, cid)
		}
		tn.dirty = map[uuid.UUID]bool{}
		batches[id] = b
	}
	e.mu.Unlock()
	for id, b := range batches {
		var times []*store.ConversationTimes
		err := e.db.InTenant(ctx, id, func(tx pgx.Tx) error {
			var err error
			times, err = store.ConversationsTimes(ctx, tx, b.ids)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("signals: reading conversations", "tenant", id, "err", err)
			}
			continue
		}
		e.mu.Lock()
		tn := e.tenants[id]
		if tn == nil {
			e.mu.Unlock()
			continue
		}
		for _, c := range times {
			prev := tn.convs[c.ID]
			if b.local[c.ID] {
				e.observe(tn, prev, c)
			}
			if c.Open() {
				tn.convs[c.ID] = c
				delete(tn.gone, c.ID)
			} else {
				delete(tn.convs, c.ID)
				tn.gone[c.ID] = true
			}
		}
		e.mu.Unlock()
	}
}

// change is a signal to raise or clear.
type change struct {
	raise *store.Signal // nil to clear
	key   key
}

// evaluate compares what every conversation misses now with the active signals and stores
// and publishes the difference.
func (e *Engine) evaluate(ctx context.Context, now time.Time) {
	changes := map[uuid.UUID][]change{}
	e.mu.Lock()
	for id, tn := range e.tenants {
		want := map[key]*store.Signal{}
		for _, c := range tn.convs {
			for _, metric := range liveMetrics {
				if s := tn.missed(c, metric, now); s != nil {
					want[key{s.Objective, s.Subject}] = s
				}
			}
		}
		var cs []change
		for k, s := range want {
			if cur := tn.active[k]; cur == nil || cur.Level != s.Level {
				cs = append(cs, change{raise: s, key: k})
			}
		}
		for k, cur := range tn.active {
			if cur.Source != store.SourceLive || want[k] != nil || !cur.Conversation.Valid {
				continue
			}
			if c := cur.Conversation.UUID; tn.convs[c] != nil || tn.gone[c] {
				cs = append(cs, change{key: k})
			}
		}
		// What was gone is cleared by these changes, or had nothing to clear.
		if len(tn.gone) > 0 {
			tn.gone = map[uuid.UUID]bool{}
		}
		if len(cs) > 0 {
			changes[id] = cs
		}
	}
	e.mu.Unlock()
	for id, cs := range changes {
		e.store(ctx, id, cs)
	}
}

// missed returns the signal a conversation deserves now for one metric, or nil.
func (tn *tenant) missed(c *store.ConversationTimes, metric string, now time.Time) *store.Signal {
	var since *time.Time
	switch metric {
	case FirstResponseTime:
		if c.FirstAgentAt == nil {
			since = c.AssignedAt
		}
	case ResponseTime:
		// Before the agent's first message, first response time is what counts.
		if c.FirstAgentAt != nil {
			since = c.AwaitingSince
		}
	case HandlingDuration:
		since = c.AssignedAt
	}
	if since == nil {
		return nil
	}
	o := tn.objectiveFor(c, metric)
	if o == nil {
		return nil
	}
	elapsed := now.Sub(*since).Seconds()
	level, threshold := Judge(metric, elapsed, o.Warning, o.Critical)
	if level == "" {
		return nil
	}
	return &store.Signal{
		Tenant: tn.id, Objective: o.Name, Metric: metric, Level: level, Source: store.SourceLive,
		Subject: store.ConversationSubject(c.ID), Conversation: uuid.NullUUID{UUID: c.ID, Valid: true},
		Agent: c.Agent, Unit: uuid.NullUUID{UUID: c.Unit, Valid: true},
		Value: elapsed, Threshold: threshold, Summary: Summary(metric, level, elapsed, threshold),
	}
}

// HigherIsBetter says an objective metric's direction: more is better for contacts per
// hour, satisfaction and conversion rate; less for the durations.
func HigherIsBetter(metric string) bool {
	switch v1alpha1.Metric(metric) {
	case v1alpha1.MetricContactsPerHour, v1alpha1.MetricSatisfaction, v1alpha1.MetricConversionRate:
		return true
	}
	return false
}

// Judge is how a value of metric fares against an objective's warning and critical
// thresholds: the level it is past (strictly: above them when less is better, below them
// when more is better) and that threshold, or "" when it is past neither. Live signals, the
// objectives' alerts and the board's colours judge alike.
func Judge(metric string, value, warning, critical float64) (level string, threshold float64) {
	past := func(t float64) bool { return value > t }
	if HigherIsBetter(metric) {
		past = func(t float64) bool { return value < t }
	}
	switch {
	case past(critical):
		return store.LevelCritical, critical
	case past(warning):
		return store.LevelWarning, warning
	}
	return "", 0
}

// objectiveFor picks the objective of a metric that applies to a conversation: the most
// specific one, then the first by name.
func (tn *tenant) objectiveFor(c *store.ConversationTimes, metric string) *objective {
	var best *objective
	for i := range tn.objectives {
		o := &tn.objectives[i]
		if o.Metric != metric {
			continue
		}
		if o.Unit.Valid && o.Unit.UUID != c.Unit {
			continue
		}
		if o.selector != nil {
			a, ok := tn.agents[c.Agent.UUID]
			if !c.Agent.Valid || !ok || !o.selector.Matches(labels.Set(a.Labels)) {
				continue
			}
		}
		if best == nil || o.specificity() > best.specificity() {
			best = o
		}
	}
	return best
}

// store writes one tenant's changes in one transaction, then publishes them.
func (e *Engine) store(ctx context.Context, id uuid.UUID, cs []change) {
	var sc store.SignalChanges
	for _, c := range cs {
		if c.raise == nil {
			sc.Clear = append(sc.Clear, [2]string{c.key.objective, c.key.subject})
		} else {
			sc.Raise = append(sc.Raise, c.raise)
		}
	}
	var cleared, raised, existing []*store.Signal
	err := e.db.InTenant(ctx, id, func(tx pgx.Tx) error {
		var err error
		cleared, raised, existing, err = store.ApplySignalChanges(ctx, tx, sc)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			// The tenant, or a conversation, was deleted meanwhile: read the tenant again.
			e.mu.Lock()
			delete(e.tenants, id)
			e.mu.Unlock()
			return
		}
		slog.Warn("signals: storing signals", "tenant", id, "err", err)
		return
	}
	e.mu.Lock()
	if tn := e.tenants[id]; tn != nil {
		for _, list := range [][]*store.Signal{cleared, raised, existing} {
			for _, s := range list {
				tn.remember(s)
			}
		}
		for _, s := range raised {
			e.metrics.raised(tn, s)
		}
	}
	e.mu.Unlock()
	e.publish(id, append(cleared, raised...))
}

// publish hands signals raised or cleared here to this replica's streams and tells the
// other replicas.
func (e *Engine) publish(tenant uuid.UUID, signals []*store.Signal) {
	for _, s := range signals {
		e.hub.Publish(live.Signals(tenant), live.Item{Signal: s})
		e.tell(live.Notice{Kind: live.NoticeSignal, Tenant: tenant, ID: s.ID})
	}
}

// Summary says what a signal means, for people.
func Summary(metric, level string, value, threshold float64) string {
	d := func(s float64) string {
		d := time.Duration(s * float64(time.Second))
		if d >= 10*time.Second {
			return d.Round(time.Second).String()
		}
		return d.Round(100 * time.Millisecond).String()
	}
	what := map[string]string{
		FirstResponseTime: "first response waiting",
		ResponseTime:      "visitor waiting for a reply",
		HandlingDuration:  "conversation open",
	}[metric]
	if what == "" {
		return fmt.Sprintf("%s %s: %g past %g", metric, level, value, threshold)
	}
	return fmt.Sprintf("%s %s (%s above %s)", what, d(value), level, d(threshold))
}
