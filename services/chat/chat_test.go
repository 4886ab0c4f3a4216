package chat_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

func TestAConversationFromStartToClose(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	ann := online(t, env, "acme", "ann")

	v := start(t, env, "acme", "sales", "Hello, is anyone there?")
	if v.conv.State != chatv1.ConversationState_CONVERSATION_STATE_ASSIGNED || v.conv.Agent != "ann" {
		t.Fatalf("conversation is %s with %q, want assigned to ann", v.conv.State, v.conv.Agent)
	}
	ann.waitFor(t, "the assignment", assigned(v.conv.Id))
	ann.waitFor(t, "the visitor's first message", func(r *chatv1.AgentStreamResponse) bool {
		return r.GetEvent().GetMessage().GetText() == "Hello, is anyone there?"
	})

	if _, err := ann.client.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: v.conv.Id})); err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, v.client, v.conv.Id, 0)
	if _, err := ann.client.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.conv.Id, ClientMessageId: "a-1", Text: "Hi! How can I help?"})); err != nil {
		t.Fatal(err)
	}
	v.send(t, "I need a quote")
	if _, err := v.client.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: v.conv.Id})); err != nil {
		t.Fatal(err)
	}

	want := []string{"1:AUTHOR_KIND_VISITOR", "2:system:SYSTEM_EVENT_KIND_ASSIGNED", "3:AUTHOR_KIND_VISITOR:Hello, is anyone there?",
		"4:system:SYSTEM_EVENT_KIND_ACCEPTED", "5:AUTHOR_KIND_AGENT:Hi! How can I help?", "6:AUTHOR_KIND_VISITOR:I need a quote",
		"7:system:SYSTEM_EVENT_KIND_CLOSED"}
	want[0] = "1:system:SYSTEM_EVENT_KIND_STARTED"
	for i, w := range want {
		if got := describe(sub.nextStored(t)); got != w {
			t.Fatalf("event %d: got %s, want %s", i+1, got, w)
		}
	}
	history, err := ann.client.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: v.conv.Id}))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range history.Msg.Events {
		if e.Author.Kind == chatv1.AuthorKind_AUTHOR_KIND_VISITOR && (e.Author.Id != v.conv.VisitorId || e.Author.DisplayName != "Vic") {
			t.Fatalf("visitor event %s authored by %q %q, want the visitor %s Vic", describe(e), e.Author.Id, e.Author.DisplayName, v.conv.VisitorId)
		}
	}
	ann.waitFor(t, "the close", func(r *chatv1.AgentStreamResponse) bool {
		return r.GetAssignment().GetChange() == chatv1.AssignmentChange_ASSIGNMENT_CHANGE_CLOSED
	})
	var open, load int
	if err := env.Owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations WHERE state <> 'closed'), open_count FROM agents WHERE name = 'ann'`).Scan(&open, &load); err != nil {
		t.Fatal(err)
	}
	if open != 0 || load != 0 {
		t.Fatalf("after close: %d open conversations, ann's load %d", open, load)
	}
}

func TestResendingAMessageNeverMakesASecond(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	online(t, env, "acme", "ann")
	v := start(t, env, "acme", "sales", "")
	req := &chatv1.SendMessageRequest{ConversationId: v.conv.Id, ClientMessageId: "resend-me", Text: "only once"}

	var wg sync.WaitGroup
	seqs := make(chan int64, 20)
	dups := make(chan bool, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := v.client.SendMessage(context.Background(), connect.NewRequest(req))
			if err != nil {
				t.Error(err)
				return
			}
			seqs <- res.Msg.Event.Seq
			dups <- res.Msg.Duplicate
		}()
	}
	wg.Wait()
	close(seqs)
	close(dups)
	first := int64(-1)
	for s := range seqs {
		if first == -1 {
			first = s
		}
		if s != first {
			t.Fatalf("resends answered with different sequence numbers %d and %d", first, s)
		}
	}
	originals := 0
	for d := range dups {
		if !d {
			originals++
		}
	}
	if originals != 1 {
		t.Fatalf("%d sends reported a new message, want exactly 1", originals)
	}
	var n int
	if err := env.Owner.QueryRow(ctxT(t), `SELECT count(*) FROM events WHERE client_message_id = 'resend-me'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d rows for one client message id", n)
	}
}

