package controllers

import (
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Options are the operator's settings that reconcilers need.
type Options struct {
	// ServeImage is the container image that runs `switchboard serve` for Dedicated tenants.
	ServeImage string
	// PrometheusRuleLabels are put on the tenants' PrometheusRules, so that a Prometheus's
	// ruleSelector picks them up.
	PrometheusRuleLabels map[string]string
}

// Setup registers every reconciler with the manager, the operator's metrics, the watch
// on PostgreSQL, and the probes: /healthz answers while the process runs (a restart would
// not bring the API server or PostgreSQL back, and would lose the cache and the leader
// lease); /readyz fails while PostgreSQL does not answer, naming the error.
func Setup(mgr ctrl.Manager, db *Database, opts Options) error {
	if err := registerMetrics(mgr.GetClient()); err != nil {
		return err
	}
	if err := mgr.Add(manager.RunnableFunc(db.watch)); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("database", db.Check); err != nil {
		return err
	}
	for _, r := range []interface{ SetupWithManager(ctrl.Manager) error }{
		&TenantReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), DB: db, ServeImage: opts.ServeImage, RuleLabels: opts.PrometheusRuleLabels},
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
