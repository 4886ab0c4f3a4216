package controllers

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
)

// The operator's own metrics, on the manager's /metrics beside controller-runtime's. They
// are read from the informers' cache at scrape time, from the status the reconcilers
// write, so a deleted Tenant or objective has no series from the next scrape on.
var (
	tenantsDesc = prometheus.NewDesc("switchboard_tenants",
		"Tenants by isolation and by the status of their Ready condition (Unknown before their first reconcile).",
		[]string{"isolation", "ready"}, nil)
	// The objectives' series have the names, labels and units of those `serve` exports from
	// its own measures, so that a query reads either the same way.
	objectiveValueDesc = prometheus.NewDesc("switchboard_objective_value",
		"An objective's current value over its window, as its status shows it: seconds for durations, percent for "+
			"satisfaction and conversionRate, contacts per agent-hour; business_unit is empty for a tenant-wide objective. "+
			"No series until measured.",
		[]string{"tenant", "business_unit", "objective", "metric"}, nil)
	objectiveAttainmentDesc = prometheus.NewDesc("switchboard_objective_attainment_ratio",
		"How much of an objective's target is met over its window, from 0 to 1, as its status shows it. No series until measured.",
		[]string{"tenant", "business_unit", "objective", "metric"}, nil)
	metricsReadErrorsDesc = prometheus.NewDesc("switchboard_operator_metrics_read_errors",
		"1 when the last scrape could not read Tenants or ProductivityObjectives from the operator's cache, else 0.", nil, nil)
)

// metricsReadTimeout bounds a scrape's wait for the cache (it blocks until first synced).
const metricsReadTimeout = 5 * time.Second

// statusMetrics reads the Tenants and ProductivityObjectives of the manager's cache.
type statusMetrics struct {
	mu     sync.RWMutex
	reader client.Reader
}

// operatorMetrics is registered once in controller-runtime's registry; each Setup points it
// at its manager's cache (tests run several managers in one process, one after the other).
var (
	operatorMetrics         = &statusMetrics{}
	registerOperatorMetrics sync.Once
)

func registerMetrics(reader client.Reader) error {
	operatorMetrics.mu.Lock()
	operatorMetrics.reader = reader
	operatorMetrics.mu.Unlock()
	var err error
	registerOperatorMetrics.Do(func() { err = metrics.Registry.Register(operatorMetrics) })
	return err
}

func (m *statusMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- tenantsDesc
	ch <- objectiveValueDesc
	ch <- objectiveAttainmentDesc
	ch <- metricsReadErrorsDesc
}

func (m *statusMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.RLock()
	reader := m.reader
	m.mu.RUnlock()
	ctx, cancel := context.WithTimeout(context.Background(), metricsReadTimeout)
	defer cancel()
	var tenants v1alpha1.TenantList
	var objectives v1alpha1.ProductivityObjectiveList
	err := reader.List(ctx, &tenants)
	if err == nil {
		err = reader.List(ctx, &objectives)
	}
	if err != nil {
		logf.Log.WithName("metrics").Error(err, "reading Tenants and ProductivityObjectives for /metrics")
		ch <- prometheus.MustNewConstMetric(metricsReadErrorsDesc, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(metricsReadErrorsDesc, prometheus.GaugeValue, 0)

	// Every combination is written, zero included, so that an alert on ready="False" has
	// a series to read.
	counts := map[[2]string]int{}
	for _, i := range []v1alpha1.Isolation{v1alpha1.IsolationPooled, v1alpha1.IsolationDedicated} {
		for _, s := range []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown} {
			counts[[2]string{string(i), string(s)}] = 0
		}
	}
	for _, t := range tenants.Items {
		isolation := t.Spec.Isolation
		if isolation == "" {
			isolation = v1alpha1.IsolationPooled
		}
		ready := metav1.ConditionUnknown
		if c := meta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady); c != nil {
			ready = c.Status
		}
		counts[[2]string{string(isolation), string(ready)}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(tenantsDesc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}

	for _, o := range objectives.Items {
		labels := []string{o.Namespace, o.Spec.Scope.BusinessUnit, o.Name, string(o.Spec.Metric)}
		if v, ok := statusValue(o.Spec.Metric, o.Status.CurrentValue); ok {
			ch <- prometheus.MustNewConstMetric(objectiveValueDesc, prometheus.GaugeValue, v, labels...)
		}
		if a, ok := statusPercent(o.Status.Attainment); ok {
			ch <- prometheus.MustNewConstMetric(objectiveAttainmentDesc, prometheus.GaugeValue, a/100, labels...)
		}
	}
}

// statusValue reads back what formatValue wrote, in base units.
func statusValue(m v1alpha1.Metric, s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	switch m {
	case v1alpha1.MetricFirstResponseTime, v1alpha1.MetricResponseTime, v1alpha1.MetricHandlingDuration, v1alpha1.MetricAverageHandlingTime:
		d, err := time.ParseDuration(s)
		return d.Seconds(), err == nil
	case v1alpha1.MetricSatisfaction, v1alpha1.MetricConversionRate:
		return statusPercent(s)
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// statusPercent reads "92%" or "75.0%" as 92 or 75.
func statusPercent(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if s == "" || !strings.HasSuffix(s, "%") || err != nil {
		return 0, false
	}
	return v, true
}
