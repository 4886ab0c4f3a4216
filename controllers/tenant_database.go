package controllers

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/store"
)

// provision writes the tenant's row (a Pooled tenant shares the tables) and its mail
// relay, and records its widget key in status.
func (r *TenantReconciler) provision(ctx context.Context, pool *pgxpool.Pool, t *v1alpha1.Tenant, smtpPassword string) error {
	return inTx(ctx, pool, func(tx pgx.Tx) error {
		id, key, err := provision.ApplyTenant(ctx, tx, t, smtpPassword)
		if err != nil {
			return err
		}
		if err := r.adminAccount(ctx, tx, t, id); err != nil {
			return err
		}
		t.Status.WidgetKey = key
		if t.Spec.ConsoleHost != "" {
			t.Status.ConsoleURL = "https://" + t.Spec.ConsoleHost
		}
		return nil
	})
}

// expireBatch bounds the conversations one reconcile deletes for retention; the rest go
// on the next passes.
const expireBatch = 1000

// observe applies the retention and reads the tenant's live figures into status.
func (r *TenantReconciler) observe(ctx context.Context, pool *pgxpool.Pool, t *v1alpha1.Tenant) error {
	return inTx(ctx, pool, func(tx pgx.Tx) error {
		id, err := store.TenantID(ctx, tx, t.Name)
		if err != nil {
			return err
		}
		if ret := t.Spec.Retention; ret != nil {
			n, err := store.ExpireConversations(ctx, tx, id, ret.Duration, expireBatch)
			if err != nil {
				return err
			}
			if n > 0 {
				logf.FromContext(ctx).Info("deleted conversations past the retention", "tenant", t.Name, "conversations", n, "retention", ret.Duration)
			}
		}
		c, err := store.CountTenant(ctx, tx, id)
		t.Status.AgentsOnline, t.Status.OpenConversations = int32(c.AgentsOnline), int32(c.OpenConversations)
		return err
	})
}

// finalize removes the tenant's data when deletionPolicy is Delete, keeps it when Retain,
// and then lets the Tenant go.
func (r *TenantReconciler) finalize(ctx context.Context, t *v1alpha1.Tenant) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(t, v1alpha1.FinalizerTenantData) {
		return ctrl.Result{}, nil
	}
	log := logf.FromContext(ctx)
	if t.Spec.DeletionPolicy == v1alpha1.DeletionPolicyDelete {
		var err error
		if t.Spec.Isolation == v1alpha1.IsolationDedicated {
			err = r.dropDedicated(ctx, t)
		} else {
			err = r.DB.tx(ctx, func(tx pgx.Tx) error { return store.DeleteTenant(ctx, tx, t.Name) })
		}
		if err != nil {
			// A deadlock with the services' writes, or PostgreSQL down, is retried by the
			// next attempt; the Tenant's Ready says why it is still there.
			return ctrl.Result{}, reportFailure(ctx, r.Client, t, fmt.Errorf("deleting the data of tenant %q: %w", t.Name, err))
		}
		log.Info("deleted the tenant's data", "tenant", t.Name)
	} else {
		log.Info("kept the tenant's data (deletionPolicy Retain)", "tenant", t.Name)
	}
	r.DB.forget(t.Name)
	controllerutil.RemoveFinalizer(t, v1alpha1.FinalizerTenantData)
	if err := r.Update(ctx, t); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing finalizer of tenant %q: %w", t.Name, err)
	}
	return ctrl.Result{}, nil
}
