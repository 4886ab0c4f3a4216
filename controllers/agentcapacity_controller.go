package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/store"
)

// AgentCapacityReconciler writes an agent's row: capacity and business units.
type AgentCapacityReconciler struct {
	client.Client
	DB *Database
}

// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=agentcapacities,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=agentcapacities/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=agentcapacities/finalizers,verbs=update

// Reconcile brings one AgentCapacity to its declared state.
func (r *AgentCapacityReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var a v1alpha1.AgentCapacity
	if err := r.Get(ctx, req.NamespacedName, &a); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	_, pool, tenant, waiting, err := tenantOf(ctx, r.Client, r.DB, a.Namespace)
	if err != nil {
		return ctrl.Result{}, reportFailure(ctx, r.Client, &a, err)
	}
	if !a.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &a, pool, tenant)
	}
	if controllerutil.AddFinalizer(&a, v1alpha1.FinalizerConfigRows) {
		if err := r.Update(ctx, &a); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to agent capacity %s/%s: %w", a.Namespace, a.Name, err)
		}
	}
	orig := a.DeepCopy()
	a.Status.ObservedGeneration = a.Generation
	result, dbErr := ctrl.Result{RequeueAfter: statusRefreshInterval}, error(nil)
	switch {
	case waiting != nil:
		setCondition(&a.Status.Conditions, a.Generation, *waiting)
		result = ctrl.Result{RequeueAfter: dependencyRetryInterval}
	default:
		err := inTx(ctx, pool, func(tx pgx.Tx) error { return provision.ApplyAgentCapacity(ctx, tx, tenant, &a) })
		switch {
		case errors.Is(err, store.ErrUnknownUnit):
			setCondition(&a.Status.Conditions, a.Generation, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
				Reason: v1alpha1.ReasonBusinessUnitNotFound, Message: fmt.Sprintf("businessUnits names %s; create the missing BusinessUnits in namespace %s",
					strings.Join(a.Spec.BusinessUnits, ", "), a.Namespace)})
			result = ctrl.Result{RequeueAfter: dependencyRetryInterval}
		case err != nil:
			dbErr = err
			setCondition(&a.Status.Conditions, a.Generation, databaseDown(err))
		default:
			if dbErr = r.observe(ctx, pool, tenant, &a); dbErr != nil {
				setCondition(&a.Status.Conditions, a.Generation, databaseDown(dbErr))
			} else {
				setCondition(&a.Status.Conditions, a.Generation, ready(fmt.Sprintf("%s takes up to %d conversations", a.Spec.Agent, a.Spec.MaxConversations)))
			}
		}
	}
	if !equality.Semantic.DeepEqual(orig.Status, a.Status) {
		if err := r.Status().Patch(ctx, &a, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing status of agent capacity %s/%s: %w", a.Namespace, a.Name, err)
		}
	}
	if dbErr != nil {
		return ctrl.Result{}, fmt.Errorf("storing agent capacity %s/%s: %w", a.Namespace, a.Name, dbErr)
	}
	return result, nil
}

func (r *AgentCapacityReconciler) observe(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, a *v1alpha1.AgentCapacity) error {
	return inTx(ctx, pool, func(tx pgx.Tx) error {
		p, err := store.GetAgentPresence(ctx, tx, tenant, a.Spec.Agent)
		if err != nil {
			return err
		}
		if a.Status.Presence != p.Status {
			since := metav1.NewTime(p.Since)
			a.Status.PresenceSince = &since
		}
		a.Status.Presence, a.Status.CurrentLoad = p.Status, int32(p.Load)
		return nil
	})
}

// finalize takes the agent out of routing and removes it once its conversations are done;
// until then the AgentCapacity stays, Ready False, so nobody loses a conversation.
func (r *AgentCapacityReconciler) finalize(ctx context.Context, a *v1alpha1.AgentCapacity, pool *pgxpool.Pool, tenant uuid.UUID) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(a, v1alpha1.FinalizerConfigRows) {
		return ctrl.Result{}, nil
	}
	if tenant != uuid.Nil {
		var gone bool
		err := inTx(ctx, pool, func(tx pgx.Tx) error {
			var err error
			gone, err = store.DrainAgent(ctx, tx, tenant, a.Spec.Agent)
			return err
		})
		if err != nil {
			return ctrl.Result{}, reportFailure(ctx, r.Client, a, fmt.Errorf("removing agent %s/%s: %w", a.Namespace, a.Name, err))
		}
		if !gone {
			orig := a.DeepCopy()
			setCondition(&a.Status.Conditions, a.Generation, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
				Reason: v1alpha1.ReasonDeleting, Message: "taking no new conversation; removed once the open ones are closed or transferred"})
			if err := r.Status().Patch(ctx, a, client.MergeFrom(orig)); err != nil {
				return ctrl.Result{}, fmt.Errorf("writing status of agent capacity %s/%s: %w", a.Namespace, a.Name, err)
			}
			return ctrl.Result{RequeueAfter: drainInterval}, nil
		}
	}
	controllerutil.RemoveFinalizer(a, v1alpha1.FinalizerConfigRows)
	if err := r.Update(ctx, a); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing finalizer of agent capacity %s/%s: %w", a.Namespace, a.Name, err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager watches AgentCapacities, the Tenants and BusinessUnits they wait for,
// and whether PostgreSQL answers.
func (r *AgentCapacityReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.AgentCapacity{}).
		WithOptions(controllerOptions()).
		WatchesRawSource(source.Channel(r.DB.availability(), handler.EnqueueRequestsFromMapFunc(enqueueAll(r.Client, agentCapacities)))).
		Watches(&v1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(enqueueAllIn(r.Client, agentCapacities, true))).
		Watches(&v1alpha1.BusinessUnit{}, handler.EnqueueRequestsFromMapFunc(enqueueAllIn(r.Client, agentCapacities, false))).
		Named("agentcapacity").
		Complete(r)
}

func agentCapacities() client.ObjectList { return &v1alpha1.AgentCapacityList{} }
