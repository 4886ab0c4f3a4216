package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
)

// TenantReconciler makes a Tenant real: its namespace, its rows in PostgreSQL, and its
// data removed or kept on deletion as deletionPolicy says.
type TenantReconciler struct {
	client.Client
	DB Database
}

// LabelTenant marks the objects the operator makes for a tenant.
const LabelTenant = "supervision.switchboard.dev/tenant"

// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=tenants,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=tenants/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create

// Reconcile brings one Tenant to its declared state.
func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var t v1alpha1.Tenant
	if err := r.Get(ctx, req.NamespacedName, &t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !t.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &t)
	}
	if controllerutil.AddFinalizer(&t, v1alpha1.FinalizerTenantData) {
		if err := r.Update(ctx, &t); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to tenant %q: %w", t.Name, err)
		}
	}
	orig := t.DeepCopy()
	if err := r.ensureNamespace(ctx, &t); err != nil {
		return ctrl.Result{}, err
	}
	dbErr := r.provision(ctx, &t)
	if dbErr == nil {
		dbErr = r.observe(ctx, &t)
	}
	r.setConditions(&t, dbErr)
	if !equality.Semantic.DeepEqual(orig.Status, t.Status) {
		if err := r.Status().Patch(ctx, &t, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing status of tenant %q: %w", t.Name, err)
		}
	}
	if dbErr != nil {
		return ctrl.Result{}, fmt.Errorf("provisioning tenant %q: %w", t.Name, dbErr)
	}
	return ctrl.Result{RequeueAfter: statusRefreshInterval}, nil
}

// ensureNamespace creates the tenant's namespace, owned by the Tenant.
func (r *TenantReconciler) ensureNamespace(ctx context.Context, t *v1alpha1.Tenant) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.Name}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, ns, func() error {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[LabelTenant] = t.Name
		if ns.CreationTimestamp.IsZero() {
			return controllerutil.SetOwnerReference(t, ns, r.Scheme())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("creating namespace of tenant %q: %w", t.Name, err)
	}
	t.Status.Namespace = t.Name
	return nil
}

func (r *TenantReconciler) setConditions(t *v1alpha1.Tenant, dbErr error) {
	gen := t.Generation
	t.Status.ObservedGeneration = gen
	conds := &t.Status.Conditions
	if dbErr != nil {
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionDatabaseReady, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonDatabaseUnavailable, Message: dbErr.Error()})
		setCondition(conds, gen, databaseDown(dbErr))
		return
	}
	setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionDatabaseReady, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonReconciled, Message: "the tenant's rows are current"})
	if t.Spec.Isolation == v1alpha1.IsolationDedicated {
		msg := "Dedicated isolation (own database and Deployment) is not supported by this operator version yet; use Pooled"
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionServicesReady, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonProgressing, Message: msg})
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonProgressing, Message: msg})
		return
	}
	setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionServicesReady, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonPooled, Message: "served by the shared switchboard serve replicas"})
	if t.Spec.Suspend {
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonSuspended, Message: "suspended: no new conversation is routed; open ones go on"})
		return
	}
	setCondition(conds, gen, ready("the tenant is provisioned and served"))
}

// SetupWithManager watches Tenants and the namespaces they own.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Tenant{}).
		Owns(&corev1.Namespace{}).
		Named("tenant").
		Complete(r)
}
