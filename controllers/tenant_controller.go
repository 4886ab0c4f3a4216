package controllers

import (
	"context"
	"errors"
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
)

// TenantReconciler makes a Tenant real: its namespace, its rows in PostgreSQL, and its
// data removed or kept on deletion as deletionPolicy says.
type TenantReconciler struct {
	client.Client
	// APIReader reads from the API server itself, where the cache may be behind.
	APIReader client.Reader
	DB        *Database
	// ServeImage runs `switchboard serve` for Dedicated tenants.
	ServeImage string
	// RuleLabels are put on the tenants' PrometheusRules.
	RuleLabels map[string]string

	monitoringProbe monitoringProbe
}

// LabelTenant marks the objects the operator makes for a tenant.
const LabelTenant = "supervision.switchboard.dev/tenant"

// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=tenants,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=supervision.switchboard.dev,resources=tenants/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=secrets;services,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch

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
		return ctrl.Result{}, reportFailure(ctx, r.Client, &t, err)
	}
	pool, dbErr := r.DB.Pool, error(nil)
	if t.Spec.Isolation == v1alpha1.IsolationDedicated {
		pool, dbErr = r.dedicatedDatabase(ctx, &t)
	}
	smtpPassword, secretMissing, err := r.relayPassword(ctx, &t)
	if err != nil {
		return ctrl.Result{}, err
	}
	if dbErr == nil {
		dbErr = r.provision(ctx, pool, &t, smtpPassword)
	}
	if dbErr == nil {
		dbErr = r.apiKey(ctx, pool, &t)
	}
	if dbErr == nil {
		dbErr = r.observe(ctx, pool, &t)
	}
	served, servedMsg := true, "served by the shared switchboard serve replicas"
	if t.Spec.Isolation == v1alpha1.IsolationDedicated && dbErr == nil {
		var err error
		if served, servedMsg, err = r.services(ctx, &t); err != nil {
			return ctrl.Result{}, err
		}
	}
	r.setConditions(&t, dbErr, served, servedMsg)
	if secretMissing != nil && dbErr == nil {
		setCondition(&t.Status.Conditions, t.Generation, *secretMissing)
	}
	// The rules and the dashboard do not depend on each other: both are tried.
	monitoringErr := errors.Join(r.monitoring(ctx, &t), r.dashboard(ctx, &t))
	if !equality.Semantic.DeepEqual(orig.Status, t.Status) {
		if err := r.Status().Patch(ctx, &t, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, fmt.Errorf("writing status of tenant %q: %w", t.Name, err)
		}
	}
	if dbErr != nil {
		return ctrl.Result{}, fmt.Errorf("provisioning tenant %q: %w", t.Name, dbErr)
	}
	if monitoringErr != nil {
		return ctrl.Result{}, monitoringErr
	}
	return ctrl.Result{RequeueAfter: statusRefreshInterval}, nil
}

// ensureNamespace creates the tenant's namespace, owned by the Tenant (a namespace made
// before the Tenant is labelled, not owned, so that deleting the Tenant leaves it).
func (r *TenantReconciler) ensureNamespace(ctx context.Context, t *v1alpha1.Tenant) error {
	write := func(c client.Client) error {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: t.Name}}
		_, err := controllerutil.CreateOrUpdate(ctx, c, ns, func() error {
			if ns.Labels == nil {
				ns.Labels = map[string]string{}
			}
			ns.Labels[LabelTenant] = t.Name
			if ns.CreationTimestamp.IsZero() {
				return controllerutil.SetOwnerReference(t, ns, r.Scheme())
			}
			return nil
		})
		return err
	}
	err := write(r.Client)
	if apierrors.IsAlreadyExists(err) {
		// The cache has not seen the namespace yet: after the API server was away, the
		// watches come back with client-go's backoff (up to a minute). Ask the API server,
		// rather than failing every step behind this one until then.
		err = write(uncached{Client: r.Client, reader: r.APIReader})
	}
	if err != nil {
		return fmt.Errorf("creating namespace of tenant %q: %w", t.Name, err)
	}
	t.Status.Namespace = t.Name
	return nil
}

func (r *TenantReconciler) setConditions(t *v1alpha1.Tenant, dbErr error, served bool, servedMsg string) {
	gen := t.Generation
	t.Status.ObservedGeneration = gen
	conds := &t.Status.Conditions
	if dbErr != nil {
		down := unavailable(dbErr)
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionDatabaseReady, Status: metav1.ConditionFalse,
			Reason: down.Reason, Message: down.Message})
		setCondition(conds, gen, down)
		return
	}
	setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionDatabaseReady, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonReconciled, Message: "the tenant's rows are current"})
	switch {
	case !served:
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionServicesReady, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonDeploymentUnavailable, Message: servedMsg})
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonDeploymentUnavailable, Message: servedMsg})
		return
	case t.Spec.Isolation == v1alpha1.IsolationDedicated:
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionServicesReady, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonReconciled, Message: servedMsg})
	default:
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionServicesReady, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonPooled, Message: servedMsg})
	}
	if t.Spec.Auth.Mode == v1alpha1.AuthOIDC {
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUnsupported,
			Message: "spec.auth.mode OIDC is not served by this version yet: staff sign in with local accounts (see status.adminSecret)"})
		return
	}
	if t.Spec.Suspend {
		setCondition(conds, gen, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonSuspended, Message: "suspended: no new conversation is routed; open ones go on"})
		return
	}
	setCondition(conds, gen, ready("the tenant is provisioned and served"))
}

// SetupWithManager watches Tenants, what they own (the Grafana dashboard ConfigMap among
// them), the Secrets of their mail relays, the specs of their objectives (which make
// their PrometheusRule), and whether PostgreSQL answers. PrometheusRules are
// watched when prometheus-operator's CRDs are there at start; installed later, the rules
// are written at each tenant's next periodic reconcile and kept from then on.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.Tenant{}, smtpSecretIndex, func(o client.Object) []string {
		return smtpSecretKey(o.(*v1alpha1.Tenant))
	}); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.Tenant{}).
		WithOptions(controllerOptions()).
		WatchesRawSource(source.Channel(r.DB.availability(), handler.EnqueueRequestsFromMapFunc(enqueueAll(r.Client, func() client.ObjectList { return &v1alpha1.TenantList{} })))).
		Owns(&corev1.Namespace{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Secret{}).
		Owns(&corev1.ConfigMap{}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.tenantsOfSecret)).
		Watches(&v1alpha1.ProductivityObjective{}, handler.EnqueueRequestsFromMapFunc(tenantOfObjective),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	served, err := prometheusRulesServed(mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	if served {
		b = b.Owns(&monitoringv1.PrometheusRule{})
	}
	return b.Named("tenant").Complete(r)
}
