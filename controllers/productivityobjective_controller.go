package controllers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/store"
)

// ProductivityObjectiveReconciler writes an objective's row, which the signals read.
type ProductivityObjectiveReconciler struct {
	client.Client
	DB *Database
}

// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=productivityobjectives,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=productivityobjectives/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=productivityobjectives/finalizers,verbs=update

// Reconcile brings one ProductivityObjective to its declared state.
func (r *ProductivityObjectiveReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var o v1alpha1.ProductivityObjective
	if err := r.Get(ctx, req.NamespacedName, &o); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	_, pool, tenant, waiting, err := tenantOf(ctx, r.Client, r.DB, o.Namespace)
	if err != nil {
		return ctrl.Result{}, reportFailure(ctx, r.Client, &o, err)
	}
	if !o.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &o, pool, tenant)
	}
	if controllerutil.AddFinalizer(&o, v1alpha1.FinalizerConfigRows) {
		if err := r.Update(ctx, &o); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to objective %s/%s: %w", o.Namespace, o.Name, err)
		}
	}
	orig := o.DeepCopy()
	o.Status.ObservedGeneration = o.Generation
	result, dbErr := ctrl.Result{}, error(nil)
	if waiting != nil {
		setCondition(&o.Status.Conditions, o.Generation, *waiting)
		result = ctrl.Result{RequeueAfter: dependencyRetryInterval}
	} else {
		err := inTx(ctx, pool, func(tx pgx.Tx) error { return provision.ApplyObjective(ctx, tx, tenant, &o) })
		switch {
		case errors.Is(err, store.ErrUnknownUnit):
			setCondition(&o.Status.Conditions, o.Generation, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
				Reason: v1alpha1.ReasonBusinessUnitNotFound, Message: fmt.Sprintf("scope.businessUnit %q is not a BusinessUnit of namespace %s", o.Spec.Scope.BusinessUnit, o.Namespace)})
			result = ctrl.Result{RequeueAfter: dependencyRetryInterval}
		case err != nil:
			dbErr = err
			setCondition(&o.Status.Conditions, o.Generation, databaseDown(err))
		default:
			if dbErr = r.measure(ctx, pool, tenant, &o); dbErr != nil {
				setCondition(&o.Status.Conditions, o.Generation, databaseDown(dbErr))
			} else {
				setCondition(&o.Status.Conditions, o.Generation, ready(fmt.Sprintf("%s: target %s, warning %s, critical %s", o.Spec.Metric, o.Spec.Target, o.Spec.Warning, o.Spec.Critical)))
				result = ctrl.Result{RequeueAfter: statusRefreshInterval}
			}
		}
	}
	if !equality.Semantic.DeepEqual(orig.Status, o.Status) {
		if err := r.Status().Patch(ctx, &o, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing status of objective %s/%s: %w", o.Namespace, o.Name, err)
		}
	}
	if dbErr != nil {
		return ctrl.Result{}, fmt.Errorf("storing objective %s/%s: %w", o.Namespace, o.Name, dbErr)
	}
	return result, nil
}

// measure writes the objective's current value and attainment over its window.
func (r *ProductivityObjectiveReconciler) measure(ctx context.Context, pool *pgxpool.Pool, tenant uuid.UUID, o *v1alpha1.ProductivityObjective) error {
	row, err := provision.ObjectiveRow(o)
	if err != nil {
		return err
	}
	var agents []string
	if sel := o.Spec.Scope.AgentSelector; sel != nil {
		selector, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return fmt.Errorf("spec.scope.agentSelector: %w", err)
		}
		var list v1alpha1.AgentCapacityList
		if err := r.List(ctx, &list, client.InNamespace(o.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
			return err
		}
		agents = []string{}
		for _, a := range list.Items {
			agents = append(agents, a.Spec.Agent)
		}
	}
	var p store.ObjectiveProgress
	var active int
	err = inTx(ctx, pool, func(tx pgx.Tx) error {
		if p, err = store.MeasureObjective(ctx, tx, tenant, row, agents); err != nil {
			return err
		}
		active, err = store.CountActiveSignals(ctx, tx, tenant, o.Name)
		return err
	})
	if err != nil {
		return err
	}
	o.Status.ActiveSignals = int32(active)
	o.Status.CurrentValue, o.Status.Attainment = "", ""
	if p.Measured {
		o.Status.CurrentValue = formatValue(o.Spec.Metric, p.Value)
		o.Status.Attainment = strconv.FormatFloat(p.Attainment, 'f', 0, 64) + "%"
	}
	return nil
}

// formatValue writes a measured value in the unit the spec uses.
func formatValue(m v1alpha1.Metric, v float64) string {
	switch m {
	case v1alpha1.MetricFirstResponseTime, v1alpha1.MetricResponseTime, v1alpha1.MetricHandlingDuration, v1alpha1.MetricAverageHandlingTime:
		return (time.Duration(v * float64(time.Second))).Round(time.Second).String()
	case v1alpha1.MetricSatisfaction, v1alpha1.MetricConversionRate:
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func (r *ProductivityObjectiveReconciler) finalize(ctx context.Context, o *v1alpha1.ProductivityObjective, pool *pgxpool.Pool, tenant uuid.UUID) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(o, v1alpha1.FinalizerConfigRows) {
		return ctrl.Result{}, nil
	}
	if tenant != uuid.Nil {
		if err := inTx(ctx, pool, func(tx pgx.Tx) error { return store.DeleteObjective(ctx, tx, tenant, o.Name) }); err != nil {
			return ctrl.Result{}, reportFailure(ctx, r.Client, o, fmt.Errorf("deleting objective %s/%s: %w", o.Namespace, o.Name, err))
		}
	}
	controllerutil.RemoveFinalizer(o, v1alpha1.FinalizerConfigRows)
	if err := r.Update(ctx, o); err != nil {
		return ctrl.Result{}, fmt.Errorf("removing finalizer of objective %s/%s: %w", o.Namespace, o.Name, err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager watches ProductivityObjectives, the Tenants and BusinessUnits they wait
// for, and whether PostgreSQL answers.
func (r *ProductivityObjectiveReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ProductivityObjective{}).
		WithOptions(controllerOptions()).
		Watches(&v1alpha1.Tenant{}, handler.EnqueueRequestsFromMapFunc(enqueueAllIn(r.Client, objectives, true)), builder.WithPredicates(readyChanged)).
		Watches(&v1alpha1.BusinessUnit{}, handler.EnqueueRequestsFromMapFunc(enqueueAllIn(r.Client, objectives, false)), builder.WithPredicates(readyChanged)).
		WatchesRawSource(source.Channel(r.DB.availability(), handler.EnqueueRequestsFromMapFunc(enqueueAll(r.Client, objectives)))).
		Named("productivityobjective").
		Complete(r)
}

func objectives() client.ObjectList { return &v1alpha1.ProductivityObjectiveList{} }
