package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	dto "github.com/prometheus/client_model/go"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/controllers"
)

// monitoringCondition waits for a Tenant's MonitoringReady condition with the given status
// and reason, for up to wait (a CRD installed after the start is found within two periodic
// reconciles, 30s each).
func monitoringCondition(t *testing.T, tenant *v1alpha1.Tenant, status metav1.ConditionStatus, reason string, wait time.Duration) *metav1.Condition {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		c, err := condition(t, tenant, v1alpha1.ConditionMonitoringReady)
		if err == nil && c.Status == status && c.Reason == reason {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("Tenant %s MonitoringReady=%s (%s): %v %+v", tenant.Name, status, reason, err, c)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// installPrometheusRuleCRD plays installing prometheus-operator in the test's API server,
// and removes the CRD when the test ends.
func installPrometheusRuleCRD(t *testing.T) {
	t.Helper()
	crds, err := envtest.InstallCRDs(kube.Env.Config, envtest.CRDInstallOptions{Paths: []string{"testdata/crds"}, ErrorIfPathMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := envtest.UninstallCRDs(kube.Env.Config, envtest.CRDInstallOptions{CRDs: crds}); err != nil {
			t.Errorf("removing the PrometheusRule CRD: %v", err)
		}
		eventually(t, "the PrometheusRule CRD gone", func() error {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := kube.Client.Get(context.Background(), client.ObjectKey{Name: crds[0].Name}, &crd); err == nil {
				return fmt.Errorf("still there")
			}
			return nil
		})
	})
}

// prometheusRule reads the tenant's PrometheusRule and its rules by record or alert name
// with their expressions.
func prometheusRule(t *testing.T, tenant string) (*monitoringv1.PrometheusRule, map[string][]string, error) {
	t.Helper()
	var pr monitoringv1.PrometheusRule
	if err := kube.Client.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: controllers.PrometheusRuleName}, &pr); err != nil {
		return nil, nil, err
	}
	rules := map[string][]string{}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			name := r.Record + r.Alert
			rules[name] = append(rules[name], r.Expr.String())
		}
	}
	return &pr, rules, nil
}

// TestObjectivesBecomeAPrometheusRuleOnceMonitoringIsInstalled runs the operator on a
// cluster without prometheus-operator, then installs its PrometheusRule CRD: the Tenant
// says monitoring is not installed, then gets a PrometheusRule it owns with its objectives'
// rules, which follows the objectives as they change.
func TestObjectivesBecomeAPrometheusRuleOnceMonitoringIsInstalled(t *testing.T) {
	startOperator(t)
	ctx := context.Background()
	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: watched}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: desk, namespace: watched}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: happy, namespace: watched}
