package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/controllers"
)

// TestEachTenantGetsAGrafanaDashboard checks the ConfigMap Grafana's sidecar loads: the
// board's panels as a dashboard whose queries read the tenant's series only, owned by the
// Tenant, put back when someone deletes it.
func TestEachTenantGetsAGrafanaDashboard(t *testing.T) {
	startOperator(t)
	ctx := context.Background()
	tenant := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "charted"}}
	apply(t, tenant)
	waitCondition(t, tenant, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	var cm corev1.ConfigMap
	key := client.ObjectKey{Namespace: tenant.Name, Name: controllers.DashboardConfigMapName}
	eventually(t, "the dashboard ConfigMap", func() error { return kube.Client.Get(ctx, key, &cm) })
	if cm.Labels["grafana_dashboard"] != "1" || cm.Labels[controllers.LabelTenant] != tenant.Name {
		t.Errorf("labels %v", cm.Labels)
	}
	if owner := metav1.GetControllerOf(&cm); owner == nil || owner.Kind != "Tenant" || owner.UID != tenant.UID {
		t.Errorf("owner %+v, want the Tenant", owner)
	}
	var dashboard struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	data := cm.Data["switchboard-charted.json"]
	if err := json.Unmarshal([]byte(data), &dashboard); err != nil {
		t.Fatalf("the dashboard is not JSON: %v\n%s", err, data)
	}
	if !strings.Contains(dashboard.Title, tenant.Name) || len(dashboard.Panels) == 0 {
		t.Fatalf("dashboard %q with %d panels", dashboard.Title, len(dashboard.Panels))
	}
	for _, p := range dashboard.Panels {
		for _, target := range p.Targets {
			if strings.Contains(target.Expr, "switchboard_") && !strings.Contains(target.Expr, `tenant="charted"`) {
				t.Errorf("panel %q reads beyond the tenant: %s", p.Title, target.Expr)
			}
		}
	}

	if err := kube.Client.Delete(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted dashboard put back", func() error {
		var again corev1.ConfigMap
		if err := kube.Client.Get(ctx, key, &again); err != nil {
			return err
		}
		if again.UID == cm.UID {
			return fmt.Errorf("still the deleted one")
		}
		return nil
	})
}
