// Package controllers holds the operator's reconcilers, one per kind. They turn Switchboard's
// custom resources into rows in PostgreSQL (through services/store, the code `switchboard
// dev` uses too) and Kubernetes objects, and report what they observed in status.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Requeue intervals.
const (
	// statusRefreshInterval is how often a resource's live figures (agents online, load,
	// open conversations) are read again; status is written only when they changed.
	statusRefreshInterval = 30 * time.Second
	// dependencyRetryInterval is how soon a resource waiting for another (its Tenant, a
	// business unit) is looked at again, besides the watches that wake it earlier.
	dependencyRetryInterval = 15 * time.Second
	// drainInterval is how often a deleted agent is checked for remaining conversations.
	drainInterval = 10 * time.Second
)

// Database is the operator's PostgreSQL, as the schema owner.
type Database struct {
	Pool *pgxpool.Pool
}

// tx runs fn in one transaction.
func (d Database) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, d.Pool, fn)
}

// errTenantNotReady means the tenant of a namespace has no rows yet.
var errTenantNotReady = errors.New("the tenant is not provisioned yet")

// tenantOf finds the Tenant that owns a namespace (the namespace is named after it) and its
// id in PostgreSQL. A missing Tenant gives a condition, not an error.
func tenantOf(ctx context.Context, c client.Client, db Database, namespace string) (*v1alpha1.Tenant, uuid.UUID, *metav1.Condition, error) {
	var t v1alpha1.Tenant
	if err := c.Get(ctx, types.NamespacedName{Name: namespace}, &t); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return nil, uuid.Nil, nil, fmt.Errorf("reading Tenant %q: %w", namespace, err)
		}
		return nil, uuid.Nil, &metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonTenantNotFound,
			Message: fmt.Sprintf("no Tenant named %q owns namespace %q; create it, or move this resource to its tenant's namespace", namespace, namespace)}, nil
	}
	var id uuid.UUID
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = store.TenantID(ctx, tx, t.Name)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &t, uuid.Nil, &metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonTenantNotReady,
			Message: fmt.Sprintf("Tenant %q is not provisioned in the database yet", t.Name)}, nil
	case err != nil:
		return &t, uuid.Nil, nil, fmt.Errorf("finding tenant %q in the database: %w", t.Name, err)
	}
	return &t, id, nil, nil
}

// setCondition sets a condition with the object's generation and reports whether it changed.
func setCondition(conds *[]metav1.Condition, generation int64, c metav1.Condition) bool {
	c.ObservedGeneration = generation
	return meta.SetStatusCondition(conds, c)
}

// ready is the Ready condition saying the declared state is in effect.
func ready(message string) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonReconciled, Message: message}
}

// databaseDown is the Ready condition for a failed database step.
func databaseDown(err error) metav1.Condition {
	return metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonDatabaseUnavailable,
		Message: "PostgreSQL refused or could not be reached: " + err.Error()}
}