func TestConcurrentSendersAreDeliveredInOrderExactlyOnce(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ann := online(t, env, "acme", "ann")
	v := start(t, env, "acme", "sales", "")
	if _, err := ann.client.AcceptConversation(ctxT(t), connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: v.conv.Id})); err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, v.client, v.conv.Id, 0)

	const senders, each = 10, 20
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := v.client
			if s%2 == 1 {
				client = ann.client
			}
			for i := 0; i < each; i++ {
				_, err := client.SendMessage(context.Background(), connect.NewRequest(&chatv1.SendMessageRequest{
					ConversationId: v.conv.Id, ClientMessageId: fmt.Sprintf("s%d-%d", s, i), Text: fmt.Sprintf("sender %d message %d", s, i)}))
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	var last int64
	seen := map[string]bool{}
	perSender := map[int]int{}
	for len(seen) < senders*each {
		e := sub.nextStored(t)
		if e.Seq != last+1 {
			t.Fatalf("got seq %d after %d", e.Seq, last)
		}
		last = e.Seq
		if m := e.GetMessage(); m != nil {
			if seen[m.ClientMessageId] {
				t.Fatalf("message %s delivered twice", m.ClientMessageId)
			}
			seen[m.ClientMessageId] = true
			var s, i int
			fmt.Sscanf(m.ClientMessageId, "s%d-%d", &s, &i)
			if i != perSender[s] {
				t.Fatalf("sender %d: message %d arrived where %d was due", s, i, perSender[s])
			}
			perSender[s]++
		}
	}
}

func TestResumeAfterDisconnectMissesNothing(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	online(t, env, "acme", "ann")
	v := start(t, env, "acme", "sales", "first")
	sub := subscribe(t, v.client, v.conv.Id, 0)
	var last int64
	for i := 0; i < 3; i++ { // started, assigned, first
		last = sub.nextStored(t).Seq
	}
	sub.cancel()
	for i := 0; i < 5; i++ {
		v.send(t, fmt.Sprintf("while away %d", i))
	}
	again := subscribe(t, v.client, v.conv.Id, last)
	for i := 0; i < 5; i++ {
		e := again.nextStored(t)
		if e.Seq != last+1 || e.GetMessage().GetText() != fmt.Sprintf("while away %d", i) {
			t.Fatalf("after resume got %s, want seq %d 'while away %d'", describe(e), last+1, i)
		}
		last = e.Seq
	}
	v.send(t, "live again")
	if e := again.nextStored(t); e.GetMessage().GetText() != "live again" || e.Seq != last+1 {
		t.Fatalf("live after replay: %s", describe(e))
	}
}

func TestVisitorSeesTypingButNeverTheDraft(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	ann := online(t, env, "acme", "ann")
	v := start(t, env, "acme", "sales", "")
	if _, err := ann.client.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: v.conv.Id})); err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, v.client, v.conv.Id, 0)
	const secret = "draft: our best price is 42"
	if _, err := ann.client.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: v.conv.Id, Text: secret})); err != nil {
		t.Fatal(err)
	}
	if _, err := v.client.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: v.conv.Id, Text: "visitor is typ"})); err != nil {
		t.Fatal(err)
	}
	// The agent sees the visitor's draft as it types.
	ann.waitFor(t, "the visitor's draft", func(r *chatv1.AgentStreamResponse) bool {
		return r.GetEvent().GetDraft().GetText() == "visitor is typ"
	})
	if _, err := ann.client.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.conv.Id, ClientMessageId: "m1", Text: "Here you go"})); err != nil {
		t.Fatal(err)
	}
	var typing []bool
	for {
		var e *chatv1.Event
		select {
		case e = <-sub.events:
		case <-time.After(10 * time.Second):
			t.Fatalf("visitor stream stalled; typing so far %v", typing)
		}
		if e.GetDraft() != nil {
			t.Fatalf("the visitor received a draft: %v", e)
		}
		if strings.Contains(e.String(), "best price") {
			t.Fatalf("the draft's text reached the visitor: %v", e)
		}
		if ty := e.GetTyping(); ty != nil {
			if e.Author.Kind != chatv1.AuthorKind_AUTHOR_KIND_AGENT {
				t.Fatalf("visitor sees typing of %s", e.Author.Kind)
			}
			typing = append(typing, ty.Typing)
		}
		if e.GetMessage().GetText() == "Here you go" {
			break
		}
	}
	// Sending clears the draft: typing on, then off.
	deadline := time.After(5 * time.Second)
	for len(typing) < 2 {
		select {
		case e := <-sub.events:
			if ty := e.GetTyping(); ty != nil {
				typing = append(typing, ty.Typing)
			}
		case <-deadline:
			t.Fatalf("typing indications %v, want on then off", typing)
		}
	}
	if !typing[0] || typing[1] {
		t.Fatalf("typing indications %v, want [true false]", typing)
	}
}

