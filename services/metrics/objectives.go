package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/switchboard-chat/switchboard/services/store"
)

// ObjectivesInterval is how often objectives are measured again: their windows are
// minutes to days long, so progress moves slowly, and a measure reads conversations.
const ObjectivesInterval = 30 * time.Second

var (
	objectiveLabels        = []string{"tenant", "business_unit", "objective", "metric"}
	objectiveAttainmentDsc = prometheus.NewDesc(Namespace+"_objective_attainment_ratio",
		"Share of the productivity objective's target met over its window, 0–1; business_unit is empty for a tenant-wide objective. Absent while the window holds nothing to measure.", objectiveLabels, nil)
	objectiveValueDesc = prometheus.NewDesc(Namespace+"_objective_value",
		"The productivity objective's measured value over its window, in base units (seconds for durations, percent for satisfaction, contacts per agent-hour).", objectiveLabels, nil)
)

// objectiveProgress is one objective's last measure.
type objectiveProgress struct {
	tenantID                        uuid.UUID
	tenant, unit, objective, metric string
	value, attainment               float64
}

// Objectives exports each productivity objective's progress, measured in the background
// every ObjectivesInterval (a scrape reads the last measures, never the database). A
// deleted tenant's or objective's series are gone after the next measure.
type Objectives struct {
	db *store.DB
	mu sync.RWMutex
	// progress is the last complete measure of every tenant.
	progress []objectiveProgress
}

// NewObjectives returns the collector; run it with Run.
func NewObjectives(db *store.DB) *Objectives { return &Objectives{db: db} }

// Run measures every objective now and then every ObjectivesInterval until ctx ends.
func (o *Objectives) Run(ctx context.Context) {
	t := time.NewTicker(ObjectivesInterval)
	defer t.Stop()
	for {
		if err := o.Measure(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("metrics: measuring objectives", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Measure measures every tenant's objectives and replaces the exported measures. A tenant
// that fails keeps its previous measures.
func (o *Objectives) Measure(ctx context.Context) error {
	tenants, err := o.db.TenantIDs(ctx)
	if err != nil {
		return fmt.Errorf("listing tenants: %w", err)
	}
	o.mu.RLock()
	previous := map[uuid.UUID][]objectiveProgress{}
	for _, p := range o.progress {
		previous[p.tenantID] = append(previous[p.tenantID], p)
	}
	o.mu.RUnlock()
	var all []objectiveProgress
	var failed error
	for _, tenant := range tenants {
		var name string
		var measured []objectiveProgress
		err := o.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
			var err error
			if name, err = store.TenantName(ctx, tx); err != nil {
				return err
			}
			measured, err = measureTenant(ctx, tx, tenant, name)
			return err
		})
		if err != nil {
			failed = fmt.Errorf("tenant %s: %w", tenant, err)
			all = append(all, previous[tenant]...)
			continue
		}
		all = append(all, measured...)
	}
	o.mu.Lock()
	o.progress = all
	o.mu.Unlock()
	return failed
}

func measureTenant(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, name string) ([]objectiveProgress, error) {
	objectives, err := store.ListObjectives(ctx, tx)
	if err != nil || len(objectives) == 0 {
		return nil, err
	}
	var agentLabels map[string]map[string]string
	var out []objectiveProgress
	for _, obj := range objectives {
		var agents []string
		if len(obj.AgentSelector) > 0 && string(obj.AgentSelector) != "null" {
			if agentLabels == nil {
				if agentLabels, err = store.AgentLabels(ctx, tx); err != nil {
					return nil, err
				}
			}
			if agents, err = selectAgents(obj.AgentSelector, agentLabels); err != nil {
				slog.Warn("metrics: an objective's agent selector", "tenant", name, "objective", obj.Name, "err", err)
				continue
			}
		}
		p, err := store.MeasureObjective(ctx, tx, tenant, obj, agents)
		if err != nil {
			return nil, err
		}
		if p.Measured {
			out = append(out, objectiveProgress{tenantID: tenant, tenant: name, unit: obj.Unit, objective: obj.Name, metric: obj.Metric,
				value: p.Value, attainment: p.Attainment / 100})
		}
	}
	return out, nil
}

// selectAgents lists the agents an objective's label selector (metav1.LabelSelector as
// JSON) matches.
func selectAgents(raw json.RawMessage, agentLabels map[string]map[string]string) ([]string, error) {
	var sel metav1.LabelSelector
	if err := json.Unmarshal(raw, &sel); err != nil {
		return nil, err
	}
	selector, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		return nil, err
	}
	agents := []string{}
	for name, l := range agentLabels {
		if selector.Matches(labels.Set(l)) {
			agents = append(agents, name)
		}
	}
	return agents, nil
}

// Describe sends the objectives' descriptions.
func (o *Objectives) Describe(ch chan<- *prometheus.Desc) {
	ch <- objectiveAttainmentDsc
	ch <- objectiveValueDesc
}

// Collect sends the last measures.
func (o *Objectives) Collect(ch chan<- prometheus.Metric) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, p := range o.progress {
		ch <- prometheus.MustNewConstMetric(objectiveAttainmentDsc, prometheus.GaugeValue, p.attainment, p.tenant, p.unit, p.objective, p.metric)
		ch <- prometheus.MustNewConstMetric(objectiveValueDesc, prometheus.GaugeValue, p.value, p.tenant, p.unit, p.objective, p.metric)
	}
}
