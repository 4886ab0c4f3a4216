package chat_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
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

// config is the tenants of most tests: acme with a sales unit that takes offline
// messages and a support unit that does not; globex, another tenant, with its own sales.
// Some tests send hundreds of messages at once in one of acme's conversations, on
// purpose: acme's limits allow it.
const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec: {displayName: Acme, limits: {visitorMessagesPerMinute: 1000, agentMessagesPerMinute: 1000, messagesPerSecond: 1000}}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec: {displayName: Sales, offlineMessages: true}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec: {displayName: Support, offlineMessages: false}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, displayName: Ann, businessUnits: [sales], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ben, namespace: acme}
spec: {agent: ben, displayName: Ben, businessUnits: [sales, support], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, displayName: Cat, businessUnits: [support], maxConversations: 1}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
spec: {displayName: Globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
spec: {displayName: Globex sales}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: gus, namespace: globex}
spec: {agent: gus, displayName: Gus, businessUnits: [sales], maxConversations: 2}
`

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// agentSession is an agent signed in with its stream open.
type agentSession struct {
	name   string
	token  string
	client chatv1connect.ChatServiceClient
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	got    []*chatv1.AgentStreamResponse
	notify chan struct{}
}

// online signs an agent in and opens its stream; it waits for the first status update.
func online(t *testing.T, env *testenv.Env, tenant, agent string) *agentSession {
	t.Helper()
	return onlineAt(t, env, env.Base, tenant, agent)
}

func onlineAt(t *testing.T, env *testenv.Env, base, tenant, agent string) *agentSession {
	t.Helper()
	token := env.Login(t, tenant, agent)
	a := &agentSession{name: agent, token: token, client: env.ChatAt(base, token), done: make(chan error, 1), notify: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	stream, err := a.client.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for stream.Receive() {
			a.mu.Lock()
			a.got = append(a.got, stream.Msg())
			a.mu.Unlock()
			select {
			case a.notify <- struct{}{}:
			default:
			}
		}
		a.done <- stream.Err()
	}()
	t.Cleanup(a.close)
	a.waitFor(t, "its status", func(r *chatv1.AgentStreamResponse) bool { return r.GetStatus() != 0 })
	return a
}

func (a *agentSession) close() {
	a.cancel()
}

// offline closes the agent's stream and waits until it ended.
func (a *agentSession) offline(t *testing.T) {
	a.cancel()
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		t.Fatal("agent stream did not end")
	}
}

// waitFor waits until a received update matches and returns it.
func (a *agentSession) waitFor(t *testing.T, what string, match func(*chatv1.AgentStreamResponse) bool) *chatv1.AgentStreamResponse {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		a.mu.Lock()
		for _, r := range a.got {
			if match(r) {
				a.mu.Unlock()
				return r
			}
		}
		a.mu.Unlock()
		select {
		case <-a.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("agent %s: no %s within 10s; got %v", a.name, what, a.updates())
		}
	}
}

func (a *agentSession) updates() []*chatv1.AgentStreamResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*chatv1.AgentStreamResponse(nil), a.got...)
}

// messages returns the texts of messages the agent received in a conversation, in order.
func (a *agentSession) messages(conv string) []string {
	var out []string
	for _, r := range a.updates() {
		if e := r.GetEvent(); e != nil && e.ConversationId == conv && e.GetMessage() != nil {
			out = append(out, e.GetMessage().Text)
		}
	}
	return out
}

func assigned(conv string) func(*chatv1.AgentStreamResponse) bool {
	return func(r *chatv1.AgentStreamResponse) bool {
		as := r.GetAssignment()
		return as != nil && as.Conversation.Id == conv && as.Change == chatv1.AssignmentChange_ASSIGNMENT_CHANGE_OPEN
	}
}

// visitor is a started conversation seen from the visitor's side.
type visitor struct {
	conv   *chatv1.Conversation
	token  string
	client chatv1connect.ChatServiceClient
}

func start(t *testing.T, env *testenv.Env, tenant, unit, first string) *visitor {
	t.Helper()
	req := &chatv1.StartConversationRequest{WidgetKey: env.Tenants[tenant].WidgetKey, BusinessUnit: unit, VisitorName: "Vic"}
	if first != "" {
		req.FirstMessage = &chatv1.Message{ClientMessageId: uuid.NewString(), Text: first}
	}
	res, err := env.Chat("").StartConversation(ctxT(t), connect.NewRequest(req))
	if err != nil {
		t.Fatalf("starting a conversation in %s/%s: %v", tenant, unit, err)
	}
	if res.Msg.Conversation == nil {
		t.Fatalf("no conversation started (offline message %q)", res.Msg.OfflineMessageId)
	}
	return &visitor{conv: res.Msg.Conversation, token: res.Msg.VisitorToken, client: env.Chat(res.Msg.VisitorToken)}
}

func (v *visitor) send(t *testing.T, text string) *chatv1.Event {
	t.Helper()
	res, err := v.client.SendMessage(ctxT(t), connect.NewRequest(&chatv1.SendMessageRequest{
		ConversationId: v.conv.Id, ClientMessageId: uuid.NewString(), Text: text}))
	if err != nil {
		t.Fatalf("visitor sends %q: %v", text, err)
	}
	return res.Msg.Event
}

// subscription collects a Subscribe stream's events.
type subscription struct {
	cancel context.CancelFunc
	events chan *chatv1.Event
	err    chan error
}

func subscribe(t *testing.T, client chatv1connect.ChatServiceClient, conv string, after int64) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := client.Subscribe(ctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: conv, AfterSeq: after}))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &subscription{cancel: cancel, events: make(chan *chatv1.Event, 10000), err: make(chan error, 1)}
	go func() {
		for stream.Receive() {
			s.events <- stream.Msg().Event
		}
		s.err <- stream.Err()
	}()
	t.Cleanup(cancel)
	return s
}

// next returns the next event that is not a typing or draft update.
func (s *subscription) nextStored(t *testing.T) *chatv1.Event {
	t.Helper()
	for {
		select {
		case e := <-s.events:
			if e.GetTyping() != nil || e.GetDraft() != nil {
				continue
			}
			return e
		case err := <-s.err:
			t.Fatalf("stream ended: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10s")
		}
	}
}

func describe(e *chatv1.Event) string {
	switch {
	case e.GetMessage() != nil:
		return fmt.Sprintf("%d:%s:%s", e.Seq, e.Author.Kind, e.GetMessage().Text)
	case e.GetSystem() != nil:
		return fmt.Sprintf("%d:system:%s", e.Seq, e.GetSystem().Kind)
	case e.GetTyping() != nil:
		return fmt.Sprintf("%d:typing:%v", e.Seq, e.GetTyping().Typing)
	case e.GetDraft() != nil:
		return fmt.Sprintf("%d:draft:%s", e.Seq, e.GetDraft().Text)
	}
	return "?"
}
