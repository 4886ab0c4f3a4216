package controllers

import (
	ctrl "sigs.k8s.io/controller-runtime"
)

// Options are the operator's settings that reconcilers need.
type Options struct {
	// ServeImage is the container image that runs `switchboard serve` for Dedicated tenants.
	ServeImage string
	// PrometheusRuleLabels are put on the tenants' PrometheusRules, so that a Prometheus's
	// ruleSelector picks them up.
	PrometheusRuleLabels map[string]string
}

// Setup registers every reconciler with the manager, and the operator's metrics.
func Setup(mgr ctrl.Manager, db *Database, opts Options) error {
	if err := registerMetrics(mgr.GetClient()); err != nil {
		return err
	}
	for _, r := range []interface{ SetupWithManager(ctrl.Manager) error }{
		&TenantReconciler{Client: mgr.GetClient(), DB: db, ServeImage: opts.ServeImage, RuleLabels: opts.PrometheusRuleLabels},
		&BusinessUnitReconciler{Client: mgr.GetClient(), DB: db},
		&AgentCapacityReconciler{Client: mgr.GetClient(), DB: db},
		&ProductivityObjectiveReconciler{Client: mgr.GetClient(), DB: db},
	} {
		if err := r.SetupWithManager(mgr); err != nil {
			return err
		}
	}
	return nil
}
