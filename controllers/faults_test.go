package controllers_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/controllers"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/store"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// The fault drills: the operator keeps working while the API server or PostgreSQL
// restarts under it, says so in its resources' conditions and probes, and converges
// afterwards to exactly the rows and objects its resources declare.
//
// SWITCHBOARD_OPERATOR_RESTARTS sets how many times each dependency is restarted (2 by
// default: once while a batch of tenants is being created, once while resources are
// changed and deleted; more alternate the two); SWITCHBOARD_OPERATOR_DRILL_SEED replays
// the moments of a run. With -v the test prints a table of the restarts.

// convergeWithin bounds the wait for everything to be Ready again once a dependency is
// back: the informers' reconnection after the API server was away (client-go's backoff,
// up to 30s jittered to 60s, which grows over restarts less than two minutes apart), then
// the operator's longest retry backoff (30s), and the reconciles of a loaded machine.
// Ten restarts in a row took up to 91s.
const convergeWithin = 3 * time.Minute

// drill is one private API server and PostgreSQL cluster with an operator on them, and
// what the test declared and deleted so far.
type drill struct {
	t      *testing.T
	kube   *testenv.Kube
	pg     *localpg.Cluster
	pgDir  string
	url    string
	op     *operator
	probes string
	rng    *rand.Rand
	// retained are the tenants deleted with deletionPolicy Retain: their rows stay.
	retained map[string]bool
	// tenants are the live tenants' names, oldest first.
	tenants []string
	created int
	results []drillResult
	// toldDown is how long after PostgreSQL stopped every resource said so, in the last
	// round that stopped it.
	toldDown time.Duration
}

// drillResult is one restart of a dependency.
type drillResult struct {
	fault, scenario string
	// after is how long after the last change the dependency went down; told how long
	// after that every resource said so (PostgreSQL only); down how long it stayed down;
	// converged how long after it was back everything was Ready.
	after, told, down, converged time.Duration
	objects, rows                int
}

