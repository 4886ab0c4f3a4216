package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/board"
)

// DashboardConfigMapName is the ConfigMap holding a tenant's Grafana dashboard, in the
// tenant's namespace.
const DashboardConfigMapName = "switchboard-dashboard"

// Grafana's dashboard sidecar (as in kube-prometheus-stack) loads the ConfigMaps with this
// label, and files them in the folder the annotation names where it is set up to read it.
const (
	labelGrafanaDashboard   = "grafana_dashboard"
	annotationGrafanaFolder = "grafana_folder"
	grafanaFolder           = "Switchboard"
)

// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch

// dashboard writes the tenant's Grafana dashboard, the board's panels (services/board) with
// every query fixed to the tenant, as a ConfigMap owned by the Tenant.
func (r *TenantReconciler) dashboard(ctx context.Context, t *v1alpha1.Tenant) error {
	json, err := board.GrafanaDashboard(t.Name)
	if err != nil {
		return fmt.Errorf("making the Grafana dashboard of tenant %q: %w", t.Name, err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: DashboardConfigMapName, Namespace: t.Name}}
	_, err = controllerutil.CreateOrUpdate(ctx, r.Client, cm, func() error {
		if cm.Labels == nil {
			cm.Labels = map[string]string{}
		}
		cm.Labels[LabelTenant] = t.Name
		cm.Labels[labelGrafanaDashboard] = "1"
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations[annotationGrafanaFolder] = grafanaFolder
		cm.Data = map[string]string{"switchboard-" + t.Name + ".json": string(json)}
		return controllerutil.SetControllerReference(t, cm, r.Scheme())
	})
	if err != nil {
		return fmt.Errorf("writing the Grafana dashboard ConfigMap of tenant %q: %w", t.Name, err)
	}
	return nil
}
