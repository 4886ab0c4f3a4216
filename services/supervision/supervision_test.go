package supervision_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

// sam supervises sales fully and may only supervise chats in support; sue sees support's
// open chats but may not touch them; gina supervises another tenant.
const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  displayName: Sales
  supervisors:
    - {name: sam, displayName: Sam Super, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec:
  displayName: Support
  supervisors:
    - {name: sam, permissions: [Supervise]}
    - {name: sue, permissions: [SuperviseOpenChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, displayName: Ann, businessUnits: [sales], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, displayName: Cat, businessUnits: [support], maxConversations: 3}
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

// collector gathers a stream's items in the background.
type collector[T any] struct {
	mu  sync.Mutex
	got []T
	err error
}

func (c *collector[T]) add(x T) { c.mu.Lock(); c.got = append(c.got, x); c.mu.Unlock() }

func (c *collector[T]) wait(t *testing.T, what string, match func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		for _, x := range c.got {
			if match(x) {
				c.mu.Unlock()
				return x
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			var zero T
			t.Fatalf("no %s within 10s", what)
			return zero
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func agentOnline(t *testing.T, env *testenv.Env, tenant, name string) (chatv1connect.ChatServiceClient, *collector[*chatv1.AgentStreamResponse]) {
	t.Helper()
	client := env.Chat(env.Login(t, tenant, name))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := client.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	c := &collector[*chatv1.AgentStreamResponse]{}
	go func() {
		for stream.Receive() {
			c.add(stream.Msg())
		}
	}()
	c.wait(t, name+"'s status", func(r *chatv1.AgentStreamResponse) bool { return r.GetStatus() != 0 })
	return client, c
}

// tee keeps a copy of every byte of every response body.
type tee struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (tr *tee) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(resp.Body, (*lockedWriter)(tr)), resp.Body}
	return resp, nil
}

type lockedWriter tee

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (tr *tee) String() string { tr.mu.Lock(); defer tr.mu.Unlock(); return tr.buf.String() }

// visitorStart starts a conversation with a client whose every received byte is kept.
func visitorStart(t *testing.T, env *testenv.Env, unit string) (*chatv1.Conversation, chatv1connect.ChatServiceClient, *tee) {
	t.Helper()
	wire := &tee{}
	anon := chatv1connect.NewChatServiceClient(&http.Client{Transport: wire}, env.Base, connect.WithProtoJSON())
	res, err := anon.StartConversation(context.Background(), connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: unit, VisitorName: "Vera",
		FirstMessage: &chatv1.Message{ClientMessageId: "first", Text: "hello"}}))
	if err != nil {
		t.Fatal(err)
	}
	client := chatv1connect.NewChatServiceClient(&http.Client{Transport: wire}, env.Base, connect.WithProtoJSON(),
		connect.WithInterceptors(testenv.Bearer(res.Msg.VisitorToken)))
	return res.Msg.Conversation, client, wire
}

func TestASupervisorWatchesWhispersAndIntervenes(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	ann, annFeed := agentOnline(t, env, "acme", "ann")
	_, catFeed := agentOnline(t, env, "acme", "cat")
	conv, visitor, wire := visitorStart(t, env, "sales")
	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	visitorSub, err := visitor.Subscribe(ctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: conv.Id}))
	if err != nil {
		t.Fatal(err)
	}
	visitorSeen := &collector[*chatv1.Event]{}
	go func() {
		for visitorSub.Receive() {
			visitorSeen.add(visitorSub.Msg().Event)
		}
	}()

	sam := env.Supervision(env.Login(t, "acme", "sam"))
	open, err := sam.ListOpenChats(ctx, connect.NewRequest(&supervisionv1.ListOpenChatsRequest{}))
	if err != nil || len(open.Msg.Chats) != 1 || open.Msg.Chats[0].Conversation.Id != conv.Id {
		t.Fatalf("sam's open chats: %v %v", open, err)
	}
	agents, err := sam.ListAgents(ctx, connect.NewRequest(&supervisionv1.ListAgentsRequest{BusinessUnit: "sales"}))
	if err != nil || len(agents.Msg.Agents) != 1 || agents.Msg.Agents[0].OpenConversations != 1 || agents.Msg.Agents[0].Capacity != 3 ||
		agents.Msg.Agents[0].Status != chatv1.AgentStatus_AGENT_STATUS_AVAILABLE {
		t.Fatalf("sales agents: %v %v", agents, err)
	}

	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	watch, err := sam.WatchConversation(watchCtx, connect.NewRequest(&supervisionv1.WatchConversationRequest{ConversationId: conv.Id}))
	if err != nil {
		t.Fatal(err)
	}
	watched := &collector[*chatv1.Event]{}
	go func() {
		for watch.Receive() {
			watched.add(watch.Msg().Event)
		}
	}()
	watched.wait(t, "the visitor's first message in the replay", func(e *chatv1.Event) bool { return e.GetMessage().GetText() == "hello" })

	// The supervisor sees the agent's draft as she types it.
	if _, err := ann.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: conv.Id, Text: "let me che"})); err != nil {
		t.Fatal(err)
	}
	watched.wait(t, "ann's draft", func(e *chatv1.Event) bool { return e.GetDraft().GetText() == "let me che" })

	// The whisper reaches the agent and the supervisor, marked as the supervisor's.
	const secret = "WHISPER-offer-them-20-percent"
	if _, err := sam.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: conv.Id, ClientMessageId: "w1", Text: secret})); err != nil {
		t.Fatal(err)
	}
	got := annFeed.wait(t, "the whisper", func(r *chatv1.AgentStreamResponse) bool { return r.GetEvent().GetMessage().GetText() == secret })
	if a := got.GetEvent().Author; a.Kind != chatv1.AuthorKind_AUTHOR_KIND_SUPERVISOR || a.DisplayName != "Sam Super" {
		t.Fatalf("whisper author %v, want the supervisor Sam Super", a)
	}
	watched.wait(t, "the whisper", func(e *chatv1.Event) bool { return e.GetMessage().GetText() == secret })

	// Transfer to support, then finish: each a system event by sam.
	res, err := sam.TransferConversation(ctx, connect.NewRequest(&supervisionv1.TransferConversationRequest{ConversationId: conv.Id,
		Target: &supervisionv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "support"}, Note: "billing question"}))
	if err != nil || res.Msg.Conversation.Agent != "cat" {
		t.Fatalf("transfer: %v %v", res, err)
	}
	catFeed.wait(t, "the transferred conversation", func(r *chatv1.AgentStreamResponse) bool {
		return r.GetAssignment().GetConversation().GetId() == conv.Id
	})
	if _, err := sam.FinishConversation(ctx, connect.NewRequest(&supervisionv1.FinishConversationRequest{ConversationId: conv.Id, Reason: "resolved"})); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []chatv1.SystemEventKind{chatv1.SystemEventKind_SYSTEM_EVENT_KIND_TRANSFERRED, chatv1.SystemEventKind_SYSTEM_EVENT_KIND_CLOSED} {
		e := watched.wait(t, kind.String(), func(e *chatv1.Event) bool { return e.GetSystem().GetKind() == kind })
		if e.Author.Kind != chatv1.AuthorKind_AUTHOR_KIND_SUPERVISOR || e.Author.Id != "sam" {
			t.Fatalf("%s by %v, want sam", kind, e.Author)
		}
	}
	visitorSeen.wait(t, "the close", func(e *chatv1.Event) bool {
		return e.GetSystem().GetKind() == chatv1.SystemEventKind_SYSTEM_EVENT_KIND_CLOSED
	})
	history, err := visitor.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: conv.Id}))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range history.Msg.Events {
		if e.Author.Kind == chatv1.AuthorKind_AUTHOR_KIND_SUPERVISOR && e.GetMessage() != nil {
			t.Fatalf("the visitor's history holds a supervisor message: %v", e)
		}
	}
	if strings.Contains(wire.String(), "WHISPER") || strings.Contains(wire.String(), "let me che") {
		t.Fatal("a whisper or a draft reached the visitor's connection")
	}
	stopWatching()
	time.Sleep(200 * time.Millisecond)
	var actions string
	if err := env.Owner.QueryRow(ctx, `SELECT string_agg(action, ',' ORDER BY audit_id) FROM audit_log WHERE actor = 'sam'`).Scan(&actions); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"watch.start", "whisper", "transfer", "finish", "watch.stop"} {
		if !strings.Contains(actions, want) {
			t.Fatalf("audit log %q lacks %s", actions, want)
		}
	}
}

