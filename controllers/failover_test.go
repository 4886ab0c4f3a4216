package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/store"
)

const restartConfig = `apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: %[1]s}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: %[1]s}
spec: {supervisors: [{name: sam, permissions: [Supervise, AllChats]}, {name: sue, permissions: [SuperviseOpenChats]}]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: %[1]s}
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
kind: ProductivityObjective
metadata: {name: first-response, namespace: %[1]s}
spec: {scope: {businessUnit: sales}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m}`

// rowCounts are the rows a tenant's configuration makes.
func rowCounts(t *testing.T, o *operator, tenant string) string {
	t.Helper()
	var s string
	err := o.db.QueryRow(context.Background(), `SELECT concat_ws(' ',
		(SELECT count(*) FROM tenants WHERE name = $1),
		(SELECT count(*) FROM business_units u JOIN tenants t USING (tenant_id) WHERE t.name = $1),
		(SELECT count(*) FROM agents a JOIN tenants t USING (tenant_id) WHERE t.name = $1),
		(SELECT count(*) FROM agent_units a JOIN tenants t USING (tenant_id) WHERE t.name = $1),
		(SELECT count(*) FROM supervisor_units s JOIN tenants t USING (tenant_id) WHERE t.name = $1),
		(SELECT count(*) FROM objectives s JOIN tenants t USING (tenant_id) WHERE t.name = $1))`, tenant).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAManagerStoppedMidReconcileConvergesWithoutDuplicates stops the operator while it is
// working through a tenant's resources, starts another on the same database, and checks
// that everything becomes Ready with exactly one row per declared thing.
func TestAManagerStoppedMidReconcileConvergesWithoutDuplicates(t *testing.T) {
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	for i, stopAfter := range []time.Duration{0, 30 * time.Millisecond, 150 * time.Millisecond} {
		name := fmt.Sprintf("restart-%d", i)
		t.Run(fmt.Sprintf("stopped %v after the resources were created", stopAfter), func(t *testing.T) {
			first := startOperatorOn(t, url, ctrl.Options{})
			objs := objects(t, []byte(fmt.Sprintf(restartConfig, name)))
			apply(t, objs...)
			time.Sleep(stopAfter)
			first.Stop(t)

			second := startOperatorOn(t, url, ctrl.Options{})
			for _, o := range objs {
				waitCondition(t, o, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
			}
			// tenant, units, agents, agent memberships, supervisor grants, objectives
			if got, want := rowCounts(t, second, name), "1 2 2 3 2 1"; got != want {
				t.Fatalf("rows after the restart: %s; want %s", got, want)
			}
		})
	}
}

// TestTwoManagersElectOneLeader runs two operators with leader election: one reconciles,
// and when it stops the other takes over.
func TestTwoManagersElectOneLeader(t *testing.T) {
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	elect := ctrl.Options{
		LeaderElection:                true,
		LeaderElectionID:              "switchboard-operator-test.supervision.switchboard.dev",
		LeaderElectionNamespace:       "default",
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 ptr.To(3 * time.Second),
		RenewDeadline:                 ptr.To(2 * time.Second),
		RetryPeriod:                   ptr.To(200 * time.Millisecond),
	}
	a := startOperatorOn(t, url, elect)
	b := startOperatorOn(t, url, elect)
	elected := func(o *operator) bool {
		select {
		case <-o.mgr.Elected():
			return true
		default:
			return false
		}
	}
	eventually(t, "a leader", func() error {
		if !elected(a) && !elected(b) {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	leader, standby := a, b
	if elected(b) {
		leader, standby = b, a
	}
	time.Sleep(time.Second)
	if elected(standby) {
		t.Fatal("both managers lead at once")
	}

	one := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "led-by-one"}}
	apply(t, one)
	waitCondition(t, one, metav1.ConditionTrue, v1alpha1.ReasonReconciled)

	leader.Stop(t)
	eventually(t, "the standby taking over", func() error {
		if !elected(standby) {
			return fmt.Errorf("not elected")
		}
		return nil
	})
	two := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "led-by-the-other"}}
	apply(t, two)
	waitCondition(t, two, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	var n int
	if err := standby.db.QueryRow(context.Background(), `SELECT count(*) FROM tenants WHERE name IN ('led-by-one', 'led-by-the-other')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d of the two tenants have rows", n)
	}
}
