package controllers

import (
	ctrl "sigs.k8s.io/controller-runtime"
)

// Setup registers every reconciler with the manager.
func Setup(mgr ctrl.Manager, db Database) error {
	for _, r := range []interface{ SetupWithManager(ctrl.Manager) error }{
		&TenantReconciler{Client: mgr.GetClient(), DB: db},
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
