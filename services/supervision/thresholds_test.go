package supervision_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// thresholdsConfig adds objectives to config: a satisfaction objective of sales, one for
// sales' senior agents only, a tenant-wide first response objective, and globex's own
// satisfaction objective.
const thresholdsConfig = config + `
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: sales-satisfaction, namespace: acme}
spec: {scope: {businessUnit: sales}, metric: satisfaction, target: "90", warning: "80", critical: "60"}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: senior-satisfaction, namespace: acme}
spec: {scope: {businessUnit: sales, agentSelector: {matchLabels: {tier: senior}}}, metric: satisfaction, target: "99", warning: "95", critical: "90"}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: first-response, namespace: acme}
spec: {metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: globex-satisfaction, namespace: globex}
spec: {metric: satisfaction, target: "70", warning: "50", critical: "30"}
`

// thresholdsOf are a board's panel thresholds by panel, each as objective:target/warning/critical.
func thresholdsOf(t *testing.T, c supervisionv1connect.SupervisionServiceClient, unit string) map[string][]*supervisionv1.Threshold {
	t.Helper()
	res, err := c.GetBoard(context.Background(), connect.NewRequest(&supervisionv1.GetBoardRequest{BusinessUnit: unit}))
	if err != nil {
		t.Fatalf("GetBoard %q: %v", unit, err)
	}
	out := map[string][]*supervisionv1.Threshold{}
	for _, p := range res.Msg.Board.Panels {
		out[p.Id] = p.Thresholds
	}
	return out
}

func sameThreshold(got *supervisionv1.Threshold, objective, unit string, higher bool, target, warning, critical float64) bool {
	near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
	return got.Objective == objective && got.BusinessUnit == unit && got.HigherIsBetter == higher && near(got.Target, target) &&
		got.Warning != nil && near(*got.Warning, warning) && got.Critical != nil && near(*got.Critical, critical)
}

func TestTheBoardCarriesTheThresholdsOfTheObjectivesInItsScope(t *testing.T) {
	env := testenv.Start(t, cluster, thresholdsConfig)
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	sue := env.Supervision(env.Login(t, "acme", "sue"))
	admin := env.Supervision(env.Login(t, "acme", "admin"))
	gina := env.Supervision(env.Login(t, "globex", "gina"))

	t.Run("a unit's satisfaction objective gives its satisfaction panel its thresholds, in the panel's unit", func(t *testing.T) {
		for _, unit := range []string{"sales", ""} {
			got := thresholdsOf(t, sam, unit)
			if s := got["satisfaction-today"]; len(s) != 1 || !sameThreshold(s[0], "sales-satisfaction", "sales", true, 0.9, 0.8, 0.6) {
				t.Errorf("sam's board of %q: satisfaction thresholds %v, want sales-satisfaction's 0.9/0.8/0.6 alone (not the senior agents')", unit, s)
			}
			if f := got["first-response"]; len(f) != 1 || !sameThreshold(f[0], "first-response", "", false, 30, 60, 120) {
				t.Errorf("sam's board of %q: first response thresholds %v, want the tenant's 30s/1m/2m, lower is better", unit, f)
			}
			if a := got["agents-by-status"]; len(a) != 0 {
				t.Errorf("a panel no objective measures has thresholds: %v", a)
			}
		}
	})
	t.Run("a supervisor of another unit does not get them", func(t *testing.T) {
		got := thresholdsOf(t, sue, "")
		if s := got["satisfaction-today"]; len(s) != 0 {
			t.Errorf("sue (support) sees satisfaction thresholds %v", s)
		}
		if f := got["first-response"]; len(f) != 1 || f[0].Objective != "first-response" {
			t.Errorf("sue sees first response thresholds %v, want the tenant's", f)
		}
	})
	t.Run("the tenant admin gets every unit's", func(t *testing.T) {
		if s := thresholdsOf(t, admin, "")["satisfaction-today"]; len(s) != 1 || s[0].Objective != "sales-satisfaction" {
			t.Errorf("the admin's satisfaction thresholds %v", s)
		}
	})
	t.Run("another tenant never", func(t *testing.T) {
		got := thresholdsOf(t, gina, "")
		if s := got["satisfaction-today"]; len(s) != 1 || !sameThreshold(s[0], "globex-satisfaction", "", true, 0.7, 0.5, 0.3) {
			t.Errorf("gina's satisfaction thresholds %v, want globex's own alone", s)
		}
		for panel, ts := range got {
			for _, th := range ts {
				if th.Objective != "globex-satisfaction" {
					t.Errorf("gina's panel %s carries acme's objective %s", panel, th.Objective)
				}
			}
		}
	})
}
