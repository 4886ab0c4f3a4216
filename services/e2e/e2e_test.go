// Package e2e_test runs Switchboard with the real Prometheus and Alertmanager (Debian's
// packages) on loopback: Prometheus scrapes `serve` and evaluates the rules generated for
// the tenant's objectives (the rules the operator writes as a PrometheusRule), Alertmanager
// sends the firing alert to serve's webhook, and the signal appears on a supervisor's board
// stream, then clears when the alert resolves.
package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/rules"
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

// 90% of first responses in sales within 1s: a reply after 1.5s misses it, and with every
// observation missed the error budget burns far faster than the critical tier allows. The
// live thresholds (5s, 10s) are not reached, so the only signal is the alert's.
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
metadata: {name: quick-answers, namespace: acme}
spec: {scope: {businessUnit: sales}, metric: firstResponseTime, target: 1s, warning: 5s, critical: 10s, percent: 90}
`

func TestAnObjectiveAlertFromPrometheusReachesTheBoardAndClears(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	var cfg provision.Config
	if err := cfg.Parse("e2e.yaml", []byte(config)); err != nil {
		t.Fatal(err)
	}
	set := rules.Generate("acme", cfg.Objectives)
	ruleFile, err := set.File()
	if err != nil || len(set.Skipped) != 0 {
		t.Fatalf("rules: %v, skipped %v", err, set.Skipped)
	}
	const token = "e2e-token"
	serve := env.StartReplica(t, server.Config{AlertmanagerToken: token})
	am := testenv.StartAlertmanager(t, serve.Base+"/alertmanager/webhook", token)
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{
		// Every replica, as a ServiceMonitor has Prometheus do: each counts what it served.
		Targets:      []string{strings.TrimPrefix(env.Base, "http://"), strings.TrimPrefix(serve.Base, "http://")},
		RuleFiles:    []string{string(ruleFile)},
		Alertmanager: am.URL,
	})

	sam := env.Supervision(env.Login(t, "acme", "sam"))
	board := make(chan *supervisionv1.WatchBoardResponse, 1024)
	stream, err := sam.WatchBoard(ctx, connect.NewRequest(&supervisionv1.WatchBoardRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for stream.Receive() {
			board <- stream.Msg()
		}
	}()

	// Prometheus has the objective's observations (started at zero) before the first one,
	// so that the first miss is an increase.
	waitQuery(t, prom.URL, `switchboard_objective_observations_total{tenant="acme",objective="quick-answers",outcome="missed"}`)

	ann := env.Chat(env.Login(t, "acme", "ann"))
	agent, err := ann.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	if !agent.Receive() {
		t.Fatal(agent.Err())
	}
	widget := chatv1connect.NewChatServiceClient(env.HTTP, env.Base)
	started, err := widget.StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: "sales", VisitorName: "Vera",
		FirstMessage: &chatv1.Message{ClientMessageId: "v1", Text: "hello?"}}))
	if err != nil {
		t.Fatal(err)
	}
	conv := started.Msg.Conversation.Id
	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv})); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv, ClientMessageId: "a1", Text: "Sorry for the wait!"})); err != nil {
		t.Fatal(err)
	}

	raised := waitSignal(t, board, "the alert's signal on the board stream", func(s *supervisionv1.Signal) bool {
		return s.ClearedAt == nil
	})
	if raised.Objective != "quick-answers" || raised.Source != supervisionv1.SignalSource_SIGNAL_SOURCE_ALERT ||
		raised.BusinessUnit != "sales" || raised.Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL || raised.ConversationId != "" {
		t.Fatalf("raised signal: %+v", raised)
	}
	// The board itself lists it as active.
	res, err := sam.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{}))
	if err != nil || len(res.Msg.Board.GetSignals()) != 1 || res.Msg.Board.Signals[0].Id != raised.Id {
		t.Fatalf("the board's active signals: %v, %v", res.Msg.GetBoard().GetSignals(), err)
	}

	// With no miss in the short window the burn rate falls, the alert resolves, and
	// Alertmanager's resolved notification clears the signal.
	cleared := waitSignal(t, board, "the signal cleared on the board stream", func(s *supervisionv1.Signal) bool {
		return s.Id == raised.Id && s.ClearedAt != nil
	})
	if cleared.ClearedAt.AsTime().Before(raised.Since.AsTime()) {
		t.Fatalf("cleared %v before raised %v", cleared.ClearedAt.AsTime(), raised.Since.AsTime())
	}
}

// waitSignal waits up to 3 minutes for a signal on the board stream.
func waitSignal(t *testing.T, board <-chan *supervisionv1.WatchBoardResponse, what string, match func(*supervisionv1.Signal) bool) *supervisionv1.Signal {
	t.Helper()
	timeout := time.After(3 * time.Minute)
	for {
		select {
		case r := <-board:
			if s := r.GetSignal(); s != nil && match(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("no %s within 3 minutes", what)
		}
	}
}

// waitQuery waits until Prometheus answers a query with at least one series.
func waitQuery(t *testing.T, prometheus, query string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := http.Get(prometheus + "/api/v1/query?query=" + url.QueryEscape(query))
		if err == nil {
			var body struct {
				Data struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			err = json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if err == nil && len(body.Data.Result) > 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has no %s after a minute (last error %v)", query, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