// TestWhisperNeverReachesTheVisitor drives random interleavings of visitor, agent and
// supervisor actions and checks every byte the visitor's connection received.
func TestWhisperNeverReachesTheVisitor(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for round := 0; round < 3; round++ {
		conv, visitor, wire := visitorStart(t, env, "sales")
		if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv.Id})); err != nil {
			t.Fatal(err)
		}
		subCtx, cancel := context.WithCancel(ctx)
		sub, err := visitor.Subscribe(subCtx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: conv.Id}))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for sub.Receive() {
			}
		}()
		var wg sync.WaitGroup
		actors := []func(i int){
			func(i int) {
				visitor.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: uuid.NewString(), Text: fmt.Sprint("visitor ", i)})) //nolint:errcheck
			},
			func(i int) {
				ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: uuid.NewString(), Text: fmt.Sprint("agent ", i)})) //nolint:errcheck
			},
			func(i int) {
				ann.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: conv.Id, Text: fmt.Sprint("SECRETDRAFT ", i)})) //nolint:errcheck
			},
			func(i int) {
				sam.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: conv.Id, ClientMessageId: uuid.NewString(), Text: fmt.Sprint("SECRETWHISPER ", i)})) //nolint:errcheck
			},
			func(i int) {
				visitor.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: conv.Id, Csat: int32(1 + i%5)})) //nolint:errcheck
			},
			func(i int) {
				visitor.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: conv.Id})) //nolint:errcheck
			},
		}
		for w := 0; w < 4; w++ {
			steps := make([]int, 25)
			for i := range steps {
				steps[i] = rng.IntN(len(actors))
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, a := range steps {
					actors[a](w*100 + i)
				}
			}()
		}
		wg.Wait()
		// A late subscriber replays everything from the start, and the history too.
		replay, err := visitor.Subscribe(subCtx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: conv.Id}))
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for replay.Receive() {
			}
		}()
		if _, err := visitor.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: conv.Id, Limit: 500})); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		cancel()
		<-done
		bytes := wire.String()
		if !strings.Contains(bytes, "agent ") {
			t.Fatal("the visitor received no agent message: the check would prove nothing")
		}
		for _, secret := range []string{"SECRETWHISPER", "SECRETDRAFT"} {
			if strings.Contains(bytes, secret) {
				t.Fatalf("round %d: %s reached the visitor (seed %d)", round, secret, seed)
			}
		}
		var whispers int
		env.Owner.QueryRow(ctx, `SELECT count(*) FROM events WHERE conversation_id = $1 AND visibility = 'staff'`, conv.Id).Scan(&whispers) //nolint:errcheck
		t.Logf("round %d: %d whispers stored, %d bytes to the visitor, none of them secret", round, whispers, len(bytes))
	}
}

