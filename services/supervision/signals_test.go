package supervision_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// signalsConfig: ann (a senior agent) in sales, cat in support, bob in billing. The
// first-response objective that applies is the most specific one: ann's conversations
// follow senior-first-response (agent selector), beating sales-first-response (unit);
// billing's follow billing-first-response; support's the tenant-wide first-response.
const signalsConfig = `
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
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec:
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats]}
    - {name: sue, permissions: [SuperviseOpenChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: billing, namespace: acme}
spec:
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme, labels: {tier: senior}}
spec: {agent: ann, businessUnits: [sales], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, businessUnits: [support], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: bob, namespace: acme}
spec: {agent: bob, businessUnits: [billing], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: first-response, namespace: acme}
spec: {metric: firstResponseTime, target: 300ms, warning: 600ms, critical: 1200ms}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: sales-first-response, namespace: acme}
spec: {scope: {businessUnit: sales}, metric: firstResponseTime, target: 1h, warning: 2h, critical: 3h}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: senior-first-response, namespace: acme}
spec: {scope: {agentSelector: {matchLabels: {tier: senior}}}, metric: firstResponseTime, target: 400ms, warning: 800ms, critical: 1600ms}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: billing-first-response, namespace: acme}
spec: {scope: {businessUnit: billing}, metric: firstResponseTime, target: 200ms, warning: 500ms, critical: 1s}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: reply, namespace: acme}
spec: {metric: responseTime, target: 300ms, warning: 700ms, critical: 1h}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
spec:
  supervisors:
    - {name: gina, permissions: [Supervise, SuperviseOpenChats, AllChats]}
`

func levels(oc *supervisionv1.OpenChat) string {
	var out []string
	for _, s := range oc.Signals {
		out = append(out, s.Objective+"/"+strings.TrimPrefix(s.Level.String(), "SIGNAL_LEVEL_"))
	}
	return strings.Join(out, ",")
}

