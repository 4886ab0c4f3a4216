package controllers_test

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
)

// TestObjectivesShowTheirProgress seeds conversations with known first responses and
// ratings, and checks the values and attainments the objectives' status shows.
func TestObjectivesShowTheirProgress(t *testing.T) {
	op := startOperator(t)
	ctx := context.Background()
	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globo}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: gym, namespace: globo}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: white, namespace: globo, labels: {team: day}}
spec: {agent: white, businessUnits: [gym], maxConversations: 5}`))
	apply(t, docs...)
	for _, d := range docs {
		waitCondition(t, d, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	}
	// Four conversations answered after 10s, 20s, 25s and 90s; three rated satisfied of four;
	// one (the first) led to a sale.
	_, err := op.db.Exec(ctx, `WITH t AS (SELECT tenant_id FROM tenants WHERE name = 'globo'),
		v AS (INSERT INTO visitors (tenant_id) SELECT tenant_id FROM t RETURNING tenant_id, visitor_id),
		c AS (INSERT INTO conversations (tenant_id, unit_id, visitor_id, agent_id, state, visitor_token_hash, assigned_at, first_agent_message_at, closed_at)
			SELECT v.tenant_id, u.unit_id, v.visitor_id, a.agent_id, 'closed', '\x00', now() - interval '10 minutes',
			       now() - interval '10 minutes' + make_interval(secs => s), now() - interval '5 minutes'
			FROM v, business_units u, agents a, unnest(ARRAY[10, 20, 25, 90]) s
			WHERE u.tenant_id = v.tenant_id AND a.tenant_id = v.tenant_id
			RETURNING tenant_id, conversation_id, unit_id, first_agent_message_at - assigned_at AS d),
		sale AS (INSERT INTO conversions (tenant_id, order_id, amount, currency, conversation_id, unit_id, occurred_at)
			SELECT tenant_id, 'order-1', 19.90, 'EUR', conversation_id, unit_id, now() FROM c WHERE d = interval '10 seconds')
		INSERT INTO ratings (tenant_id, conversation_id, thumb) SELECT tenant_id, conversation_id,
			CASE WHEN d > interval '60 seconds' THEN 'down' ELSE 'up' END FROM c`)
	if err != nil {
		t.Fatal(err)
	}
	// One conversation is past first-response's warning now.
	if _, err := op.db.Exec(ctx, `INSERT INTO signals (tenant_id, objective, metric, level, source, subject, value, threshold)
		SELECT tenant_id, 'first-response', 'firstResponseTime', 'warning', 'live', 'conversation:x', 61, 60 FROM tenants WHERE name = 'globo'`); err != nil {
		t.Fatal(err)
	}
	objectives := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: first-response, namespace: globo}
spec: {scope: {businessUnit: gym, agentSelector: {matchLabels: {team: day}}}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m, percent: 90}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: happy, namespace: globo}
spec: {metric: satisfaction, target: "80", warning: "70", critical: "50"}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: sales, namespace: globo}
spec: {scope: {businessUnit: gym}, metric: conversionRate, target: "50", warning: "20", critical: "10"}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: night-team, namespace: globo}
spec: {scope: {agentSelector: {matchLabels: {team: night}}}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m}`))
	apply(t, objectives...)
	for _, c := range []struct {
		obj                 client.Object
		current, attainment string
		signals             int32
	}{
		// 3 of 4 within 30s is 75%, of a 90% goal: 83%; the 90th percentile is 70.5s, shown as 1m11s.
		{objectives[0], "1m11s", "83%", 1},
		// 3 satisfied of 4 is 75%, of an 80% goal: 94%.
		{objectives[1], "75.0%", "94%", 0},
		// 1 of 4 closed conversations led to a sale: 25%, of a 50% goal: 50%.
		{objectives[2], "25.0%", "50%", 0},
		// Nobody in the night team: nothing measured.
		{objectives[3], "", "", 0},
	} {
		o := c.obj.(*v1alpha1.ProductivityObjective)
		eventually(t, o.Name+"'s progress", func() error {
			if err := kube.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return err
			}
			if o.Status.CurrentValue != c.current || o.Status.Attainment != c.attainment || o.Status.ActiveSignals != c.signals || o.Status.ObservedGeneration != o.Generation {
				return fmt.Errorf("current %q attainment %q signals %d; want %q, %q and %d", o.Status.CurrentValue, o.Status.Attainment, o.Status.ActiveSignals, c.current, c.attainment, c.signals)
			}
			return nil
		})
	}
}
