package controllers_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/controllers"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/store"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var (
	cluster *localpg.Cluster
	kube    *testenv.Kube
)

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		var err error
		if kube, err = testenv.StartKube(); err != nil {
			fmt.Fprintln(os.Stderr, "starting the API server:", err)
			return 1
		}
		defer kube.Stop()
		return m.Run()
	})
}

// operator is a running manager with the controllers.
type operator struct {
	db      *pgxpool.Pool
	mgr     ctrl.Manager
	stop    context.CancelFunc
	done    chan error
	stopped bool
}

// startOperator migrates a fresh database and runs the controllers against the test's API
// server until the test ends.
func startOperator(t *testing.T) *operator {
	t.Helper()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	return startOperatorOn(t, url, ctrl.Options{})
}

// startOperatorOn runs the controllers on the database at url with the given manager
// options (leader election) until Stop or the end of the test.
func startOperatorOn(t *testing.T, url string, opts ctrl.Options) *operator {
	t.Helper()
	return startOperatorWith(t, kube, url, opts)
}

// startOperatorWith is startOperatorOn against another API server than the package's;
// the probes listen where opts says (nowhere by default).
func startOperatorWith(t *testing.T, kube *testenv.Kube, url string, opts ctrl.Options) *operator {
	t.Helper()
	ctx := context.Background()
	pool, err := store.Open(ctx, url, store.PoolOptions{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	opts.Scheme = kube.Client.Scheme()
	opts.Metrics = metricsserver.Options{BindAddress: "0"}
	if opts.HealthProbeBindAddress == "" {
		opts.HealthProbeBindAddress = "0"
	}
	// Each test runs its own managers in this one process.
	opts.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	mgr, err := ctrl.NewManager(kube.Env.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	db := controllers.NewDatabase(pool, url)
	t.Cleanup(db.Close)
	if err := controllers.Setup(mgr, db, controllers.Options{ServeImage: "switchboard:test", PrometheusRuleLabels: map[string]string{"release": "test-prometheus"}}); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	o := &operator{db: pool, mgr: mgr, stop: cancel, done: make(chan error, 1)}
	go func() { o.done <- mgr.Start(runCtx) }()
	t.Cleanup(func() { o.Stop(t) })
	return o
}

// Stop stops the manager and waits for it.
func (o *operator) Stop(t *testing.T) {
	if o.stopped {
		return
	}
	o.stopped = true
	o.stop()
	if err := <-o.done; err != nil {
		t.Errorf("manager: %v", err)
	}
}

// objects reads the resources of YAML files, as kubectl would send them.
func objects(t *testing.T, data []byte) []client.Object {
	t.Helper()
	var out []client.Object
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		var obj client.Object
		switch meta.Kind {
		case "Tenant":
			obj = &v1alpha1.Tenant{}
		case "BusinessUnit":
			obj = &v1alpha1.BusinessUnit{}
		case "AgentCapacity":
			obj = &v1alpha1.AgentCapacity{}
		case "ProductivityObjective":
			obj = &v1alpha1.ProductivityObjective{}
		case "":
			continue
		default:
			t.Fatalf("unexpected kind %q", meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		out = append(out, obj)
	}
	return out
}

// eventually polls until check returns nil, failing with its last error after 20s.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// condition reads a resource's condition of the given type.
func condition(t *testing.T, obj client.Object, kind string) (*metav1.Condition, error) {
	t.Helper()
	if err := kube.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
		return nil, err
	}
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *v1alpha1.Tenant:
		conds = o.Status.Conditions
	case *v1alpha1.BusinessUnit:
		conds = o.Status.Conditions
	case *v1alpha1.AgentCapacity:
		conds = o.Status.Conditions
	case *v1alpha1.ProductivityObjective:
		conds = o.Status.Conditions
	}
	c := meta.FindStatusCondition(conds, kind)
	if c == nil {
		return nil, fmt.Errorf("%s has no %s condition yet", obj.GetName(), kind)
	}
	return c, nil
}

func waitCondition(t *testing.T, obj client.Object, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	var got *metav1.Condition
	eventually(t, fmt.Sprintf("%T %s Ready=%s (%s)", obj, obj.GetName(), status, reason), func() error {
		c, err := condition(t, obj, v1alpha1.ConditionReady)
		if err != nil {
			return err
		}
		if c.Status != status || c.Reason != reason {
			return fmt.Errorf("Ready=%s reason %s: %s", c.Status, c.Reason, c.Message)
		}
		got = c
		return nil
	})
	return got
}

func apply(t *testing.T, objs ...client.Object) {
	t.Helper()
	ctx := context.Background()
	for _, obj := range objs {
		if obj.GetNamespace() != "" {
			ns := &corev1.Namespace{}
			eventually(t, "namespace "+obj.GetNamespace(), func() error {
				return kube.Client.Get(ctx, client.ObjectKey{Name: obj.GetNamespace()}, ns)
			})
		}
		if err := kube.Client.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}
}

func TestTheSamplesBecomeReadyAndTheirRowsExist(t *testing.T) {
	op := startOperator(t)
	ctx := context.Background()
	var objs []client.Object
	files, _ := filepath.Glob("../config/samples/*.yaml")
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, objects(t, data)...)
	}
	// The Tenant first, as a person would: its namespace comes from the operator.
	for _, o := range objs {
		if _, ok := o.(*v1alpha1.Tenant); ok {
			apply(t, o)
		}
	}
	for _, o := range objs {
		if _, ok := o.(*v1alpha1.Tenant); !ok {
			apply(t, o)
		}
	}
	for _, o := range objs {
		waitCondition(t, o, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	}

	var tenant v1alpha1.Tenant
	if err := kube.Client.Get(ctx, client.ObjectKey{Name: "acme"}, &tenant); err != nil {
		t.Fatal(err)
	}
	var key string
	var units, agents, grants int
	err := op.db.QueryRow(ctx, `SELECT t.widget_key,
		(SELECT count(*) FROM business_units u WHERE u.tenant_id = t.tenant_id),
		(SELECT count(*) FROM agents a WHERE a.tenant_id = t.tenant_id),
		(SELECT count(*) FROM supervisor_units s WHERE s.tenant_id = t.tenant_id)
		FROM tenants t WHERE t.name = 'acme'`).Scan(&key, &units, &agents, &grants)
	if err != nil {
		t.Fatal(err)
	}
	if tenant.Status.WidgetKey == "" || tenant.Status.WidgetKey != key || tenant.Status.Namespace != "acme" || tenant.Status.ObservedGeneration != tenant.Generation {
		t.Errorf("the Tenant's status: %+v; want the widget key %q from the database, namespace acme, the current generation", tenant.Status, key)
	}
	if units != 2 || agents != 4 || grants == 0 {
		t.Errorf("rows of acme: %d units, %d agents, %d supervisor grants; want 2, 4 and some", units, agents, grants)
	}
	var bob struct {
		capacity int
		units    []string
	}
	if err := op.db.QueryRow(ctx, `SELECT a.capacity, array_agg(u.name ORDER BY u.name) FROM agents a
		JOIN agent_units au USING (tenant_id, agent_id) JOIN business_units u USING (tenant_id, unit_id)
		WHERE a.name = 'bob' GROUP BY a.capacity`).Scan(&bob.capacity, &bob.units); err != nil {
		t.Fatal(err)
	}
	if bob.capacity != 4 || fmt.Sprint(bob.units) != "[sales support]" {
		t.Errorf("bob in the database: capacity %d, units %v; want 4 in sales and support", bob.capacity, bob.units)
	}
	eventually(t, "sales' status counting alice and bob", func() error {
		var sales v1alpha1.BusinessUnit
		if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: "acme", Name: "sales"}, &sales); err != nil {
			return err
		}
		if sales.Status.Agents != 2 {
			return fmt.Errorf("%d agents", sales.Status.Agents)
		}
		return nil
	})

	t.Run("the tenant's first admin signs in with the password of its Secret", func(t *testing.T) {
		if tenant.Status.AdminSecret != controllers.AdminSecret {
			t.Fatalf("status.adminSecret %q", tenant.Status.AdminSecret)
		}
		var secret corev1.Secret
		if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: "acme", Name: controllers.AdminSecret}, &secret); err != nil {
			t.Fatal(err)
		}
		var hash, role string
		if err := op.db.QueryRow(ctx, `SELECT a.password_hash, a.role FROM accounts a JOIN tenants t USING (tenant_id)
			WHERE t.name = 'acme' AND a.username = $1`, string(secret.Data["username"])).Scan(&hash, &role); err != nil {
			t.Fatal(err)
		}
		if role != store.RoleAdmin || !auth.CheckPassword(hash, string(secret.Data["password"])) || auth.CheckPassword(hash, "switchboard") {
			t.Fatalf("the admin account (role %s) does not take the Secret's password", role)
		}
	})

	t.Run("a change of capacity reaches the database", func(t *testing.T) {
		var a v1alpha1.AgentCapacity
		if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: "acme", Name: "dave"}, &a); err != nil {
			t.Fatal(err)
		}
		a.Spec.MaxConversations = 9
		if err := kube.Client.Update(ctx, &a); err != nil {
			t.Fatal(err)
		}
		eventually(t, "dave's capacity in the database", func() error {
			var c int
			if err := op.db.QueryRow(ctx, `SELECT capacity FROM agents WHERE name = 'dave'`).Scan(&c); err != nil {
				return err
			}
			if c != 9 {
				return fmt.Errorf("capacity %d", c)
			}
			return nil
		})
	})
}