func TestSignalsAreRaisedEscalatedAndClearedLive(t *testing.T) {
	env := testenv.Start(t, cluster, signalsConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sam := env.Supervision(env.Login(t, "acme", "sam"))

	chats := &collector[*supervisionv1.WatchOpenChatsResponse]{}
	openStream, err := sam.WatchOpenChats(ctx, connect.NewRequest(&supervisionv1.WatchOpenChatsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for openStream.Receive() {
			chats.add(openStream.Msg())
		}
	}()
	chats.wait(t, "the end of the open chats' snapshot", func(r *supervisionv1.WatchOpenChatsResponse) bool { return r.SnapshotDone })
	agents := &collector[*supervisionv1.WatchAgentsResponse]{}
	agentStream, err := sam.WatchAgents(ctx, connect.NewRequest(&supervisionv1.WatchAgentsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for agentStream.Receive() {
			agents.add(agentStream.Msg())
		}
	}()

	ann, _ := agentOnline(t, env, "acme", "ann")
	agentOnline(t, env, "acme", "cat")
	agentOnline(t, env, "acme", "bob")
	sales, salesVisitor, _ := visitorStart(t, env, "sales")
	support, _, _ := visitorStart(t, env, "support")
	billing, _, _ := visitorStart(t, env, "billing")

	// chatWith waits for the chat with exactly these signals, among the updates received
	// since mark was last called.
	from := 0
	mark := func() { chats.mu.Lock(); from = len(chats.got); chats.mu.Unlock() }
	chatWith := func(id, want string) *supervisionv1.OpenChat {
		t.Helper()
		return chats.waitFrom(t, from, "chat "+id+" with signals "+want, func(r *supervisionv1.WatchOpenChatsResponse) bool {
			return !r.Removed && r.Chat != nil && r.Chat.Conversation.Id == id && levels(r.Chat) == want
		}).Chat
	}
	t.Run("the most specific objective applies: agent selector, then unit, then tenant", func(t *testing.T) {
		chatWith(sales.Id, "senior-first-response/CRITICAL")
		chatWith(billing.Id, "billing-first-response/CRITICAL")
		chatWith(support.Id, "first-response/CRITICAL")
	})
	t.Run("a warning comes before its critical signal, with the threshold crossed and a summary", func(t *testing.T) {
		var seen []string
		chats.mu.Lock()
		for _, r := range chats.got {
			if r.Chat != nil && r.Chat.Conversation.Id == sales.Id && len(r.Chat.Signals) > 0 {
				if l := levels(r.Chat); len(seen) == 0 || seen[len(seen)-1] != l {
					seen = append(seen, l)
				}
			}
		}
		chats.mu.Unlock()
		if want := "senior-first-response/WARNING senior-first-response/CRITICAL"; strings.Join(seen, " ") != want {
			t.Fatalf("the sales chat went through %q, want %q", seen, want)
		}
		s := chatWith(sales.Id, "senior-first-response/CRITICAL").Signals[0]
		if s.Metric != "firstResponseTime" || s.Threshold != 1.6 || s.Value <= 1.6 || s.Agent != "ann" || s.BusinessUnit != "sales" ||
			s.Source != supervisionv1.SignalSource_SIGNAL_SOURCE_LIVE || !strings.Contains(s.Summary, "critical above 1.6s") {
			t.Fatalf("critical signal: %+v", s)
		}
	})
	t.Run("the agents list shows the signals of each agent's conversations", func(t *testing.T) {
		agents.wait(t, "ann with a critical signal", func(r *supervisionv1.WatchAgentsResponse) bool {
			return r.Agent.Agent == "ann" && len(r.Agent.Signals) == 1 && r.Agent.Signals[0].Level == supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL
		})
	})

	t.Run("the agent's reply clears the signal, and the history keeps both levels", func(t *testing.T) {
		mark()
		if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: sales.Id})); err != nil {
			t.Fatal(err)
		}
		if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: sales.Id, ClientMessageId: "a1", Text: "Hello!"})); err != nil {
			t.Fatal(err)
		}
		chatWith(sales.Id, "")
		agents.wait(t, "ann without signals", func(r *supervisionv1.WatchAgentsResponse) bool {
			return r.Agent.Agent == "ann" && len(r.Agent.Signals) == 0 && r.Agent.OpenConversations == 1
		})
		history, err := sam.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{ConversationId: sales.Id}))
		if err != nil {
			t.Fatal(err)
		}
		if len(history.Msg.Signals) != 2 {
			t.Fatalf("history of the sales chat: %v", history.Msg.Signals)
		}
		critical, warning := history.Msg.Signals[0], history.Msg.Signals[1]

		if critical.Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL || warning.Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_WARNING ||
			critical.ClearedAt == nil || warning.ClearedAt == nil || warning.ClearedAt.AsTime().After(critical.Since.AsTime()) {
			t.Fatalf("history: critical %+v, warning %+v", critical, warning)
		}
		active, err := sam.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{ActiveOnly: true, BusinessUnit: "sales"}))
		if err != nil || len(active.Msg.Signals) != 0 {
			t.Fatalf("active signals in sales: %v, %v", active.Msg.GetSignals(), err)
		}
	})

	t.Run("a visitor left waiting for a reply raises a response-time signal until answered", func(t *testing.T) {
		mark()
		if _, err := salesVisitor.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: sales.Id, ClientMessageId: "v2", Text: "Are you there?"})); err != nil {
			t.Fatal(err)
		}
		chatWith(sales.Id, "reply/WARNING")
		mark()
		if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: sales.Id, ClientMessageId: "a2", Text: "Yes"})); err != nil {
			t.Fatal(err)
		}
		chatWith(sales.Id, "")
	})

	t.Run("signals are counted in metrics", func(t *testing.T) {
		res, err := http.Get(env.Base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{
			`switchboard_signals_raised_total{business_unit="sales",level="critical",objective="senior-first-response",tenant="acme"} 1`,
			`switchboard_signals_raised_total{business_unit="sales",level="warning",objective="reply",tenant="acme"} 1`,
			`switchboard_signals_active{business_unit="billing",level="critical",objective="billing-first-response",tenant="acme"} 1`,
			`switchboard_conversations_signalled{business_unit="support",level="critical",tenant="acme"} 1`,
			`switchboard_objective_observations_total{business_unit="sales",objective="senior-first-response",outcome="missed"} 1`,
			`switchboard_objective_observations_total{business_unit="sales",objective="reply",outcome="missed"} 1`,
			`switchboard_response_seconds_count{business_unit="sales",tenant="acme"} 2`,
		} {
			if !containsSeries(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(string(body), `switchboard_signals_active{business_unit="sales"`) {
			t.Errorf("/metrics still shows an active signal in sales:\n%s", body)
		}
	})

	t.Run("each supervisor sees only the signals of their units, and never another tenant's", func(t *testing.T) {
		sue := env.Supervision(env.Login(t, "acme", "sue"))
		got, err := sue.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got.Msg.Signals {
			if s.BusinessUnit != "support" {
				t.Errorf("sue sees a signal of %s: %+v", s.BusinessUnit, s)
			}
		}
		if len(got.Msg.Signals) != 2 {
			t.Errorf("sue sees %d signals of support, want the warning and the critical one", len(got.Msg.Signals))
		}
		if _, err := sue.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{BusinessUnit: "sales"})); testenv.Code(err) != connect.CodePermissionDenied {
			t.Errorf("sue asking for sales' signals: %v", err)
		}
		gina := env.Supervision(env.Login(t, "globex", "gina"))
		other, err := gina.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{ConversationId: support.Id}))
		if err != nil || len(other.Msg.Signals) != 0 {
			t.Errorf("another tenant's supervisor reads acme's signals: %v, %v", other.Msg.GetSignals(), err)
		}
	})

	t.Run("closing a conversation clears its signals and removes it from the open chats", func(t *testing.T) {
		if _, err := sam.FinishConversation(ctx, connect.NewRequest(&supervisionv1.FinishConversationRequest{ConversationId: billing.Id})); err != nil {
			t.Fatal(err)
		}
		chats.wait(t, "the billing chat's removal", func(r *supervisionv1.WatchOpenChatsResponse) bool {
			return r.Removed && r.Chat.Conversation.Id == billing.Id
		})
		// The signal is cleared on the engine's next pass.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			active, err := sam.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{ConversationId: billing.Id, ActiveOnly: true}))
			if err != nil {
				t.Fatal(err)
			}
			if len(active.Msg.Signals) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("active signals of a closed chat: %v", active.Msg.Signals)
			}
		}
	})

	t.Run("bad input is refused with the field named", func(t *testing.T) {
		for _, req := range []*supervisionv1.ListSignalsRequest{{Limit: -1}, {ConversationId: "nope"}, {PageToken: "nope"}} {
			_, err := sam.ListSignals(ctx, connect.NewRequest(req))
			if testenv.Code(err) != connect.CodeInvalidArgument {
				t.Errorf("ListSignals(%v): %v", req, err)
			}
		}
	})
}

