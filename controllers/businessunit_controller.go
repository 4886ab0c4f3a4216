package controllers

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/store"
)

// BusinessUnitReconciler writes a BusinessUnit's row and its supervisors' permissions.
type BusinessUnitReconciler struct {
	client.Client
	DB *Database
}

// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=businessunits,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=businessunits/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=businessunits/finalizers,verbs=update

// Reconcile brings one BusinessUnit to its declared state.
func (r *BusinessUnitReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var u v1alpha1.BusinessUnit
	if err := r.Get(ctx, req.NamespacedName, &u); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	_, pool, tenant, waiting, err := tenantOf(ctx, r.Client, r.DB, u.Namespace)
	if err != nil {
		return ctrl.Result{}, reportFailure(ctx, r.Client, &u, err)
	}
	if !u.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &u, pool, tenant)
	}
	if controllerutil.AddFinalizer(&u, v1alpha1.FinalizerConfigRows) {
		if err := r.Update(ctx, &u); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to business unit %s/%s: %w", u.Namespace, u.Name, err)
		}
	}
	orig := u.DeepCopy()
	u.Status.ObservedGeneration = u.Generation
	result, dbErr := ctrl.Result{RequeueAfter: statusRefreshInterval}, error(nil)
	switch {
	case waiting != nil:
		setCondition(&u.Status.Conditions, u.Generation, *waiting)
		result = ctrl.Result{RequeueAfter: dependencyRetryInterval}
	default:
		if dbErr = r.apply(ctx, pool, tenant, &u); dbErr == nil {
			dbErr = r.observe(ctx, pool, tenant, &u)
		}
		if errors.Is(dbErr, provision.ErrInvalidSpec) {
			setCondition(&u.Status.Conditions, u.Generation, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
				Reason: v1alpha1.ReasonInvalidSpec, Message: dbErr.Error()})
			dbErr, result = nil, ctrl.Result{}
		} else if dbErr != nil {
			setCondition(&u.Status.Conditions, u.Generation, databaseDown(dbErr))
		} else {
			setCondition(&u.Status.Conditions, u.Generation, ready(fmt.Sprintf("the unit takes chats with %d supervisors", len(u.Spec.Supervisors))))
		}
	}
	if !equality.Semantic.DeepEqual(orig.Status, u.Status) {
		if err := r.Status().Patch(ctx, &u, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing status of business unit %s/%s: %w", u.Namespace, u.Name, err)
		}
	}
	if dbErr != nil {
		return ctrl.Result{}, fmt.Errorf("storing business unit %s/%s: %w", u.Namespace, u.Name, dbErr)
	}
	return result, nil
}

// apply writes the unit's row and supervisors in one transaction.
func (r *BusinessUnitReconciler) apply(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, u *v1alpha1.BusinessUnit) error {
	return inTx(ctx, pool, func(tx pgx.Tx) error { return provision.ApplyBusinessUnit(ctx, tx, tenant, u) })
}

func (r *BusinessUnitReconciler) observe(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, u *v1alpha1.BusinessUnit) error {
	return inTx(ctx, pool, func(tx pgx.Tx) error {
		c, err := store.CountUnit(ctx, tx, tenant, u.Name)
		s := &u.Status
		s.Agents, s.AgentsOnline, s.OpenConversations, s.QueuedConversations = int32(c.Agents), int32(c.AgentsOnline), int32(c.Open), int32(c.Queued)
		return err
	})
}

// finalize retires the unit (see store.RetireUnit) when its tenant still has rows, and
// lets it go.
func (r *BusinessUnitReconciler) finalize(ctx context.Context, u *v1alpha1.BusinessUnit, pool *pgxpool.Pool, tenant uuid.UUID) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(u, v1alpha1.FinalizerConfigRows) {
		return ctrl.Result{}, nil
	}
	if tenant != uuid.Nil {
		if err := inTx(ctx, pool, func(tx pgx.Tx) error { return store.RetireUnit(ctx, tx, tenant, u.Name) }); err != nil {
			return ctrl.Result{}, reportFailure(ctx, r.Client, u, fmt.Errorf("deleting business unit %s/%s: %w", u.Namespace, u.Name, err))
		}
	}
	controllerutil.RemoveFinalizer(u, v1alpha1.FinalizerConfigRows)
	if err := r.Update(ctx, u); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing finalizer of business unit %s/%s: %w", u.Namespace, u.Name, err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager watches BusinessUnits; Tenants, so that a unit waiting for its tenant
// goes on as soon as the tenant is ready; AgentCapacities, whose changes (status
// included, written after the agent's row) change the units' agent counts; and whether
// PostgreSQL answers.
func (r *BusinessUnitReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.BusinessUnit{}).
		WithOptions(controllerOptions()).
		WatchesRawSource(source.Channel(r.DB.availability(), handler.EnqueueRequestsFromMapFunc(enqueueAll(r.Client, func() client.ObjectList { return &v1alpha1.BusinessUnitList{} })))).
		Watches(&v1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(enqueueAllIn(r.Client, func() client.ObjectList { return &v1alpha1.BusinessUnitList{} }, true))).
		Watches(&v1alpha1.AgentCapacity{}, handler.EnqueueRequestsFromMapFunc(unitsOfAgent)).
		Named("businessunit").
		Complete(r)
}

func unitsOfAgent(_ context.Context, o client.Object) []reconcile.Request {
	a, ok := o.(*v1alpha1.AgentCapacity)
	if !ok {
		return nil
	}
	out := make([]reconcile.Request, 0, len(a.Spec.BusinessUnits))
	for _, u := range a.Spec.BusinessUnits {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: a.Namespace, Name: u}})
	}
	return out
}