func TestAReferenceToSomethingMissingIsAConditionNotACrash(t *testing.T) {
	startOperator(t)
	ctx := context.Background()
	if err := kube.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "orphans"}}); err != nil {
		t.Fatal(err)
	}
	orphan := objects(t, []byte("apiVersion: supervision.switchboard.dev/v1alpha1\nkind: BusinessUnit\nmetadata: {name: sales, namespace: orphans}"))[0]
	apply(t, orphan)
	c := waitCondition(t, orphan, metav1.ConditionFalse, v1alpha1.ReasonTenantNotFound)
	if c.Message == "" {
		t.Error("TenantNotFound without a message")
	}

	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: initech}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: peter, namespace: initech}
spec: {agent: peter, businessUnits: [tps], maxConversations: 2}`))
	apply(t, docs...)
	agent := docs[1]
	c = waitCondition(t, agent, metav1.ConditionFalse, v1alpha1.ReasonBusinessUnitNotFound)
	t.Logf("the agent waits: %s", c.Message)

	unit := objects(t, []byte("apiVersion: supervision.switchboard.dev/v1alpha1\nkind: BusinessUnit\nmetadata: {name: tps, namespace: initech}"))[0]
	apply(t, unit)
	waitCondition(t, agent, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
}

func TestDeletingATenantDeletesOrKeepsItsDataAsItsPolicySays(t *testing.T) {
	op := startOperator(t)
	ctx := context.Background()
	for _, c := range []struct {
		policy v1alpha1.DeletionPolicy
		keeps  bool
	}{{v1alpha1.DeletionPolicyRetain, true}, {v1alpha1.DeletionPolicyDelete, false}} {
		t.Run(string(c.policy), func(t *testing.T) {
			name := "policy-" + map[bool]string{true: "retain", false: "delete"}[c.keeps]
			tenant := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.TenantSpec{DeletionPolicy: c.policy}}
			apply(t, tenant)
			waitCondition(t, tenant, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
			if err := kube.Client.Delete(ctx, tenant); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the Tenant is gone", func() error {
				err := kube.Client.Get(ctx, client.ObjectKeyFromObject(tenant), &v1alpha1.Tenant{})
				if client.IgnoreNotFound(err) != nil {
					return err
				}
				if err == nil {
					return fmt.Errorf("still there")
				}
				return nil
			})
			var rows int
			if err := op.db.QueryRow(ctx, `SELECT count(*) FROM tenants WHERE name = $1`, name).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if (rows == 1) != c.keeps {
				t.Fatalf("after deleting a Tenant with deletionPolicy %s, %d tenant rows remain", c.policy, rows)
			}
		})
	}
}
