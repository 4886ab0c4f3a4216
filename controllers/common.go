// Package controllers holds the operator's reconcilers, one per kind. They turn Switchboard's
// custom resources into rows in PostgreSQL (through services/store, the code `switchboard
// dev` uses too) and Kubernetes objects, and report what they observed in status.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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
	// maxRetryInterval bounds the backoff of a resource whose reconcile keeps failing
	// (controller-runtime's grows to 16 minutes), so that once the API server or PostgreSQL
	// is back after an outage, every resource is tried again within this long.
	maxRetryInterval = 30 * time.Second
	// dedicatedConnectTimeout bounds the wait for a Dedicated tenant's database when its
	// pool is opened in a reconcile: the controller's backoff retries, and the tenant
	// controller's one worker is not held by one tenant's unreachable database.
	dedicatedConnectTimeout = time.Second
)

// controllerOptions are every controller's: the failure backoff bounded by maxRetryInterval.
func controllerOptions() controller.Options {
	return controller.Options{RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxRetryInterval)}
}

// Database is the operator's PostgreSQL: the shared database of Pooled tenants, as the
// schema owner, and the databases of Dedicated tenants on the same server.
type Database struct {
	// Pool is the shared database's.
	Pool *pgxpool.Pool
	// URL is the shared database's; a Dedicated tenant's URL is made from it.
	URL string

	mu        sync.Mutex
	dedicated map[string]*pgxpool.Pool
	// subscribers hear when PostgreSQL stops or starts answering (see watch).
	subscribers []chan event.GenericEvent
}

// NewDatabase returns the operator's database from the shared database's pool and URL.
func NewDatabase(pool *pgxpool.Pool, url string) *Database {
	return &Database{Pool: pool, URL: url, dedicated: map[string]*pgxpool.Pool{}}
}

// Close closes the Dedicated tenants' pools.
func (d *Database) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, p := range d.dedicated {
		p.Close()
		delete(d.dedicated, name)
	}
}

// tx runs fn in one transaction on the shared database.
func (d *Database) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, d.Pool, fn)
}

// poolFor returns the pool that holds a tenant's rows: the shared one for a Pooled tenant,
// its own database's for a Dedicated one (from the Secret the Tenant controller keeps).
func (d *Database) poolFor(ctx context.Context, c client.Client, t *v1alpha1.Tenant) (*pgxpool.Pool, error) {
	if t.Spec.Isolation != v1alpha1.IsolationDedicated {
		return d.Pool, nil
	}
	d.mu.Lock()
	p, ok := d.dedicated[t.Name]
	d.mu.Unlock()
	if ok {
		return p, nil
	}
	var secret corev1.Secret
	if err := c.Get(ctx, types.NamespacedName{Namespace: t.Name, Name: DatabaseSecret}, &secret); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, errTenantNotReady
		}
		return nil, err
	}
	p, err := store.Open(ctx, string(secret.Data[DatabaseSecretKey]), store.PoolOptions{MaxConns: 2, ConnectTimeout: dedicatedConnectTimeout})
	if err != nil {
		return nil, fmt.Errorf("connecting to the database of tenant %q: %w", t.Name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.dedicated[t.Name]; ok {
		p.Close()
		return old, nil
	}
	d.dedicated[t.Name] = p
	return p, nil
}

// forget closes a Dedicated tenant's pool, before its database is dropped.
func (d *Database) forget(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.dedicated[name]; ok {
		p.Close()
		delete(d.dedicated, name)
	}
}

// errTenantNotReady means the tenant of a namespace has no rows yet.
var errTenantNotReady = errors.New("the tenant is not provisioned yet")

// tenantOf finds the Tenant that owns a namespace (the namespace is named after it), the
// pool of the database that holds its rows, and its id there. A missing Tenant gives a
// condition, not an error.
func tenantOf(ctx context.Context, c client.Client, db *Database, namespace string) (*v1alpha1.Tenant, *pgxpool.Pool, uuid.UUID, *metav1.Condition, error) {
	notReady := &metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonTenantNotReady,
		Message: fmt.Sprintf("Tenant %q is not provisioned in the database yet", namespace)}
	var t v1alpha1.Tenant
	if err := c.Get(ctx, types.NamespacedName{Name: namespace}, &t); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return nil, nil, uuid.Nil, nil, fmt.Errorf("reading Tenant %q: %w", namespace, err)
		}
		return nil, nil, uuid.Nil, &metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonTenantNotFound,
			Message: fmt.Sprintf("no Tenant named %q owns namespace %q; create it, or move this resource to its tenant's namespace", namespace, namespace)}, nil
	}
	pool, err := db.poolFor(ctx, c, &t)
	switch {
	case errors.Is(err, errTenantNotReady):
		return &t, nil, uuid.Nil, notReady, nil
	case err != nil:
		return &t, nil, uuid.Nil, nil, err
	}
	var id uuid.UUID
	err = inTx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		id, err = store.TenantID(ctx, tx, t.Name)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &t, pool, uuid.Nil, notReady, nil
	case err != nil:
		return &t, pool, uuid.Nil, nil, fmt.Errorf("finding tenant %q in the database: %w", t.Name, err)
	}
	return &t, pool, id, nil, nil
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
		Message: "PostgreSQL could not be reached or refused the change; the operator retries and applies the declared state once it answers: " + err.Error()}
}