func TestTheOperatorConvergesThroughRestartsOfTheAPIServerAndPostgreSQL(t *testing.T) {
	restarts := 2
	if v := os.Getenv("SWITCHBOARD_OPERATOR_RESTARTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SWITCHBOARD_OPERATOR_RESTARTS=%q: want a number of restarts, 1 or more", v)
		}
		restarts = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SWITCHBOARD_OPERATOR_DRILL_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SWITCHBOARD_OPERATOR_DRILL_SEED=%q: %v", v, err)
		}
	}
	t.Logf("drill seed %d (SWITCHBOARD_OPERATOR_DRILL_SEED=%d replays the moments of the faults)", seed, seed)
	d := startDrill(t, seed)

	// PostgreSQL first: after the API server was away, the operator's watches come back
	// one by one over up to a minute (client-go's backoff), which the API server's rounds
	// measure and the database's should not.
	drills := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"PostgreSQL stopped immediately and restarted", func(t *testing.T) {
			for i := range restarts {
				d.round(t, "PostgreSQL", i, d.restartPostgreSQL)
			}
		}},
		{"the API server killed and restarted", func(t *testing.T) {
			for i := range restarts {
				d.round(t, "API server", i, d.restartAPIServer)
			}
		}},
		{"with leader election the operator exits when the API server is away past its renew deadline, and its replacement converges", d.leaderLost},
	}
	for _, dr := range drills {
		if !t.Run(dr.name, dr.run) {
			break // the dependency may be left down: what follows would only fail with it
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %-50s %7s %11s %8s %10s %8s %5s\n", "restarted", "while", "after", "all told", "down", "converged", "objects", "rows")
	for _, r := range d.results {
		told := "-"
		if r.told > 0 {
			told = r.told.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(&b, "%-11s %-50s %7s %11s %8s %10s %8d %5d\n", r.fault, r.scenario, r.after.Round(time.Millisecond), told,
			r.down.Round(10*time.Millisecond), r.converged.Round(10*time.Millisecond), r.objects, r.rows)
	}
	t.Logf("operator fault drills (seed %d):\n%s", seed, b.String())
}

// startDrill starts the private API server (with prometheus-operator's PrometheusRule
// CRD, so that the rules are audited too), the private PostgreSQL and the operator.
func startDrill(t *testing.T, seed uint64) *drill {
	k, err := testenv.StartKube()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop() })
	if _, err := envtest.InstallCRDs(k.Env.Config, envtest.CRDInstallOptions{Paths: []string{"testdata/crds"}, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "drill-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx := context.Background()
	pg, err := localpg.Start(ctx, localpg.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := &drill{t: t, kube: k, pg: pg, pgDir: dir, url: pg.URL("switchboard"), rng: rand.New(rand.NewPCG(seed, seed^0x5eed)),
		retained: map[string]bool{}}
	t.Cleanup(func() {
		if err := d.pg.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err := pg.CreateDatabase(ctx, "switchboard"); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, d.url); err != nil {
		t.Fatal(err)
	}
	d.probes = freeAddr(t)
	d.op = startOperatorWith(t, k, d.url, ctrl.Options{HealthProbeBindAddress: d.probes})
	// A tenant in place before the first fault, as in any cluster that has run a while.
	d.createBatch(t, 1)
	d.waitConverged(t, "at start")
	return d
}

// round declares something, restarts a dependency a random moment later, and checks that
// everything converges and the audit holds. Even rounds create a batch of tenants, odd
// ones change and delete resources of the live ones.
func (d *drill) round(t *testing.T, fault string, i int, restart func(t *testing.T) time.Duration) {
	t.Helper()
	var scenario string
	if i%2 == 0 || len(d.tenants) < 2 {
		scenario = d.createBatch(t, 3)
	} else {
		scenario = d.changeAndDelete(t)
	}
	after := time.Duration(d.rng.IntN(400)) * time.Millisecond
	time.Sleep(after)
	down := restart(t)
	back := time.Now()
	objects := d.waitConverged(t, "after the "+fault+" came back")
	converged := time.Since(back)
	rows := d.audit(t)
	d.results = append(d.results, drillResult{fault: fault, scenario: scenario, after: after, told: d.toldDown, down: down, converged: converged, objects: objects, rows: rows})
	t.Logf("%s restarted %v after %s: down %v, everything Ready %v after it was back; %d objects, %d rows audited",
		fault, after, scenario, down.Round(10*time.Millisecond), converged.Round(10*time.Millisecond), objects, rows)
	d.toldDown = 0
}

// restartAPIServer kills the API server for a few seconds, checking meanwhile that the
// operator keeps running and its liveness probe answers, starts it again, and at once
// declares another agent: the operator sees it once its watches are back.
func (d *drill) restartAPIServer(t *testing.T) time.Duration {
	t.Helper()
	if err := d.kube.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	time.Sleep(2 * time.Second)
	select {
	case err := <-d.op.done:
		d.op.stopped = true
		t.Fatalf("the operator stopped while the API server was down: %v", err)
	default:
	}
	if code, body := probe(t, d.probes, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while the API server is down: %d %s; want 200 (a restart would not bring it back)", code, body)
	}
	if err := d.kube.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	down := time.Since(stopped)
	d.created++
	name, agent := d.tenants[len(d.tenants)-1], fmt.Sprintf("eve-%d", d.created)
	if err := d.kube.Client.Create(context.Background(), &v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: agent},
		Spec: v1alpha1.AgentCapacitySpec{Agent: agent, BusinessUnits: []string{"sales"}, MaxConversations: 1}}); err != nil {
		t.Fatal(err)
	}
	return down
}

// restartPostgreSQL stops PostgreSQL as a crash would, waits until every resource says
// so, checks the probes, makes a change that cannot be stored yet, and starts it again.
func (d *drill) restartPostgreSQL(t *testing.T) time.Duration {
	t.Helper()
	port := d.pg.Port()
	if err := d.pg.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	d.waitSaysDatabaseDown(t)
	d.toldDown = time.Since(stopped)
	if code, body := probe(t, d.probes, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while PostgreSQL is down: %d %s; want 200", code, body)
	}
	if code, body := probe(t, d.probes, "/readyz"); code == http.StatusOK || !strings.Contains(body, "[-]database failed") {
		t.Errorf("/readyz while PostgreSQL is down: %d %q; want a failure naming the database", code, body)
	}

	// A change while the database is down is not in effect, and its resource says why
	// with the generation it could not apply.
	name := d.tenants[len(d.tenants)-1]
	var a v1alpha1.AgentCapacity
	d.update(t, client.ObjectKey{Namespace: name, Name: "ann"}, &a, func() { a.Spec.MaxConversations = a.Spec.MaxConversations%9 + 1 })
	eventuallyWithin(t, 30*time.Second, "the changed agent saying the database is down", func() error {
		if err := d.kube.Client.Get(context.Background(), client.ObjectKeyFromObject(&a), &a); err != nil {
			return err
		}
		c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonDatabaseUnavailable || c.ObservedGeneration != a.Generation || a.Status.ObservedGeneration != a.Generation {
			return fmt.Errorf("generation %d, status %+v", a.Generation, a.Status)
		}
		return nil
	})

	// A resource deleted while the database is down keeps its finalizer, saying why,
	// until its rows are gone (waitConverged then waits for it to go, audit for its rows).
	// One that has no finalizer yet has no rows either, and goes at once.
	var cy *v1alpha1.AgentCapacity
	for i := len(d.tenants) - 1; i >= 0 && cy == nil; i-- {
		cy = &v1alpha1.AgentCapacity{}
		err := d.kube.Client.Get(context.Background(), client.ObjectKey{Namespace: d.tenants[i], Name: "cy"}, cy)
		if client.IgnoreNotFound(err) != nil {
			t.Fatal(err)
		}
		if err != nil || !controllerutil.ContainsFinalizer(cy, v1alpha1.FinalizerConfigRows) {
			cy = nil // deleted in an earlier round, or not reconciled yet
		}
	}
	if cy == nil {
		t.Fatal("no agent cy with its finalizer to delete")
	}
	if err := d.kube.Client.Delete(context.Background(), cy); err != nil {
		t.Fatal(err)
	}
	eventuallyWithin(t, 30*time.Second, "the deleted agent saying it waits for the database", func() error {
		if err := d.kube.Client.Get(context.Background(), client.ObjectKeyFromObject(cy), cy); err != nil {
			return err
		}
		c := meta.FindStatusCondition(cy.Status.Conditions, v1alpha1.ConditionReady)
		if cy.DeletionTimestamp.IsZero() || c == nil || c.Reason != v1alpha1.ReasonDatabaseUnavailable || !strings.HasPrefix(c.Message, "deleting: PostgreSQL") {
			return fmt.Errorf("deletion %v, Ready %+v", cy.DeletionTimestamp, c)
		}
		return nil
	})

	pg, err := localpg.Start(context.Background(), localpg.Options{DataDir: d.pgDir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	d.pg = pg
	if code, body := probe(t, d.probes, "/readyz"); code != http.StatusOK {
		// The probe pings at once: a pool connection made before the crash may fail first.
		eventuallyWithin(t, 10*time.Second, "/readyz once PostgreSQL is back", func() error {
			if code, body = probe(t, d.probes, "/readyz"); code != http.StatusOK {
				return fmt.Errorf("%d %s", code, body)
			}
			return nil
		})
	}
	return time.Since(stopped)
}

// waitSaysDatabaseDown waits until every live resource says PostgreSQL is unavailable,
// with a message a person can act on and the generation it describes.
func (d *drill) waitSaysDatabaseDown(t *testing.T) {
	t.Helper()
	// Half the periodic refresh: it is the operator's watch on PostgreSQL that tells them.
	eventuallyWithin(t, 15*time.Second, "every resource saying the database is down", func() error {
		objs, err := d.liveObjects()
		if err != nil {
			return err
		}
		for _, o := range objs {
			conds, observed := statusOf(o)
			ready := meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
			if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != v1alpha1.ReasonDatabaseUnavailable {
				return fmt.Errorf("%T %s/%s: Ready %+v", o, o.GetNamespace(), o.GetName(), ready)
			}
			if !strings.Contains(ready.Message, "PostgreSQL could not be reached") || ready.ObservedGeneration != o.GetGeneration() || observed != o.GetGeneration() {
				return fmt.Errorf("%T %s/%s at generation %d: Ready %+v, status.observedGeneration %d", o, o.GetNamespace(), o.GetName(), o.GetGeneration(), ready, observed)
			}
			if tn, ok := o.(*v1alpha1.Tenant); ok {
				db := meta.FindStatusCondition(tn.Status.Conditions, v1alpha1.ConditionDatabaseReady)
				if db == nil || db.Status != metav1.ConditionFalse || db.Reason != v1alpha1.ReasonDatabaseUnavailable {
					return fmt.Errorf("Tenant %s: DatabaseReady %+v", tn.Name, db)
				}
			}
		}
		return nil
	})
}

// leaderLost runs an operator with leader election, takes the API server away for
// longer than the lease's renew deadline, and checks that the operator stops with
// "leader election lost" (its process exits and Kubernetes restarts it) rather than
// reconciling without the lease; the operator that replaces it converges.
func (d *drill) leaderLost(t *testing.T) {
	d.op.Stop(t)
	elect := ctrl.Options{
		LeaderElection:                true,
		LeaderElectionID:              "switchboard-operator-drill.supervision.switchboard.dev",
		LeaderElectionNamespace:       "default",
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 ptr.To(3 * time.Second),
		RenewDeadline:                 ptr.To(2 * time.Second),
		RetryPeriod:                   ptr.To(200 * time.Millisecond),
	}
	leader := startOperatorWith(t, d.kube, d.url, elect)
	eventually(t, "the operator elected", func() error {
		select {
		case <-leader.mgr.Elected():
			return nil
		default:
			return fmt.Errorf("not yet")
		}
	})
	scenario := d.createBatch(t, 1)
	if err := d.kube.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	select {
	case err := <-leader.done:
		leader.stopped = true
		if err == nil || !strings.Contains(err.Error(), "leader election lost") {
			t.Fatalf("the operator stopped with %v; want leader election lost", err)
		}
		t.Logf("the leader stopped %v after the API server: %v", time.Since(stopped).Round(10*time.Millisecond), err)
	case <-time.After(30 * time.Second):
		t.Fatal("the operator still runs 30s after losing the API server, past its 2s renew deadline")
	}
	if err := d.kube.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	down := time.Since(stopped)
	back := time.Now()
	d.op = startOperatorWith(t, d.kube, d.url, elect)
	objects := d.waitConverged(t, "after the API server came back, under a new leader")
	converged := time.Since(back)
	rows := d.audit(t)
	d.results = append(d.results, drillResult{fault: "API server", scenario: "leader elected, " + scenario, down: down, converged: converged, objects: objects, rows: rows})
}

// createBatch declares n tenants, each with two units, three agents and two objectives,
// in the order a person would: the tenants, then the rest once their namespaces exist.
func (d *drill) createBatch(t *testing.T, n int) string {
	t.Helper()
	var tenants, rest []client.Object
	for range n {
		d.created++
		name := fmt.Sprintf("drill-%d", d.created)
		policy := v1alpha1.DeletionPolicyDelete
		if d.created%2 == 0 {
			policy = v1alpha1.DeletionPolicyRetain
		}
		objs := objects(t, []byte(fmt.Sprintf(drillConfig, name, policy)))
		tenants, rest = append(tenants, objs[0]), append(rest, objs[1:]...)
		d.tenants = append(d.tenants, name)
	}
	ctx := context.Background()
	for _, o := range tenants {
		if err := d.kube.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range rest {
		// Right after the API server came back, the operator's watches may still be
		// reconnecting (client-go's backoff): the new Tenant is seen when they are.
		eventuallyWithin(t, convergeWithin, "namespace "+o.GetNamespace(), func() error {
			return d.kube.Client.Get(ctx, client.ObjectKey{Name: o.GetNamespace()}, &corev1.Namespace{})
		})
		if err := d.kube.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprintf("creating %d tenants (%d resources)", n, len(tenants)+len(rest))
}

const drillConfig = `apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: %[1]s}
spec: {displayName: Drill, deletionPolicy: %[2]s}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: %[1]s}
spec: {supervisors: [{name: sam, permissions: [Supervise, AllChats]}, {name: sue, permissions: [SuperviseOpenChats]}]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: %[1]s}
spec: {supervisors: [{name: sam, permissions: [Supervise]}]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: %[1]s}
spec: {agent: ann, businessUnits: [sales, support], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: bo, namespace: %[1]s}
spec: {agent: bo, businessUnits: [support], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cy, namespace: %[1]s}
spec: {agent: cy, businessUnits: [sales], maxConversations: 4}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: first-response, namespace: %[1]s}
spec: {scope: {businessUnit: sales}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: handling, namespace: %[1]s}
spec: {metric: handlingDuration, target: 10m, warning: 15m, critical: 25m}`

// changeAndDelete changes the two newest tenants (a capacity, a unit's supervisors, an
// objective's target, the display name), deletes an agent and an objective of each and
// adds another agent, and deletes the oldest tenant whole.
func (d *drill) changeAndDelete(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	changed := d.tenants[len(d.tenants)-2:]
	for _, name := range changed {
		var tn v1alpha1.Tenant
		d.update(t, client.ObjectKey{Name: name}, &tn, func() { tn.Spec.DisplayName += "+" })
		var a v1alpha1.AgentCapacity
		d.update(t, client.ObjectKey{Namespace: name, Name: "ann"}, &a, func() { a.Spec.MaxConversations = a.Spec.MaxConversations%9 + 1 })
		var u v1alpha1.BusinessUnit
		d.update(t, client.ObjectKey{Namespace: name, Name: "sales"}, &u, func() {
			if len(u.Spec.Supervisors) > 1 {
				u.Spec.Supervisors = u.Spec.Supervisors[:1]
			} else {
				u.Spec.Supervisors = append(u.Spec.Supervisors, v1alpha1.Supervisor{Name: "sue", Permissions: []v1alpha1.Permission{v1alpha1.PermissionSuperviseOpenChats}})
			}
		})
		var o v1alpha1.ProductivityObjective
		d.update(t, client.ObjectKey{Namespace: name, Name: "first-response"}, &o, func() {
			o.Spec.Target = map[string]string{"30s": "20s", "20s": "30s"}[o.Spec.Target]
		})
		for _, gone := range []client.Object{
			&v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "bo"}},
			&v1alpha1.ProductivityObjective{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "handling"}},
		} {
			if err := client.IgnoreNotFound(d.kube.Client.Delete(ctx, gone)); err != nil {
				t.Fatal(err)
			}
		}
		d.created++
		agent := fmt.Sprintf("dee-%d", d.created)
		if err := d.kube.Client.Create(ctx, &v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: agent},
			Spec: v1alpha1.AgentCapacitySpec{Agent: agent, BusinessUnits: []string{"support"}, MaxConversations: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	oldest := d.tenants[0]
	var tn v1alpha1.Tenant
	if err := d.kube.Client.Get(ctx, client.ObjectKey{Name: oldest}, &tn); err != nil {
		t.Fatal(err)
	}
	if tn.Spec.DeletionPolicy == v1alpha1.DeletionPolicyRetain {
		d.retained[oldest] = true
	}
	if err := d.kube.Client.Delete(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	d.tenants = d.tenants[1:]
	return fmt.Sprintf("changing 2 tenants, deleting %s (%s)", oldest, tn.Spec.DeletionPolicy)
}

// update changes a resource, retrying on conflicts with the operator's writes.
func (d *drill) update(t *testing.T, key client.ObjectKey, obj client.Object, change func()) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := d.kube.Client.Get(context.Background(), key, obj); err != nil {
			return err
		}
		change()
		return d.kube.Client.Update(context.Background(), obj)
	})
	if err != nil {
		t.Fatalf("changing %s: %v", key, err)
	}
}

// liveObjects lists the live tenants and the resources in their namespaces. Resources
// of a deleted tenant stay in envtest, which runs no garbage collector; a cluster's
// deletes them with the namespace the Tenant owns.
func (d *drill) liveObjects() ([]client.Object, error) {
	ctx := context.Background()
	var out []client.Object
	for _, name := range d.tenants {
		tn := &v1alpha1.Tenant{}
		if err := d.kube.Client.Get(ctx, client.ObjectKey{Name: name}, tn); err != nil {
			return nil, err
		}
		out = append(out, tn)
		for _, list := range []client.ObjectList{&v1alpha1.BusinessUnitList{}, &v1alpha1.AgentCapacityList{}, &v1alpha1.ProductivityObjectiveList{}} {
			if err := d.kube.Client.List(ctx, list, client.InNamespace(name)); err != nil {
				return nil, err
			}
			items, err := meta.ExtractList(list)
			if err != nil {
				return nil, err
			}
			for _, item := range items {
				out = append(out, item.(client.Object))
			}
		}
	}
	return out, nil
}

// waitConverged waits until the deleted tenants are gone and every live resource is
// Ready at its current generation, nothing still being deleted; it returns how many
// resources that is.
func (d *drill) waitConverged(t *testing.T, when string) int {
	t.Helper()
	var n int
	eventuallyWithin(t, convergeWithin, "everything Ready "+when, func() error {
		ctx := context.Background()
		var all v1alpha1.TenantList
		if err := d.kube.Client.List(ctx, &all); err != nil {
			return err
		}
		for _, tn := range all.Items {
			if !slices.Contains(d.tenants, tn.Name) {
				return fmt.Errorf("deleted Tenant %s still there (finalizers %v)", tn.Name, tn.Finalizers)
			}
		}
		objs, err := d.liveObjects()
		if err != nil {
			return err
		}
		for _, o := range objs {
			if !o.GetDeletionTimestamp().IsZero() {
				return fmt.Errorf("%T %s/%s still being deleted", o, o.GetNamespace(), o.GetName())
			}
			conds, observed := statusOf(o)
			ready := meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
			if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != v1alpha1.ReasonReconciled ||
				ready.ObservedGeneration != o.GetGeneration() || observed != o.GetGeneration() {
				return fmt.Errorf("%T %s/%s at generation %d: Ready %+v", o, o.GetNamespace(), o.GetName(), o.GetGeneration(), ready)
			}
			if tn, ok := o.(*v1alpha1.Tenant); ok {
				for _, c := range []string{v1alpha1.ConditionDatabaseReady, v1alpha1.ConditionMonitoringReady} {
					if !meta.IsStatusConditionTrue(tn.Status.Conditions, c) {
						return fmt.Errorf("Tenant %s: %s %+v", tn.Name, c, meta.FindStatusCondition(tn.Status.Conditions, c))
					}
				}
			}
		}
		n = len(objs)
		return nil
	})
	return n
}

// audit checks, as the schema owner, that PostgreSQL holds exactly the rows the live
// resources declare (and the rows of tenants deleted with Retain), one of each, none of
// deleted resources; and that the Kubernetes objects the operator makes exist once per
// tenant, owned by it, with none left unowned. It returns how many rows it checked.
func (d *drill) audit(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows := 0
	query := func(sql string, args ...any) []string {
		t.Helper()
		r, err := conn.Query(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		out, err := pgx.CollectRows(r, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		rows += len(out)
		slices.Sort(out)
		return out
	}
	expect := func(what string, got, want []string) {
		t.Helper()
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the database holds %q; the resources declare %q", what, got, want)
		}
	}

	want := slices.Clone(d.tenants)
	for name := range d.retained {
		want = append(want, name)
	}
	expect("tenants", query(`SELECT name FROM tenants`), want)
	// Nothing of a deleted tenant is left, in any table.
	tables := query(`SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND table_type = 'BASE TABLE' AND c.table_name <> 'tenants'`)
	for _, table := range tables {
		var orphans int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()+` WHERE tenant_id NOT IN (SELECT tenant_id FROM tenants)`).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if orphans > 0 {
			t.Errorf("%d rows of %s belong to no tenant", orphans, table)
		}
	}

	for _, name := range d.tenants {
		var tn v1alpha1.Tenant
		if err := d.kube.Client.Get(ctx, client.ObjectKey{Name: name}, &tn); err != nil {
			t.Fatal(err)
		}
		var units v1alpha1.BusinessUnitList
		var agents v1alpha1.AgentCapacityList
		var objectives v1alpha1.ProductivityObjectiveList
		for _, list := range []client.ObjectList{&units, &agents, &objectives} {
			if err := d.kube.Client.List(ctx, list, client.InNamespace(name)); err != nil {
				t.Fatal(err)
			}
		}
		var wantUnits, wantGrants, wantAgents, wantMemberships, wantObjectives []string
		for _, u := range units.Items {
			wantUnits = append(wantUnits, u.Name)
			for _, s := range u.Spec.Supervisors {
				wantGrants = append(wantGrants, fmt.Sprintf("%s %s %v %v %v", u.Name, s.Name, slices.Contains(s.Permissions, v1alpha1.PermissionSupervise),
					slices.Contains(s.Permissions, v1alpha1.PermissionSuperviseOpenChats), slices.Contains(s.Permissions, v1alpha1.PermissionAllChats)))
			}
		}
		for _, a := range agents.Items {
			wantAgents = append(wantAgents, fmt.Sprintf("%s %d", a.Spec.Agent, a.Spec.MaxConversations))
			for _, u := range a.Spec.BusinessUnits {
				wantMemberships = append(wantMemberships, a.Spec.Agent+" "+u)
			}
		}
		for _, o := range objectives.Items {
			row, err := provisionRow(&o)
			if err != nil {
				t.Fatal(err)
			}
			wantObjectives = append(wantObjectives, row)
		}
		of := `JOIN tenants t USING (tenant_id) WHERE t.name = $1`
		expect(name+": business units", query(`SELECT u.name FROM business_units u `+of, name), wantUnits)
		expect(name+": supervisor grants", query(`SELECT concat_ws(' ', u.name, s.username, s.supervise, s.supervise_open_chats, s.all_chats)
			FROM supervisor_units s JOIN business_units u USING (tenant_id, unit_id) `+of, name), boolWords(wantGrants))
		expect(name+": agents", query(`SELECT a.name || ' ' || a.capacity FROM agents a `+of, name), wantAgents)
		expect(name+": agents' units", query(`SELECT a.name || ' ' || u.name FROM agent_units au JOIN agents a USING (tenant_id, agent_id)
			JOIN business_units u USING (tenant_id, unit_id) `+of, name), wantMemberships)
		expect(name+": objectives", query(`SELECT concat_ws(' ', o.name, coalesce(u.name, '-'), o.metric, o.target, o.warning, o.critical)
			FROM objectives o LEFT JOIN business_units u USING (tenant_id, unit_id) `+of, name), wantObjectives)

		// One admin, whose password is the Secret's; one live operator key, the Secret's.
		var id uuid.UUID
		var widgetKey string
		if err := conn.QueryRow(ctx, `SELECT tenant_id, widget_key FROM tenants WHERE name = $1`, name).Scan(&id, &widgetKey); err != nil {
			t.Fatal(err)
		}
		if tn.Status.WidgetKey != widgetKey {
			t.Errorf("%s: status.widgetKey %q, the database's %q", name, tn.Status.WidgetKey, widgetKey)
		}
		var admin, key corev1.Secret
		for _, s := range []struct {
			name string
			into *corev1.Secret
		}{{controllers.AdminSecret, &admin}, {controllers.APIKeySecret, &key}} {
			if err := d.kube.Client.Get(ctx, client.ObjectKey{Namespace: name, Name: s.name}, s.into); err != nil {
				t.Fatalf("%s: Secret %s: %v", name, s.name, err)
			}
		}
		accounts := query(`SELECT username || ' ' || role FROM accounts a `+of, name)
		expect(name+": accounts", accounts, []string{"admin admin"})
		var hash string
		if err := conn.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE tenant_id = $1 AND username = 'admin'`, id).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !auth.CheckPassword(hash, string(admin.Data[corev1.BasicAuthPasswordKey])) {
			t.Errorf("%s: the admin account does not take the password of Secret %s", name, controllers.AdminSecret)
		}
		keyHash, ok := auth.HashAPIKey(id, string(key.Data[controllers.APIKeySecretKey]))
		if !ok {
			t.Fatalf("%s: Secret %s holds no API key of the tenant", name, controllers.APIKeySecret)
		}
		live := query(`SELECT k.name || ' ' || (k.secret_hash = $2) FROM api_keys k JOIN tenants t USING (tenant_id) WHERE t.name = $1 AND k.revoked_at IS NULL`, name, keyHash)
		expect(name+": live API keys (and whether they are the Secret's)", live, []string{"switchboard-operator true"})

		d.auditOwned(t, &tn)
	}
	d.auditNoOrphans(t)
	return rows
}

// provisionRow is an objective's row as the audit reads it: name, unit, metric and
// thresholds in seconds.
func provisionRow(o *v1alpha1.ProductivityObjective) (string, error) {
	seconds := func(s string) (string, error) {
		dur, err := time.ParseDuration(s)
		if err != nil {
			return "", err
		}
		return strconv.FormatFloat(dur.Seconds(), 'f', -1, 64), nil
	}
	parts := []string{o.Name, o.Spec.Scope.BusinessUnit, string(o.Spec.Metric)}
	if parts[1] == "" {
		parts[1] = "-"
	}
	for _, v := range []string{o.Spec.Target, o.Spec.Warning, o.Spec.Critical} {
		s, err := seconds(v)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " "), nil
}

// boolWords writes Go's true and false as PostgreSQL's text of booleans (t and f).
func boolWords(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strings.NewReplacer(" true", " t", " false", " f").Replace(x)
	}
	return out
}

// auditOwned checks the Kubernetes objects a tenant gets: its namespace, the admin and
// API key Secrets, the dashboard ConfigMap and the PrometheusRule, each owned by it.
func (d *drill) auditOwned(t *testing.T, tn *v1alpha1.Tenant) {
	t.Helper()
	ctx := context.Background()
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.Name}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tn.Name, Name: controllers.AdminSecret}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tn.Name, Name: controllers.APIKeySecret}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: tn.Name, Name: controllers.DashboardConfigMapName}},
		&monitoringv1.PrometheusRule{ObjectMeta: metav1.ObjectMeta{Namespace: tn.Name, Name: controllers.PrometheusRuleName}},
	} {
		if err := d.kube.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
			t.Errorf("tenant %s: %T %s: %v", tn.Name, o, o.GetName(), err)
			continue
		}
		owners := o.GetOwnerReferences()
		if len(owners) != 1 || owners[0].Kind != "Tenant" || owners[0].UID != tn.UID {
			t.Errorf("tenant %s: %T %s is owned by %+v; want the Tenant (uid %s) alone", tn.Name, o, o.GetName(), owners, tn.UID)
		}
	}
}

// auditNoOrphans checks that every object the operator labelled for a tenant has a
// Tenant owner: the live Tenant of that name, or a deleted one whose objects the
// garbage collector removes (envtest runs none).
func (d *drill) auditNoOrphans(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	uids := map[string]string{}
	var all v1alpha1.TenantList
	if err := d.kube.Client.List(ctx, &all); err != nil {
		t.Fatal(err)
	}
	for _, tn := range all.Items {
		uids[tn.Name] = string(tn.UID)
	}
	for _, list := range []client.ObjectList{&corev1.NamespaceList{}, &corev1.SecretList{}, &corev1.ConfigMapList{}, &monitoringv1.PrometheusRuleList{}} {
		if err := d.kube.Client.List(ctx, list, client.HasLabels{controllers.LabelTenant}); err != nil {
			t.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range items {
			o := item.(client.Object)
			tenant := o.GetLabels()[controllers.LabelTenant]
			owners := o.GetOwnerReferences()
			if len(owners) != 1 || owners[0].Kind != "Tenant" || owners[0].Name != tenant {
				t.Errorf("%T %s/%s of tenant %s has owners %+v; want that Tenant, so that it goes with it", o, o.GetNamespace(), o.GetName(), tenant, owners)
				continue
			}
			if uid, live := uids[tenant]; live && string(owners[0].UID) != uid {
				t.Errorf("%T %s/%s is owned by an earlier Tenant %s (uid %s, now %s)", o, o.GetNamespace(), o.GetName(), tenant, owners[0].UID, uid)
			}
		}
	}
}

// statusOf reads a resource's conditions and observed generation.
func statusOf(o client.Object) ([]metav1.Condition, int64) {
	switch o := o.(type) {
	case *v1alpha1.Tenant:
		return o.Status.Conditions, o.Status.ObservedGeneration
	case *v1alpha1.BusinessUnit:
		return o.Status.Conditions, o.Status.ObservedGeneration
	case *v1alpha1.AgentCapacity:
		return o.Status.Conditions, o.Status.ObservedGeneration
	case *v1alpha1.ProductivityObjective:
		return o.Status.Conditions, o.Status.ObservedGeneration
	}
	panic(fmt.Sprintf("%T", o))
}

// eventuallyWithin is eventually with a bound of its own.
func eventuallyWithin(t *testing.T, within time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s, within %v: %v", what, within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// probe asks the operator's health probe server.
func probe(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + addr + path + "?verbose")
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