spec: {metric: satisfaction, target: "90", warning: "80", critical: "70"}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: desk-first-response, namespace: watched}
spec: {scope: {businessUnit: desk}, metric: firstResponseTime, target: 30s, warning: 45s, critical: 1m, percent: 90}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: night-team, namespace: watched}
spec: {scope: {agentSelector: {matchLabels: {team: night}}}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m}`))
	apply(t, docs...)
	tenant := docs[0].(*v1alpha1.Tenant)
	happy := docs[2].(*v1alpha1.ProductivityObjective)
	waitCondition(t, tenant, metav1.ConditionTrue, v1alpha1.ReasonReconciled)

	c := monitoringCondition(t, tenant, metav1.ConditionFalse, v1alpha1.ReasonMonitoringNotInstalled, 20*time.Second)
	if !strings.Contains(c.Message, "PrometheusRule is not served") {
		t.Errorf("message %q does not say what is missing", c.Message)
	}
	if _, _, err := prometheusRule(t, tenant.Name); err == nil {
		t.Fatal("a PrometheusRule exists before its CRD")
	}

	installPrometheusRuleCRD(t)
	c = monitoringCondition(t, tenant, metav1.ConditionTrue, v1alpha1.ReasonReconciled, 75*time.Second)
	if !strings.Contains(c.Message, "rules of 2 objectives") || !strings.Contains(c.Message, "night-team: spec.scope.agentSelector") {
		t.Errorf("message %q does not count the objectives or name the one left out", c.Message)
	}
	pr, rules, err := prometheusRule(t, tenant.Name)
	if err != nil {
		t.Fatal(err)
	}
	owner := metav1.GetControllerOf(pr)
	if owner == nil || owner.Kind != "Tenant" || owner.Name != tenant.Name || owner.UID != tenant.UID {
		t.Errorf("owner %+v, want the Tenant (deleting it deletes the rule)", owner)
	}
	if pr.Labels[controllers.LabelTenant] != tenant.Name || pr.Labels["release"] != "test-prometheus" {
		t.Errorf("labels %v", pr.Labels)
	}
	for name, want := range map[string]string{
		"tenant:switchboard_satisfaction:ratio1h":                    `switchboard_ratings_total{tenant="watched"`,
		"SwitchboardSatisfactionLow":                                 `tenant:switchboard_satisfaction:ratio1h{tenant="watched"} < 0.8`,
		"tenant_objective:switchboard_objective_misses:ratio_rate5m": `objective="desk-first-response",business_unit="desk"`,
		"SwitchboardObjectiveBudgetBurn":                             `> 0.6`,
	} {
		if !strings.Contains(strings.Join(rules[name], "\n"), want) {
			t.Errorf("%s: %q, want %s", name, rules[name], want)
		}
	}
	if strings.Contains(fmt.Sprint(rules), "night-team") {
		t.Errorf("the skipped objective has rules: %v", rules)
	}

	// A new warning threshold is in the rule at once (the objective's spec is watched).
	if err := kube.Client.Get(ctx, client.ObjectKeyFromObject(happy), happy); err != nil {
		t.Fatal(err)
	}
	happy.Spec.Warning = "85"
	if err := kube.Client.Update(ctx, happy); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new warning threshold in the PrometheusRule", func() error {
		_, rules, err := prometheusRule(t, tenant.Name)
		if err != nil {
			return err
		}
		if exprs := strings.Join(rules["SwitchboardSatisfactionLow"], "\n"); !strings.Contains(exprs, "< 0.85") || strings.Contains(exprs, "< 0.8\n") {
			return fmt.Errorf("satisfaction alerts %q", exprs)
		}
		return nil
	})

	// A deleted objective's rules go.
	if err := kube.Client.Delete(ctx, happy); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted objective's rules gone", func() error {
		_, rules, err := prometheusRule(t, tenant.Name)
		if err != nil {
			return err
		}
		if len(rules["SwitchboardSatisfactionLow"]) > 0 || len(rules["SwitchboardObjectiveBudgetBurn"]) == 0 {
			return fmt.Errorf("rules %v", rules)
		}
		return nil
	})
}

// TestTheOperatorExportsTenantsAndObjectivesProgress reads the operator's metrics registry
// (what its /metrics serves): tenants by readiness, and an objective's value and attainment
// from its status, until the objective is deleted.
func TestTheOperatorExportsTenantsAndObjectivesProgress(t *testing.T) {
	op := startOperator(t)
	ctx := context.Background()
	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: metered}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: shop, namespace: metered}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: metered}
spec: {agent: ann, businessUnits: [shop], maxConversations: 5}`))
	apply(t, docs...)
	for _, d := range docs {
		waitCondition(t, d, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	}
	// Four conversations answered after 10s, 20s, 25s and 90s; three rated satisfied of four.
	_, err := op.db.Exec(ctx, `WITH t AS (SELECT tenant_id FROM tenants WHERE name = 'metered'),
		v AS (INSERT INTO visitors (tenant_id) SELECT tenant_id FROM t RETURNING tenant_id, visitor_id),
		c AS (INSERT INTO conversations (tenant_id, unit_id, visitor_id, agent_id, state, visitor_token_hash, assigned_at, first_agent_message_at, closed_at)
			SELECT v.tenant_id, u.unit_id, v.visitor_id, a.agent_id, 'closed', '\x00', now() - interval '10 minutes',
			       now() - interval '10 minutes' + make_interval(secs => s), now() - interval '5 minutes'
			FROM v, business_units u, agents a, unnest(ARRAY[10, 20, 25, 90]) s
			WHERE u.tenant_id = v.tenant_id AND a.tenant_id = v.tenant_id
			RETURNING tenant_id, conversation_id, first_agent_message_at - assigned_at AS d)
		INSERT INTO ratings (tenant_id, conversation_id, thumb) SELECT tenant_id, conversation_id,
			CASE WHEN d > interval '60 seconds' THEN 'down' ELSE 'up' END FROM c`)
	if err != nil {
		t.Fatal(err)
	}
	objectives := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: happy, namespace: metered}
