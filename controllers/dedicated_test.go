package controllers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/controllers"
)

// TestADedicatedTenantGetsItsOwnDatabaseAndServe follows a Dedicated tenant from creation
// to deletion: its own role and migrated database holding its rows (and none in the shared
// one), the connection string in a Secret, a Deployment and Service of `switchboard serve`
// reading it, ServicesReady following the Deployment, and the database dropped on delete.
func TestADedicatedTenantGetsItsOwnDatabaseAndServe(t *testing.T) {
	op := startOperator(t)
	ctx := context.Background()
	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: umbrella}
spec: {isolation: Dedicated, deletionPolicy: Delete}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: research, namespace: umbrella}`))
	tenant, unit := docs[0], docs[1]
	apply(t, tenant)
	// envtest runs no kube-controller-manager, so the Deployment never becomes available
	// by itself: ServicesReady must say so.
	waitCondition(t, tenant, metav1.ConditionFalse, v1alpha1.ReasonDeploymentUnavailable)

	var secret corev1.Secret
	if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: "umbrella", Name: controllers.DatabaseSecret}, &secret); err != nil {
		t.Fatal(err)
	}
	url := string(secret.Data[controllers.DatabaseSecretKey])
	own, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting with the Secret's URL: %v", err)
	}
	defer own.Close(ctx)
	var db, user string
	var rows int
	if err := own.QueryRow(ctx, `SELECT current_database(), current_user, (SELECT count(*) FROM tenants WHERE name = 'umbrella')`).Scan(&db, &user, &rows); err != nil {
		t.Fatal(err)
	}
	if db != "switchboard_umbrella" || user != "switchboard_umbrella" || rows != 1 {
		t.Fatalf("the Secret's URL reaches database %s as %s with %d tenant rows; want switchboard_umbrella, its own role, 1 row", db, user, rows)
	}
	var shared int
	if err := op.db.QueryRow(ctx, `SELECT count(*) FROM tenants WHERE name = 'umbrella'`).Scan(&shared); err != nil {
		t.Fatal(err)
	}
	if shared != 0 {
		t.Fatalf("a Dedicated tenant has %d rows in the shared database", shared)
	}

	var deploy appsv1.Deployment
	if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: "umbrella", Name: controllers.ServeName}, &deploy); err != nil {
		t.Fatal(err)
	}
	c := deploy.Spec.Template.Spec.Containers[0]
	if c.Image != "switchboard:test" || c.Args[0] != "serve" || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.SecretKeyRef.Name != controllers.DatabaseSecret ||
		len(deploy.OwnerReferences) != 1 || deploy.OwnerReferences[0].Name != "umbrella" {
		t.Fatalf("the tenant's Deployment: %+v", deploy)
	}
	if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: "umbrella", Name: controllers.ServeName}, &corev1.Service{}); err != nil {
		t.Fatalf("the tenant's Service: %v", err)
	}

	// What kube-controller-manager would report once the pods are up.
	deploy.Status = appsv1.DeploymentStatus{Replicas: 2, ReadyReplicas: 2, AvailableReplicas: 2, UpdatedReplicas: 2, ObservedGeneration: deploy.Generation}
	if err := kube.Client.Status().Update(ctx, &deploy); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, tenant, metav1.ConditionTrue, v1alpha1.ReasonReconciled)

	apply(t, unit)
	waitCondition(t, unit, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	var units int
	if err := own.QueryRow(ctx, `SELECT count(*) FROM business_units WHERE name = 'research'`).Scan(&units); err != nil {
		t.Fatal(err)
	}
	if units != 1 {
		t.Fatalf("the unit is not in the tenant's own database (%d rows)", units)
	}
	own.Close(ctx)

	if err := kube.Client.Delete(ctx, unit); err != nil {
		t.Fatal(err)
	}
	if err := kube.Client.Delete(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the tenant's database dropped", func() error {
		var n int
		if err := op.db.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = 'switchboard_umbrella'`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("still there")
		}
		return nil
	})
}
