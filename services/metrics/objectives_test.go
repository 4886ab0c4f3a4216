package metrics_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/metrics"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

const objectivesConfig = config + `
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: happy, namespace: acme}
spec: {metric: satisfaction, target: "80", warning: "70", critical: "50"}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: sales-first-response, namespace: acme}
spec: {scope: {businessUnit: sales}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: night-team, namespace: acme}
spec: {scope: {agentSelector: {matchLabels: {team: night}}}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: globex-happy, namespace: globex}
spec: {metric: satisfaction, target: "80", warning: "70", critical: "50"}
`

func gather(t *testing.T, o *metrics.Objectives) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(o)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range families {
		out[f.GetName()] = f
	}
	return out
}

func TestObjectivesProgressIsExportedAndLeavesWithTheObjective(t *testing.T) {
	env := testenv.Start(t, cluster, objectivesConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ann := env.Chat(env.Login(t, "acme", "ann"))
	stream, err := ann.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	res, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: "sales", FirstMessage: &chatv1.Message{ClientMessageId: "1", Text: "hi"}}))
	if err != nil {
		t.Fatal(err)
	}
	conv := res.Msg.Conversation.Id
	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv})); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv, ClientMessageId: "a1", Text: "hello!"})); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Chat(res.Msg.VisitorToken).RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: conv, Thumb: chatv1.Thumb_THUMB_UP})); err != nil {
		t.Fatal(err)
	}

	o := metrics.NewObjectives(env.Replicas[0].Server.DB)
	if got := gather(t, o); len(got) != 0 {
		t.Fatalf("before the first measure: %v", got)
	}
	if err := o.Measure(ctx); err != nil {
		t.Fatal(err)
	}
	families := gather(t, o)
	objective := func(unit, name, metric string) map[string]string {
		return map[string]string{"tenant": "acme", "business_unit": unit, "objective": name, "metric": metric}
	}
	for _, c := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		// One rating, a thumb up: 100% satisfied against a target of 80.
		{"switchboard_objective_attainment_ratio", objective("", "happy", "satisfaction"), 1},
		{"switchboard_objective_value", objective("", "happy", "satisfaction"), 100},
		// The one first response came within 30s.
		{"switchboard_objective_attainment_ratio", objective("sales", "sales-first-response", "firstResponseTime"), 1},
	} {
		if got, ok := value(families[c.family], c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v); want %v", c.family, c.labels, got, ok, c.want)
		}
	}
	if v, ok := value(families["switchboard_objective_value"], objective("sales", "sales-first-response", "firstResponseTime")); !ok || v < 0 || v > 30 {
		t.Errorf("sales' first response %v s (present %v); want within 30s", v, ok)
	}
	for _, f := range families {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "objective" && (l.GetValue() == "night-team" || l.GetValue() == "globex-happy") {
					t.Errorf("%s: %v has nothing to measure and is exported", f.GetName(), m.Label)
				}
			}
		}
	}

	// A deleted objective and a deleted tenant leave at the next measure.
	if _, err := env.Owner.Exec(ctx, `DELETE FROM objectives WHERE name = 'sales-first-response'`); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Owner.Exec(ctx, `DELETE FROM tenants WHERE name = 'acme'`); err != nil {
		t.Fatal(err)
	}
	if err := o.Measure(ctx); err != nil {
		t.Fatal(err)
	}
	for name, f := range gather(t, o) {
		if len(f.Metric) != 0 {
			t.Errorf("%s still has %v", name, f.Metric)
		}
	}
}