func TestNobodyOnline(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	key := env.Tenants["acme"].WidgetKey
	chat := env.Chat("")

	avail, err := chat.GetAvailability(ctx, connect.NewRequest(&chatv1.GetAvailabilityRequest{WidgetKey: key, BusinessUnit: "sales"}))
	if err != nil || avail.Msg.AgentsOnline || !avail.Msg.AcceptsOfflineMessages {
		t.Fatalf("availability of sales with nobody online: %v %v", avail, err)
	}

	t.Run("a unit that takes offline messages keeps the visitor's message", func(t *testing.T) {
		res, err := chat.StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: key, BusinessUnit: "sales",
			VisitorName: "Olga", VisitorEmail: "olga@example.com", FirstMessage: &chatv1.Message{ClientMessageId: "o1", Text: "Call me back please"}}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Msg.Conversation != nil || res.Msg.OfflineMessageId == "" {
			t.Fatalf("got %v, want an offline message and no conversation", res.Msg)
		}
		var body, email string
		if err := env.Owner.QueryRow(ctx, `SELECT body, email FROM offline_messages WHERE offline_message_id = $1`, res.Msg.OfflineMessageId).Scan(&body, &email); err != nil {
			t.Fatal(err)
		}
		if body != "Call me back please" || email != "olga@example.com" {
			t.Fatalf("kept %q from %q", body, email)
		}
		res2, err := chat.LeaveOfflineMessage(ctx, connect.NewRequest(&chatv1.LeaveOfflineMessageRequest{WidgetKey: key, BusinessUnit: "sales", Email: "p@example.com", Text: "hello"}))
		if err != nil || res2.Msg.OfflineMessageId == "" {
			t.Fatalf("leaving an offline message: %v", err)
		}
	})

	t.Run("a unit that takes none answers Unavailable and keeps nothing", func(t *testing.T) {
		before := rowCounts(t, env)
		_, err := chat.StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: key, BusinessUnit: "support",
			FirstMessage: &chatv1.Message{ClientMessageId: "o2", Text: "Anyone?"}}))
		if testenv.Code(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), "no agent") {
			t.Fatalf("got %v, want Unavailable saying no agent is online", err)
		}
		_, err = chat.LeaveOfflineMessage(ctx, connect.NewRequest(&chatv1.LeaveOfflineMessageRequest{WidgetKey: key, BusinessUnit: "support", Email: "p@example.com", Text: "hello"}))
		if testenv.Code(err) != connect.CodeFailedPrecondition {
			t.Fatalf("offline message to a unit that takes none: %v", err)
		}
		if after := rowCounts(t, env); after != before {
			t.Fatalf("rows changed: %v -> %v", before, after)
		}
	})

	t.Run("an agent going offline makes the unit unavailable again", func(t *testing.T) {
		ann := online(t, env, "acme", "ann")
		avail, _ := chat.GetAvailability(ctx, connect.NewRequest(&chatv1.GetAvailabilityRequest{WidgetKey: key, BusinessUnit: "sales"}))
		if !avail.Msg.AgentsOnline {
			t.Fatal("sales not online with ann's stream open")
		}
		ann.offline(t)
		deadline := time.Now().Add(5 * time.Second)
		for {
			avail, _ = chat.GetAvailability(ctx, connect.NewRequest(&chatv1.GetAvailabilityRequest{WidgetKey: key, BusinessUnit: "sales"}))
			if !avail.Msg.AgentsOnline {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("ann still online 5s after her stream ended")
			}
			time.Sleep(20 * time.Millisecond)
		}
		var status string
		env.Owner.QueryRow(ctx, `SELECT status FROM agents WHERE name = 'ann'`).Scan(&status)
		if status != "offline" {
			t.Fatalf("ann's status %q after her stream ended", status)
		}
	})
}