// unavailable is the Ready condition for a failed step: DatabaseUnavailable for
// PostgreSQL's errors, Progressing when the API server refused or did not answer (the
// steps that write rows also write Secrets).
func unavailable(err error) metav1.Condition {
	if isKubernetesError(err) {
		return metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonProgressing,
			Message: "the Kubernetes API server refused or could not be reached; the operator retries: " + err.Error()}
	}
	return databaseDown(err)
}

// isKubernetesError tells the API server's errors (a status it answered, or no answer:
// client-go wraps transport failures in a *url.Error) from the others.
func isKubernetesError(err error) bool {
	var status apierrors.APIStatus
	var noAnswer *url.Error
	return errors.As(err, &status) || errors.As(err, &noAnswer)
}

// reportFailure writes a failed step on a resource's Ready condition (see unavailable),
// with the generation it was attempting, and returns the step's error so that
// controller-runtime retries with backoff. The status is patched only when it changed;
// when the API server is what failed, the patch fails too and only the error is returned.
func reportFailure(ctx context.Context, c client.Client, obj client.Object, err error) error {
	orig := obj.DeepCopyObject().(client.Object)
	conds, observed := statusOf(obj)
	cond := unavailable(err)
	if !obj.GetDeletionTimestamp().IsZero() {
		cond.Message = "deleting: " + cond.Message
	}
	gen := obj.GetGeneration()
	changed := setCondition(conds, gen, cond)
	if *observed != gen {
		*observed, changed = gen, true
	}
	if !changed {
		return err
	}
	if patchErr := c.Status().Patch(ctx, obj, client.MergeFrom(orig)); patchErr != nil {
		logf.FromContext(ctx).V(1).Info("could not write the failure in status", "error", patchErr.Error())
	}
	return err
}

// uncached is a client whose reads go to the API server, not to the manager's cache.
type uncached struct {
	client.Client
	reader client.Reader
}

func (u uncached) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return u.reader.Get(ctx, key, obj, opts...)
}

// statusOf returns the conditions and observed generation of a Switchboard resource.
func statusOf(obj client.Object) (*[]metav1.Condition, *int64) {
	switch o := obj.(type) {
	case *v1alpha1.Tenant:
		return &o.Status.Conditions, &o.Status.ObservedGeneration
	case *v1alpha1.BusinessUnit:
		return &o.Status.Conditions, &o.Status.ObservedGeneration
	case *v1alpha1.AgentCapacity:
		return &o.Status.Conditions, &o.Status.ObservedGeneration
	case *v1alpha1.ProductivityObjective:
		return &o.Status.Conditions, &o.Status.ObservedGeneration
	}
	panic(fmt.Sprintf("statusOf: %T is not a Switchboard resource", obj))
}

// inTx runs fn in one transaction on pool.
func inTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, fn)
}

// readyChanged passes the creation and deletion of a resource and the changes of its
// Ready condition's status, not every change of its live figures: what a resource waiting
// for it needs to hear.
var readyChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	ready := func(o client.Object) metav1.ConditionStatus {
		conds, _ := statusOf(o)
		if c := meta.FindStatusCondition(*conds, v1alpha1.ConditionReady); c != nil {
			return c.Status
		}
		return metav1.ConditionUnknown
	}
	return ready(e.ObjectOld) != ready(e.ObjectNew)
}}

// enqueueAllIn maps an event to every object of a list's kind in one namespace: the
// namespace of the object (fromName false) or the one named after it (a Tenant's).
func enqueueAllIn(c client.Client, newList func() client.ObjectList, fromName bool) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		namespace := o.GetNamespace()
		if fromName {
			namespace = o.GetName()
		}
		return requestsFor(ctx, c, newList(), client.InNamespace(namespace))
	}
}

// enqueueAll maps an event to every object of a list's kind.
func enqueueAll(c client.Client, newList func() client.ObjectList) handler.MapFunc {
	return func(ctx context.Context, _ client.Object) []reconcile.Request {
		return requestsFor(ctx, c, newList())
	}
}

// requestsFor lists objects (from the manager's cache) as reconcile requests.
func requestsFor(ctx context.Context, c client.Client, list client.ObjectList, opts ...client.ListOption) []reconcile.Request {
	if err := c.List(ctx, list, opts...); err != nil {
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(items))
	for _, item := range items {
		if obj, ok := item.(client.Object); ok {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
		}
	}
	return out
}