func TestAgentsBoardAndSupervisedChatsStayCurrent(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	board, err := sam.WatchAgents(wctx, connect.NewRequest(&supervisionv1.WatchAgentsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	seen := &collector[*supervisionv1.AgentLoad]{}
	go func() {
		for board.Receive() {
			seen.add(board.Msg().Agent)
		}
	}()
	seen.wait(t, "ann offline at first", func(a *supervisionv1.AgentLoad) bool {
		return a.Agent == "ann" && a.Status == chatv1.AgentStatus_AGENT_STATUS_OFFLINE
	})
	ann, _ := agentOnline(t, env, "acme", "ann")
	seen.wait(t, "ann coming online", func(a *supervisionv1.AgentLoad) bool {
		return a.Agent == "ann" && a.Status == chatv1.AgentStatus_AGENT_STATUS_AVAILABLE
	})
	conv, _, _ := visitorStart(t, env, "sales")
	seen.wait(t, "ann's load rising to 1", func(a *supervisionv1.AgentLoad) bool { return a.Agent == "ann" && a.OpenConversations == 1 })
	if _, err := ann.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AWAY})); err != nil {
		t.Fatal(err)
	}
	seen.wait(t, "ann away", func(a *supervisionv1.AgentLoad) bool {
		return a.Agent == "ann" && a.Status == chatv1.AgentStatus_AGENT_STATUS_AWAY
	})

	// My supervised chats.
	if _, err := sam.AddSupervisedChat(ctx, connect.NewRequest(&supervisionv1.AddSupervisedChatRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	if _, err := sam.AddSupervisedChat(ctx, connect.NewRequest(&supervisionv1.AddSupervisedChatRequest{ConversationId: conv.Id})); err != nil {
		t.Fatalf("adding twice: %v", err)
	}
	mine, err := sam.ListSupervisedChats(ctx, connect.NewRequest(&supervisionv1.ListSupervisedChatsRequest{}))
	if err != nil || len(mine.Msg.Conversations) != 1 || mine.Msg.Conversations[0].Id != conv.Id {
		t.Fatalf("sam's supervised chats: %v %v", mine, err)
	}
	sue := env.Supervision(env.Login(t, "acme", "sue"))
	if _, err := sue.AddSupervisedChat(ctx, connect.NewRequest(&supervisionv1.AddSupervisedChatRequest{ConversationId: conv.Id})); testenv.Code(err) != connect.CodePermissionDenied {
		t.Fatalf("sue supervising a sales chat: %v", err)
	}
	if _, err := sam.RemoveSupervisedChat(ctx, connect.NewRequest(&supervisionv1.RemoveSupervisedChatRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	mine, _ = sam.ListSupervisedChats(ctx, connect.NewRequest(&supervisionv1.ListSupervisedChatsRequest{}))
	if len(mine.Msg.Conversations) != 0 {
		t.Fatalf("after removal: %v", mine.Msg.Conversations)
	}

	// The audit log is for tenant admins.
	if _, err := sam.ListAuditLog(ctx, connect.NewRequest(&supervisionv1.ListAuditLogRequest{})); testenv.Code(err) != connect.CodePermissionDenied {
		t.Fatalf("a supervisor reading the audit log: %v", err)
	}
	if _, err := sam.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: conv.Id, ClientMessageId: "a1", Text: "hi"})); err != nil {
		t.Fatal(err)
	}
	admin := env.Supervision(env.Login(t, "acme", "admin"))
	audit, err := admin.ListAuditLog(ctx, connect.NewRequest(&supervisionv1.ListAuditLogRequest{}))
	if err != nil || len(audit.Msg.Entries) == 0 || audit.Msg.Entries[0].Action != "whisper" || audit.Msg.Entries[0].Actor != "sam" ||
		audit.Msg.Entries[0].ConversationId != conv.Id {
		t.Fatalf("audit log: %v %v", audit, err)
	}
}