spec: {metric: satisfaction, target: "80", warning: "70", critical: "50"}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: first-response, namespace: metered}
spec: {metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m, percent: 90}`))
	apply(t, objectives...)

	// 3 satisfied of 4 is 75% of an 80% goal: 94%; the 90th percentile of first responses
	// is 1m11s, and 3 of 4 within 30s is 83% of a 90% goal.
	want := map[string]float64{
		`switchboard_objective_value{business_unit="",metric="satisfaction",objective="happy",tenant="metered"}`:                          75,
		`switchboard_objective_attainment_ratio{business_unit="",metric="satisfaction",objective="happy",tenant="metered"}`:               0.94,
		`switchboard_objective_value{business_unit="",metric="firstResponseTime",objective="first-response",tenant="metered"}`:            71,
		`switchboard_objective_attainment_ratio{business_unit="",metric="firstResponseTime",objective="first-response",tenant="metered"}`: 0.83,
		`switchboard_tenants{isolation="Pooled",ready="True"}`:                                                                            -1, // at least one
		`switchboard_operator_metrics_read_errors`:                                                                                        0,
	}
	eventually(t, "the objectives' metrics", func() error {
		got := gather(t)
		for name, v := range want {
			g, ok := got[name]
			switch {
			case !ok:
				return fmt.Errorf("no %s in %v", name, got)
			case v < 0 && g < 1, v >= 0 && g != v:
				return fmt.Errorf("%s = %v, want %v", name, g, v)
			}
		}
		return nil
	})

	if err := kube.Client.Delete(ctx, objectives[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted objective's series gone", func() error {
		got := gather(t)
		for name := range got {
			if strings.Contains(name, `objective="happy",tenant="metered"`) {
				return fmt.Errorf("%s is still there", name)
			}
		}
		if _, ok := got[`switchboard_objective_attainment_ratio{business_unit="",metric="firstResponseTime",objective="first-response",tenant="metered"}`]; !ok {
			return fmt.Errorf("the other objective's series went too")
		}
		return nil
	})
}

// gather reads the switchboard_ series of controller-runtime's registry as
// `name{label="value",…}` (labels sorted) to value.
func gather(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "switchboard_") {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := f.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			out[name] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	return m.GetCounter().GetValue()
}

// TestAPrometheusRuleEditedByHandIsRestored starts the operator on a cluster that has the
// PrometheusRule CRD, so that it watches the rules it owns: a rule emptied by hand is
// written again at once, not at the next periodic reconcile.
func TestAPrometheusRuleEditedByHandIsRestored(t *testing.T) {
	installPrometheusRuleCRD(t)
	startOperator(t)
	ctx := context.Background()
	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: guarded}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: busy, namespace: guarded}
spec: {metric: contactsPerHour, target: "6", warning: "4", critical: "2"}`))
	apply(t, docs...)
	tenant := docs[0].(*v1alpha1.Tenant)
	monitoringCondition(t, tenant, metav1.ConditionTrue, v1alpha1.ReasonReconciled, 20*time.Second)
	// The tenant may be reconciled once before its objective is seen: the rule gets the
	// objective's alerts on a reconcile soon after.
	var pr *monitoringv1.PrometheusRule
	var rules map[string][]string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		pr, rules, err = prometheusRule(t, tenant.Name)
		if err == nil && len(rules["SwitchboardContactsPerHourLow"]) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rules %v (%v), want a warning and a critical contacts alert", rules, err)
		}
	}
	pr.Spec.Groups = nil
	if err := kube.Client.Update(ctx, pr); err != nil {
		t.Fatal(err)
	}
	// Well before the periodic reconcile (30s).
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, rules, err := prometheusRule(t, tenant.Name)
		if err == nil && len(rules["SwitchboardContactsPerHourLow"]) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emptied PrometheusRule was not restored within 10s: %v %v", rules, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