// rowCounts counts the rows a failed call must not change.
func rowCounts(t *testing.T, env *testenv.Env) string {
	t.Helper()
	var s string
	err := env.Owner.QueryRow(context.Background(), `SELECT concat_ws(',',
		(SELECT count(*) FROM conversations), (SELECT count(*) FROM events), (SELECT count(*) FROM visitors),
		(SELECT count(*) FROM offline_messages), (SELECT count(*) FROM ratings), (SELECT count(*) FROM drafts),
		(SELECT string_agg(state || coalesce(agent_id::text, '') || last_seq, ';' ORDER BY conversation_id) FROM conversations),
		(SELECT string_agg(name || open_count || chosen_status || status, ';' ORDER BY name) FROM agents))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTransferAndTheQueue(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	ben := online(t, env, "acme", "ben")
	cat := online(t, env, "acme", "cat")

	// Support has ben (2 slots) and cat (1 slot): three conversations fill it, a fourth waits.
	var vs []*visitor
	for i := 0; i < 4; i++ {
		vs = append(vs, start(t, env, "acme", "support", fmt.Sprintf("support request %d", i)))
	}
	if vs[3].conv.State != chatv1.ConversationState_CONVERSATION_STATE_QUEUED {
		t.Fatalf("fourth conversation is %s, want queued", vs[3].conv.State)
	}
	waiting := start(t, env, "acme", "support", "fifth")
	byAgent := map[string][]*visitor{}
	for _, v := range vs[:3] {
		byAgent[v.conv.Agent] = append(byAgent[v.conv.Agent], v)
	}
	if len(byAgent["ben"]) != 2 || len(byAgent["cat"]) != 1 {
		t.Fatalf("assignments %v, want ben 2 and cat 1", map[string]int{"ben": len(byAgent["ben"]), "cat": len(byAgent["cat"])})
	}

	t.Run("to an agent at capacity is refused and changes nothing", func(t *testing.T) {
		before := rowCounts(t, env)
		_, err := ben.client.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{
			ConversationId: byAgent["ben"][0].conv.Id, Target: &chatv1.TransferConversationRequest_Agent{Agent: "cat"}}))
		if testenv.Code(err) != connect.CodeFailedPrecondition {
			t.Fatalf("got %v, want FailedPrecondition", err)
		}
		if after := rowCounts(t, env); after != before {
			t.Fatalf("rows changed: %v -> %v", before, after)
		}
	})

	t.Run("closing frees a slot for the oldest waiting conversation", func(t *testing.T) {
		if _, err := cat.client.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: byAgent["cat"][0].conv.Id})); err != nil {
			t.Fatal(err)
		}
		cat.waitFor(t, "the oldest waiting conversation", assigned(vs[3].conv.Id))
		got, err := waiting.client.GetConversation(ctx, connect.NewRequest(&chatv1.GetConversationRequest{ConversationId: waiting.conv.Id}))
		if err != nil || got.Msg.Conversation.State != chatv1.ConversationState_CONVERSATION_STATE_QUEUED {
			t.Fatalf("the younger conversation: %v %v, want still queued", got, err)
		}
	})

	t.Run("to a unit routes it there, and the freed slot serves the queue", func(t *testing.T) {
		moved := byAgent["ben"][0]
		ann := online(t, env, "acme", "ann")
		res, err := ben.client.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{
			ConversationId: moved.conv.Id, Target: &chatv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "sales"}, Note: "wants pricing"}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Msg.Conversation.Agent != "ann" || res.Msg.Conversation.BusinessUnit != "sales" {
			t.Fatalf("transferred conversation went to %q in %q", res.Msg.Conversation.Agent, res.Msg.Conversation.BusinessUnit)
		}
		ann.waitFor(t, "the transferred conversation", assigned(moved.conv.Id))
		ben.waitFor(t, "the removal", func(r *chatv1.AgentStreamResponse) bool {
			return r.GetAssignment().GetConversation().GetId() == moved.conv.Id && r.GetAssignment().Change == chatv1.AssignmentChange_ASSIGNMENT_CHANGE_REMOVED
		})
		ben.waitFor(t, "the waiting conversation", assigned(waiting.conv.Id))
		// Ann sees the visitor's history, the transfer note included.
		ann.waitFor(t, "the transfer note", func(r *chatv1.AgentStreamResponse) bool {
			return r.GetEvent().GetSystem().GetDetail() == "wants pricing"
		})
		if msgs := ann.messages(moved.conv.Id); len(msgs) == 0 || msgs[0] != "support request 0" && msgs[0] != "support request 1" && msgs[0] != "support request 2" {
			t.Fatalf("ann got history %v", msgs)
		}
		// The visitor sees the transfer, never the note staff wrote about them: neither in
		// the history nor replayed on the stream.
		history, err := moved.client.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: moved.conv.Id, Limit: 500}))
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := moved.client.Subscribe(sctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: moved.conv.Id}))
		if err != nil {
			t.Fatal(err)
		}
		var replayed []*chatv1.Event
		for len(replayed) < len(history.Msg.Events) && stream.Receive() {
			replayed = append(replayed, stream.Msg().Event)
		}
		for what, events := range map[string][]*chatv1.Event{"history": history.Msg.Events, "stream": replayed} {
			transfers := 0
			for _, e := range events {
				if sys := e.GetSystem(); sys.GetKind() == chatv1.SystemEventKind_SYSTEM_EVENT_KIND_TRANSFERRED {
					transfers++
					if sys.Detail != "" {
						t.Errorf("the visitor's %s carries the transfer note %q", what, sys.Detail)
					}
				}
			}
			if transfers != 1 {
				t.Errorf("the visitor's %s shows %d transfers, want 1", what, transfers)
			}
		}
	})
}

func TestAgentStatusAndQueue(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	ann := online(t, env, "acme", "ann")
	if _, err := ann.client.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AWAY})); err != nil {
		t.Fatal(err)
	}
	first := start(t, env, "acme", "sales", "one")
	second := start(t, env, "acme", "sales", "two")
	third := start(t, env, "acme", "sales", "three")
	for _, v := range []*visitor{first, second, third} {
		if v.conv.State != chatv1.ConversationState_CONVERSATION_STATE_QUEUED {
			t.Fatalf("conversation with the agent away is %s, want queued", v.conv.State)
		}
	}
	res, err := ann.client.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AVAILABLE}))
	if err != nil || res.Msg.Status != chatv1.AgentStatus_AGENT_STATUS_AVAILABLE {
		t.Fatalf("set available: %v %v", res, err)
	}
	ann.waitFor(t, "the oldest conversation", assigned(first.conv.Id))
	ann.waitFor(t, "the second", assigned(second.conv.Id))
	got, _ := third.client.GetConversation(ctx, connect.NewRequest(&chatv1.GetConversationRequest{ConversationId: third.conv.Id}))
	if got.Msg.Conversation.State != chatv1.ConversationState_CONVERSATION_STATE_QUEUED {
		t.Fatalf("third conversation %s; ann's capacity is 2", got.Msg.Conversation.State)
	}
	mine, err := ann.client.ListMyConversations(ctx, connect.NewRequest(&chatv1.ListMyConversationsRequest{}))
	if err != nil || len(mine.Msg.Conversations) != 2 {
		t.Fatalf("ann lists %v, %v", mine, err)
	}
}

func TestCapacityIsNeverExceededUnderConcurrentStarts(t *testing.T) {
	const agents, capacity, starts = 10, 3, 500
	// 500 starts at once is a rush on purpose: the tenant's limit allows it.
	cfg := `apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: rush}
spec: {limits: {conversationsPerMinute: 1000}}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: rush}
`
	for i := 0; i < agents; i++ {
		cfg += fmt.Sprintf(`---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: a%d, namespace: rush}