func TestOfflineMessagesAreListedForThoseWhoMaySeeAllChats(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	widget := env.Chat("")
	for i, text := range []string{"Please call me about invoice 42", "Do you ship to Norway?", "My invoice is wrong"} {
		unit := "sales"
		if i == 2 {
			unit = "support"
		}
		if _, err := widget.LeaveOfflineMessage(ctx, connect.NewRequest(&chatv1.LeaveOfflineMessageRequest{
			WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: unit, Email: fmt.Sprintf("v%d@example.com", i), Text: text})); err != nil {
			t.Fatal(err)
		}
	}
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	all, err := sam.ListOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ListOfflineMessagesRequest{}))
	if err != nil || len(all.Msg.Messages) != 2 {
		t.Fatalf("sam (AllChats on sales only) lists %v, %v; want the two sales messages", all, err)
	}
	if all.Msg.Messages[0].Text != "Do you ship to Norway?" {
		t.Fatalf("newest first: got %q", all.Msg.Messages[0].Text)
	}
	found, err := sam.ListOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ListOfflineMessagesRequest{Query: "invoice"}))
	if err != nil || len(found.Msg.Messages) != 1 || found.Msg.Messages[0].Email != "v0@example.com" {
		t.Fatalf("full-text 'invoice' in sales: %v %v", found, err)
	}
	page, err := sam.ListOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ListOfflineMessagesRequest{Limit: 1, BeforeId: all.Msg.Messages[0].Id}))
	if err != nil || len(page.Msg.Messages) != 1 || page.Msg.Messages[0].Id != all.Msg.Messages[1].Id {
		t.Fatalf("second page: %v %v", page, err)
	}
	stream, err := sam.ExportOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ExportOfflineMessagesRequest{Query: "invoice"}))
	if err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	for stream.Receive() {
		file.Write(stream.Msg().Csv)
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(file.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "id,business_unit,left_at") ||
		!strings.HasSuffix(lines[1], ",v0@example.com,Please call me about invoice 42") {
		t.Fatalf("offline export:\n%s", file.String())
	}
	sue := env.Supervision(env.Login(t, "acme", "sue"))
	if _, err := sue.ListOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ListOfflineMessagesRequest{})); testenv.Code(err) != connect.CodePermissionDenied {
		t.Fatalf("sue without AllChats: %v", err)
	}
	admin := env.Supervision(env.Login(t, "acme", "admin"))
	if res, err := admin.ListOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ListOfflineMessagesRequest{})); err != nil || len(res.Msg.Messages) != 3 {
		t.Fatalf("the tenant admin lists %v, %v; want all three", res, err)
	}
	gina := env.Supervision(env.Login(t, "globex", "gina"))
	if res, err := gina.ListOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ListOfflineMessagesRequest{})); err != nil || len(res.Msg.Messages) != 0 {
		t.Fatalf("another tenant's supervisor sees %v, %v", res, err)
	}
}

