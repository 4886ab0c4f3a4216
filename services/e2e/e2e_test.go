// Package e2e_test runs Switchboard with the real Prometheus and Alertmanager (Debian's
// packages) on loopback: Prometheus scrapes `serve`, evaluates the rules the operator
// generates for a tenant's objectives, Alertmanager sends the firing alert to serve's
// webhook, and the signal reaches a supervisor.
package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

// A satisfaction objective of 80%: two thumbs down out of two ratings miss it badly.
const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, businessUnits: [sales], maxConversations: 5}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: happy-visitors, namespace: acme}
spec: {scope: {businessUnit: sales}, metric: satisfaction, target: "80", warning: "70", critical: "50", window: 1m}
`

func TestAnObjectiveAlertFromPrometheusReachesTheSupervisor(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const token = "e2e-token"
	serve := env.StartReplica(t, server.Config{AlertmanagerToken: token})
	am := testenv.StartAlertmanager(t, serve.Base+"/alertmanager/webhook", token)
	testenv.StartPrometheus(t, testenv.PrometheusOptions{
		Targets:      []string{strings.TrimPrefix(serve.Base, "http://")},
		RuleFiles:    []string{rulesFor(t, env)},
		Alertmanager: am.URL,
	})

	// Two visitors rate their conversations with a thumb down.
	agent := env.Chat(env.Login(t, "acme", "ann"))
	stream, err := agent.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	for i := range 2 {
		visitor := testenv.Visitor(t, env, "acme", "sales")
		if _, err := agent.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: visitor.Conversation})); err != nil {
			t.Fatal(err)
		}
		if _, err := visitor.Chat.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{
			ConversationId: visitor.Conversation, Thumb: chatv1.Thumb_THUMB_DOWN})); err != nil {
			t.Fatalf("rating %d: %v", i, err)
		}
	}

	sam := env.Supervision(env.Login(t, "acme", "sam"))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := sam.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{ActiveOnly: true}))
		if err != nil {
			t.Fatal(err)
		}
		if s := res.Msg.Signals; len(s) > 0 {
			if s[0].Objective != "happy-visitors" || s[0].Source != supervisionv1.SignalSource_SIGNAL_SOURCE_ALERT || s[0].BusinessUnit != "sales" {
				t.Fatalf("signal: %+v", s[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no signal from Alertmanager within 2 minutes")
		}
		time.Sleep(500 * time.Millisecond)
	}
	_ = fmt.Sprint
}
