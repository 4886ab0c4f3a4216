package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/rules"
)

// PrometheusRuleName is the name of the PrometheusRule holding a tenant's objectives' rules,
// in the tenant's namespace.
const PrometheusRuleName = "switchboard-objectives"

var prometheusRuleKind = schema.GroupKind{Group: monitoringv1.SchemeGroupVersion.Group, Kind: monitoringv1.PrometheusRuleKind}

// monitoringRecheckInterval is how long "PrometheusRule is not served" is believed before
// discovery is asked again: each question lists every API group, and every tenant's
// periodic reconcile asks.
const monitoringRecheckInterval = statusRefreshInterval

// monitoringProbe remembers for a while that the cluster has no PrometheusRule CRD.
type monitoringProbe struct {
	mu        sync.Mutex
	missingAt time.Time
}

// served tells whether PrometheusRules are served, asking the REST mapper at most once a
// monitoringRecheckInterval while they are not.
func (p *monitoringProbe) served(mapper meta.RESTMapper) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.missingAt.IsZero() && time.Since(p.missingAt) < monitoringRecheckInterval {
		return false, nil
	}
	ok, err := prometheusRulesServed(mapper)
	if err == nil && !ok {
		p.missingAt = time.Now()
	} else {
		p.missingAt = time.Time{}
	}
	return ok, err
}

// missing records that PrometheusRules are not served (the CRD went away under a write).
func (p *monitoringProbe) missing() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.missingAt = time.Now()
}

// prometheusRulesServed tells whether the cluster serves monitoring.coreos.com/v1
// PrometheusRules. The manager's REST mapper asks discovery again for a group it does not
// know, so CRDs installed after the operator started are found.
func prometheusRulesServed(mapper meta.RESTMapper) (bool, error) {
	_, err := mapper.RESTMapping(prometheusRuleKind, monitoringv1.SchemeGroupVersion.Version)
	switch {
	case meta.IsNoMatchError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("looking up PrometheusRule in the API server's discovery: %w", err)
	}
	return true, nil
}

// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=prometheusrules,verbs=get;list;watch;create;update;patch

// monitoring writes the tenant's PrometheusRule from its ProductivityObjectives (see
// services/rules), owned by the Tenant, and sets the MonitoringReady condition. Without
// prometheus-operator's CRDs it only says so in the condition.
func (r *TenantReconciler) monitoring(ctx context.Context, t *v1alpha1.Tenant) error {
	served, err := r.monitoringProbe.served(r.RESTMapper())
	if err != nil {
		return err
	}
	notInstalled := metav1.Condition{Type: v1alpha1.ConditionMonitoringReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonMonitoringNotInstalled,
		Message: "monitoring.coreos.com/v1 PrometheusRule is not served (prometheus-operator's CRDs are not installed): the objectives' rules are not written"}
	if !served {
		setCondition(&t.Status.Conditions, t.Generation, notInstalled)
		return nil
	}
	var list v1alpha1.ProductivityObjectiveList
	if err := r.List(ctx, &list, client.InNamespace(t.Name)); err != nil {
		return fmt.Errorf("listing the objectives of tenant %q: %w", t.Name, err)
	}
	objectives := list.Items[:0]
	for _, o := range list.Items {
		if o.DeletionTimestamp.IsZero() {
			objectives = append(objectives, o)
		}
	}
	set := rules.Generate(t.Name, objectives)
	pr := &monitoringv1.PrometheusRule{ObjectMeta: metav1.ObjectMeta{Name: PrometheusRuleName, Namespace: t.Name}}
	_, err = controllerutil.CreateOrUpdate(ctx, r.Client, pr, func() error {
		if pr.Labels == nil {
			pr.Labels = map[string]string{}
		}
		for k, v := range r.RuleLabels {
			pr.Labels[k] = v
		}
		pr.Labels[LabelTenant] = t.Name
		pr.Spec = set.Spec()
		return controllerutil.SetControllerReference(t, pr, r.Scheme())
	})
	if meta.IsNoMatchError(err) {
		// Removed since the REST mapper last looked.
		r.monitoringProbe.missing()
		setCondition(&t.Status.Conditions, t.Generation, notInstalled)
		return nil
	}
	if err != nil {
		setCondition(&t.Status.Conditions, t.Generation, metav1.Condition{Type: v1alpha1.ConditionMonitoringReady, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonProgressing, Message: "writing PrometheusRule " + PrometheusRuleName + ": " + err.Error()})
		return fmt.Errorf("writing PrometheusRule of tenant %q: %w", t.Name, err)
	}
	msg := fmt.Sprintf("PrometheusRule %s/%s holds the rules of %d objectives", t.Name, PrometheusRuleName, len(objectives)-len(set.Skipped))
	if len(set.Skipped) > 0 {
		var skipped []string
		for _, s := range set.Skipped {
			skipped = append(skipped, s.Objective+": "+s.Reason)
		}
		msg += "; left out: " + strings.Join(skipped, "; ")
	}
	setCondition(&t.Status.Conditions, t.Generation, metav1.Condition{Type: v1alpha1.ConditionMonitoringReady, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonReconciled, Message: msg})
	return nil
}

// tenantOfObjective maps an objective to the Tenant named after its namespace.
func tenantOfObjective(_ context.Context, o client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: o.GetNamespace()}}}
}