spec: {agent: a%d, businessUnits: [sales], maxConversations: %d}
`, i, i, capacity)
	}
	env := testenv.Start(t, cluster, cfg)
	ctx := ctxT(t)
	sessions := map[string]*agentSession{}
	for i := 0; i < agents; i++ {
		name := fmt.Sprintf("a%d", i)
		sessions[name] = online(t, env, "rush", name)
	}

	// A watcher checks every agent's load at every step while conversations start and close.
	stop := make(chan struct{})
	watched := make(chan error, 1)
	steps := 0
	go func() {
		for {
			select {
			case <-stop:
				watched <- nil
				return
			default:
			}
			var over, mismatch int
			err := env.Owner.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE n > capacity), count(*) FILTER (WHERE n <> open_count)
				FROM (SELECT a.capacity, a.open_count, (SELECT count(*) FROM conversations c
				      WHERE c.tenant_id = a.tenant_id AND c.agent_id = a.agent_id AND c.state IN ('assigned', 'active')) AS n
				      FROM agents a) x`).Scan(&over, &mismatch)
			if err != nil || over > 0 || mismatch > 0 {
				watched <- fmt.Errorf("step %d: %d agents over capacity, %d with a wrong load (%v)", steps, over, mismatch, err)
				return
			}
			steps++
		}
	}()

	var wg sync.WaitGroup
	convs := make(chan *visitor, starts)
	errs := make(chan error, starts)
	key := env.Tenants["rush"].WidgetKey
	for i := 0; i < starts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: key, BusinessUnit: "sales"}))
			if err != nil {
				errs <- err
				return
			}
			convs <- &visitor{conv: res.Msg.Conversation, token: res.Msg.VisitorToken, client: env.Chat(res.Msg.VisitorToken)}
		}()
	}
	wg.Wait()
	close(errs)
	close(convs)
	for err := range errs {
		t.Fatalf("start failed: %v", err)
	}
	var all []*visitor
	perAgent := map[string]int{}
	for v := range convs {
		all = append(all, v)
		if v.conv.Agent != "" {
			perAgent[v.conv.Agent]++
		}
	}
	if len(perAgent) != agents {
		t.Fatalf("only %d of %d agents got conversations: %v", len(perAgent), agents, perAgent)
	}
	for a, n := range perAgent {
		if n != capacity {
			t.Fatalf("agent %s got %d conversations at start, want exactly its capacity %d", a, n, capacity)
		}
	}

	// Close conversations one by one: each close must hand the freed slot to the oldest
	// waiting conversation, never more than the capacity.
	var queueOrder []string
	rows, err := env.Owner.Query(ctx, `SELECT conversation_id::text FROM conversations WHERE state = 'queued' ORDER BY queued_at, conversation_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		queueOrder = append(queueOrder, id)
	}
	rows.Close()
	if len(queueOrder) != starts-agents*capacity {
		t.Fatalf("%d queued, want %d", len(queueOrder), starts-agents*capacity)
	}
	for round := 0; round < 20; round++ {
		var id, agent string
		if err := env.Owner.QueryRow(ctx, `SELECT c.conversation_id::text, a.name FROM conversations c JOIN agents a USING (tenant_id, agent_id)
			WHERE c.state = 'assigned' ORDER BY c.assigned_at LIMIT 1`).Scan(&id, &agent); err != nil {
			t.Fatal(err)
		}
		if _, err := sessions[agent].client.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: id})); err != nil {
			t.Fatal(err)
		}
		var state string
		if err := env.Owner.QueryRow(ctx, `SELECT state FROM conversations WHERE conversation_id = $1`, queueOrder[round]).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "assigned" {
			t.Fatalf("round %d: the oldest waiting conversation is %s after a slot freed", round, state)
		}
		if err := env.Owner.QueryRow(ctx, `SELECT state FROM conversations WHERE conversation_id = $1`, queueOrder[round+1]).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "queued" {
			t.Fatalf("round %d: a younger conversation jumped the queue", round)
		}
	}
	close(stop)
	if err := <-watched; err != nil {
		t.Fatal(err)
	}
	if steps < 10 {
		t.Fatalf("the watcher checked only %d times", steps)
	}
	t.Logf("the watcher checked every agent's load %d times", steps)
}