// waitFrom waits for an item matching, among those received from index from on.
func (c *collector[T]) waitFrom(t *testing.T, from int, what string, match func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		for _, x := range c.got[from:] {
			if match(x) {
				c.mu.Unlock()
				return x
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// containsSeries finds a sample line whatever the order of its labels.
func containsSeries(body, want string) bool {
	name, rest, _ := strings.Cut(want, "{")
	labels, value, _ := strings.Cut(rest, "} ")
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name+"{") || !strings.HasSuffix(line, "} "+value) {
			continue
		}
		ok := true
		for _, l := range strings.Split(labels, ",") {
			if !strings.Contains(line, l) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestAlertmanagerAlertsBecomeSignals posts Alertmanager's webhook payloads to a replica
// and reads the signals as supervisors see them.
func TestAlertmanagerAlertsBecomeSignals(t *testing.T) {
	env := testenv.Start(t, cluster, signalsConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hook := env.StartReplica(t, server.Config{AlertmanagerToken: "s3cret"})
	sam := env.Supervision(env.Login(t, "acme", "sam"))

	post := func(token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, hook.Base+"/alertmanager/webhook", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	one := func(status, tenant, severity string) string {
		return `{"status":"` + status + `",
			"labels":{"alertname":"SwitchboardObjectiveContactsPerHour","tenant":"` + tenant + `","business_unit":"sales","objective":"contacts","metric":"contactsPerHour","severity":"` + severity + `"},
			"annotations":{"summary":"sales handles 2.5 contacts per agent-hour (warning below 4)","value":"2.5","threshold":"4"},
			"startsAt":"2026-11-23T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"abc"}`
	}
	payload := func(alerts ...string) string {
		return `{"version":"4","status":"firing","receiver":"switchboard","alerts":[` + strings.Join(alerts, ",") + `]}`
	}
	watchdog := `{"status":"firing","labels":{"alertname":"Watchdog"},"annotations":{}}`
	alert := func(status, tenant, severity string) string { return payload(one(status, tenant, severity), watchdog) }
	active := func(who supervisionv1connect.SupervisionServiceClient) []*supervisionv1.Signal {
		t.Helper()
		res, err := who.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{ActiveOnly: true}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.Signals
	}

	t.Run("without the token, or with a body that is not a payload, nothing is stored", func(t *testing.T) {
		if code, _ := post("wrong", alert("firing", "acme", "warning")); code != http.StatusUnauthorized {
			t.Errorf("a wrong token got %d", code)
		}
		if code, _ := post("s3cret", "{not json"); code != http.StatusBadRequest {
			t.Errorf("a broken body got %d", code)
		}
		if got := active(sam); len(got) != 0 {
			t.Fatalf("signals after refused calls: %v", got)
		}
		// The replica started without a token has no webhook at all.
		res, err := http.Post(env.Base+"/alertmanager/webhook", "application/json", strings.NewReader(alert("firing", "acme", "warning")))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("the webhook of a replica without a token answered %d", res.StatusCode)
		}
	})
	t.Run("a firing alert is an active signal on its unit, for the supervisors of that unit", func(t *testing.T) {
		code, body := post("s3cret", alert("firing", "acme", "warning"))
		if code != http.StatusOK || !strings.Contains(body, `"applied":1`) || !strings.Contains(body, `"skipped":1`) {
			t.Fatalf("webhook: %d %s", code, body)
		}
		got := active(sam)
		if len(got) != 1 || got[0].Objective != "contacts" || got[0].BusinessUnit != "sales" || got[0].Source != supervisionv1.SignalSource_SIGNAL_SOURCE_ALERT ||
			got[0].Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_WARNING || got[0].Value != 2.5 || got[0].Threshold != 4 || !strings.Contains(got[0].Summary, "2.5 contacts") {
			t.Fatalf("active signals: %v", got)
		}
		// Alertmanager repeats notifications: the same alert again changes nothing.
		post("s3cret", alert("firing", "acme", "warning"))
		if again := active(sam); len(again) != 1 || again[0].Id != got[0].Id {
			t.Fatalf("after a repeat: %v", again)
		}
		sue := env.Supervision(env.Login(t, "acme", "sue"))
		if other := active(sue); len(other) != 0 {
			t.Errorf("a supervisor of support only sees sales' alert: %v", other)
		}
	})
	t.Run("escalation replaces the warning, and resolution clears it", func(t *testing.T) {
		post("s3cret", alert("firing", "acme", "critical"))
		got := active(sam)
		if len(got) != 1 || got[0].Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL {
			t.Fatalf("after escalation: %v", got)
		}
		post("s3cret", alert("resolved", "acme", "critical"))
		if got := active(sam); len(got) != 0 {
			t.Fatalf("after resolution: %v", got)
		}
		history, err := sam.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{}))
		if err != nil || len(history.Msg.Signals) != 2 {
			t.Fatalf("history: %v, %v", history.Msg.GetSignals(), err)
		}
	})
	t.Run("of a warning and a critical tier firing together the critical one sets the level, and the warning alone keeps it", func(t *testing.T) {
		both := payload(one("firing", "acme", "critical"), one("firing", "acme", "warning"))
		if code, body := post("s3cret", both); code != http.StatusOK || !strings.Contains(body, `"applied":2`) {
			t.Fatalf("webhook: %d %s", code, body)
		}
		got := active(sam)
		if len(got) != 1 || got[0].Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL {
			t.Fatalf("after both tiers: %v", got)
		}
		criticalResolved := payload(one("resolved", "acme", "critical"), one("firing", "acme", "warning"))
		post("s3cret", criticalResolved)
		if got := active(sam); len(got) != 1 || got[0].Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_WARNING {
			t.Fatalf("with the critical tier resolved: %v", got)
		}
		post("s3cret", alert("resolved", "acme", "warning"))
		if got := active(sam); len(got) != 0 {
			t.Fatalf("after resolution: %v", got)
		}
	})
	t.Run("an alert naming another tenant reaches only that tenant", func(t *testing.T) {
		post("s3cret", strings.ReplaceAll(alert("firing", "globex", "warning"), `"business_unit":"sales",`, ``))
		if got := active(sam); len(got) != 0 {
			t.Errorf("acme sees globex's alert: %v", got)
		}
		gina := env.Supervision(env.Login(t, "globex", "gina"))
		// A signal on the whole tenant is shown to tenant admins; gina supervises one unit.
		if got := active(gina); len(got) != 0 {
			t.Errorf("gina sees a tenant-wide signal: %v", got)
		}
		var n int
		if err := env.Owner.QueryRow(ctx, `SELECT count(*) FROM signals s JOIN tenants t USING (tenant_id) WHERE t.name = 'globex' AND s.cleared_at IS NULL AND s.unit_id IS NULL`).Scan(&n); err != nil || n != 1 {
			t.Errorf("globex's tenant-wide signals: %d, %v", n, err)
		}
	})
}

// TestReplicasRaiseEachSignalOnce runs two replicas, both evaluating every conversation:
// each signal is stored and counted once, and reaches a supervisor on either replica.
func TestReplicasRaiseEachSignalOnce(t *testing.T) {
	env := testenv.Start(t, cluster, signalsConfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	second := env.StartReplica(t, server.Config{})
	agentOnline(t, env, "acme", "cat")
	support, _, _ := visitorStart(t, env, "support")

	// sam watches through the second replica, where nothing of the conversation happened.
	sam := supervisionv1connect.NewSupervisionServiceClient(env.HTTP, second.Base, connect.WithInterceptors(testenv.Bearer(env.Login(t, "acme", "sam"))))
	chats := &collector[*supervisionv1.WatchOpenChatsResponse]{}
	stream, err := sam.WatchOpenChats(ctx, connect.NewRequest(&supervisionv1.WatchOpenChatsRequest{BusinessUnit: "support"}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for stream.Receive() {
			chats.add(stream.Msg())
		}
	}()
	chats.wait(t, "the critical signal on the second replica", func(r *supervisionv1.WatchOpenChatsResponse) bool {
		return r.Chat != nil && r.Chat.Conversation.Id == support.Id && levels(r.Chat) == "first-response/CRITICAL"
	})
	// Give both engines a few more passes to disagree, if they could.
	time.Sleep(500 * time.Millisecond)
	var rows []string
	r, err := env.Owner.Query(ctx, `SELECT level || ':' || (cleared_at IS NULL)::text FROM signals WHERE conversation_id = $1 ORDER BY raised_at`, support.Id)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var s string
		if err := r.Scan(&s); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, s)
	}
	if got := strings.Join(rows, " "); got != "warning:false critical:true" {
		t.Fatalf("stored signals of the conversation: %q, want one warning (cleared) and one critical (active)", got)
	}
	raised := 0.0
	for _, base := range []string{env.Base, second.Base} {
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "switchboard_signals_raised_total{") && strings.Contains(line, `objective="first-response"`) {
				var v float64
				fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v) //nolint:errcheck // a bad number counts 0 and fails below
				raised += v
			}
		}
	}
	if raised != 2 {
		t.Errorf("the replicas counted %v signals raised, want 2 (a warning and a critical)", raised)
	}
}