func TestTranscriptExportShowsWhispersOnlyWhenAsked(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	conv, visitor, _ := visitorStart(t, env, "sales")
	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv.Id})); err != nil {
		t.Fatal(err)
	}
	if _, err := visitor.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: "v2", Text: "=cmd|' /C calc'!A0"})); err != nil {
		t.Fatal(err)
	}
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	if _, err := sam.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: conv.Id, ClientMessageId: "w", Text: "ask for the order number"})); err != nil {
		t.Fatal(err)
	}
	export := func(whispers bool) string {
		s, err := sam.ExportTranscript(ctx, connect.NewRequest(&supervisionv1.ExportTranscriptRequest{ConversationId: conv.Id, IncludeWhispers: whispers}))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for s.Receive() {
			b.Write(s.Msg().Csv)
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	forVisitor := export(false)
	if !strings.HasPrefix(forVisitor, "seq,time,author_kind,author,kind,text\n") || !strings.Contains(forVisitor, ",visitor,Vera,message,hello") {
		t.Fatalf("transcript:\n%s", forVisitor)
	}
	if strings.Contains(forVisitor, "order number") {
		t.Fatalf("a transcript without whispers holds the whisper:\n%s", forVisitor)
	}
	if !strings.Contains(forVisitor, ",message,'=cmd|' /C calc'!A0\n") {
		t.Fatalf("a formula cell was not neutralised:\n%s", forVisitor)
	}
	if staff := export(true); !strings.Contains(staff, "whisper,ask for the order number") {
		t.Fatalf("a staff transcript lacks the whisper:\n%s", staff)
	}
	sue := env.Supervision(env.Login(t, "acme", "sue"))
	s, err := sue.ExportTranscript(ctx, connect.NewRequest(&supervisionv1.ExportTranscriptRequest{ConversationId: conv.Id}))
	if err == nil {
		for s.Receive() {
			t.Fatal("sue, with no grant on sales, received transcript bytes")
		}
		err = s.Err()
	}
	if testenv.Code(err) != connect.CodePermissionDenied {
		t.Fatalf("sue exporting a sales transcript: %v", err)
	}
}
