package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	dto "github.com/prometheus/client_model/go"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// acme opts in to per-agent metrics; globex does not.
const perAgentConfig = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec: {perAgentMetrics: true}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, businessUnits: [sales], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: bo, namespace: acme}
spec: {agent: bo, businessUnits: [sales], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: gus, namespace: globex}
spec: {agent: gus, businessUnits: [sales], maxConversations: 3}
`

// agentSeries lists the series with an agent label, as "family{tenant,agent}".
func agentSeries(families map[string]*dto.MetricFamily, tenant string) []string {
	var out []string
	for name, f := range families {
		for _, m := range f.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if _, ok := labels["agent"]; ok && labels["tenant"] == tenant {
				out = append(out, fmt.Sprintf("%s%v", name, labels))
			}
		}
	}
	return out
}

func TestPerAgentSeriesOnlyForTenantsThatOptIn(t *testing.T) {
	env := testenv.Start(t, cluster, perAgentConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chat := func(tenant, agent string) (chatv1connect.ChatServiceClient, string) {
		t.Helper()
		c := env.Chat(env.Login(t, tenant, agent))
		stream, err := c.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stream.Close() })
		if !stream.Receive() {
			t.Fatal(stream.Err())
		}
		res, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: env.Tenants[tenant].WidgetKey, BusinessUnit: "sales", FirstMessage: &chatv1.Message{ClientMessageId: "1", Text: "hi"}}))
		if err != nil || res.Msg.Conversation.GetAgent() != agent {
			t.Fatalf("starting a conversation: %v, %v", res, err)
		}
		if _, err := c.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: res.Msg.Conversation.Id})); err != nil {
			t.Fatal(err)
		}
		return c, res.Msg.Conversation.Id
	}
	ann, annConv := chat("acme", "ann")
	gus, gusConv := chat("globex", "gus")

	families := scrape(t, env.Base)
	agent := func(name, status string) map[string]string {
		l := map[string]string{"tenant": "acme", "agent": name}
		if status != "" {
			l["status"] = status
		}
		return l
	}
	for _, c := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"switchboard_agent_open_conversations", agent("ann", ""), 1},
		{"switchboard_agent_open_conversations", agent("bo", ""), 0},
		{"switchboard_agent_status", agent("ann", "available"), 1},
		{"switchboard_agent_status", agent("ann", "offline"), 0},
		{"switchboard_agent_status", agent("bo", "offline"), 1},
		{"switchboard_agent_status", agent("bo", "available"), 0},
	} {
		if got, ok := value(families[c.family], c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v); want %v", c.family, c.labels, got, ok, c.want)
		}
	}

	for _, c := range []struct {
		client chatv1connect.ChatServiceClient
		conv   string
	}{{ann, annConv}, {gus, gusConv}} {
		for _, id := range []string{"a1", "a2"} {
			if _, err := c.client.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: c.conv, ClientMessageId: id, Text: "hello"})); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.client.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: c.conv})); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("an opted-in tenant's agents' messages and closed conversations are counted", func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			f := scrape(t, env.Base)
			messages, _ := value(f["switchboard_agent_messages_total"], agent("ann", ""))
			closed, _ := value(f["switchboard_agent_conversations_closed_total"], agent("ann", ""))
			_, timed := value(f["switchboard_agent_handling_seconds_total"], agent("ann", ""))
			if messages == 2 && closed == 1 && timed {
				if typ := f["switchboard_agent_messages_total"].GetType(); typ != dto.MetricType_COUNTER {
					t.Errorf("switchboard_agent_messages_total is a %v", typ)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ann: %v messages, %v closed, handling timed %v; want 2, 1, true", messages, closed, timed)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("a tenant without the opt-in has no agent series", func(t *testing.T) {
		if got := agentSeries(scrape(t, env.Base), "globex"); len(got) != 0 {
			t.Fatalf("globex has agent series: %s", strings.Join(got, ", "))
		}
	})

	t.Run("opting out drops the tenant's agent series", func(t *testing.T) {
		env.Apply(t, strings.Replace(perAgentConfig, "spec: {perAgentMetrics: true}", "spec: {perAgentMetrics: false}", 1))
		if got := agentSeries(scrape(t, env.Base), "acme"); len(got) != 0 {
			t.Fatalf("acme opted out and still has agent series: %s", strings.Join(got, ", "))
		}
	})
}
