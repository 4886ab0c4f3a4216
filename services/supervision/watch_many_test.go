package supervision_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// watchMany opens a WatchConversations stream and collects it in the background (the
// call returns with the stream's first response, which a resumed stream may not have yet).
func watchMany(t *testing.T, c supervisionv1connect.SupervisionServiceClient, cursors ...*supervisionv1.ConversationCursor) (*collector[*supervisionv1.WatchConversationsResponse], context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	got := &collector[*supervisionv1.WatchConversationsResponse]{}
	go func() {
		s, err := c.WatchConversations(ctx, connect.NewRequest(&supervisionv1.WatchConversationsRequest{Conversations: cursors}))
		if err != nil {
			got.mu.Lock()
			got.err = err
			got.mu.Unlock()
			return
		}
		for s.Receive() {
			got.add(s.Msg())
		}
		got.mu.Lock()
		got.err = s.Err()
		got.mu.Unlock()
	}()
	return got, cancel
}

func TestOneStreamFollowsSeveralSupervisedChats(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	cat, _ := agentOnline(t, env, "acme", "cat")
	sales, _, _ := visitorStart(t, env, "sales")
	support, _, _ := visitorStart(t, env, "support")
	for _, a := range []struct {
		agent interface {
			AcceptConversation(context.Context, *connect.Request[chatv1.AcceptConversationRequest]) (*connect.Response[chatv1.AcceptConversationResponse], error)
		}
		conv string
	}{{ann, sales.Id}, {cat, support.Id}} {
		if _, err := a.agent.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: a.conv})); err != nil {
			t.Fatal(err)
		}
	}
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	unknown := uuid.NewString()
	got, stop := watchMany(t, sam,
		&supervisionv1.ConversationCursor{ConversationId: sales.Id},
		&supervisionv1.ConversationCursor{ConversationId: support.Id},
		&supervisionv1.ConversationCursor{ConversationId: unknown})

	refused := got.wait(t, "the unknown conversation named as refused", func(r *supervisionv1.WatchConversationsResponse) bool { return r.GetRefused() != nil })
	if refused.GetRefused().ConversationId != unknown || !strings.Contains(refused.GetRefused().Reason, "not found") {
		t.Errorf("refused %v, want the unknown conversation, not found", refused.GetRefused())
	}
	text := func(conv, want string) func(*supervisionv1.WatchConversationsResponse) bool {
		return func(r *supervisionv1.WatchConversationsResponse) bool {
			e := r.GetEvent()
			return e != nil && e.ConversationId == conv && (e.GetMessage().GetText() == want || e.GetDraft().GetText() == want)
		}
	}
	// Both conversations' history, then their live events, drafts and whispers included.
	got.wait(t, "sales' first message", text(sales.Id, "hello"))
	got.wait(t, "support's first message", text(support.Id, "hello"))
	if _, err := ann.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: sales.Id, Text: "let me che"})); err != nil {
		t.Fatal(err)
	}
	got.wait(t, "ann's draft in sales", text(sales.Id, "let me che"))
	if _, err := cat.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: support.Id, ClientMessageId: "c1", Text: "support here"})); err != nil {
		t.Fatal(err)
	}
	got.wait(t, "cat's reply in support", text(support.Id, "support here"))
	if _, err := sam.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: sales.Id, ClientMessageId: "w1", Text: "offer a discount"})); err != nil {
		t.Fatal(err)
	}
	whisper := got.wait(t, "sam's whisper in sales", text(sales.Id, "offer a discount"))
	stop()

	// Resumed from each conversation's cursor: nothing stored is sent twice.
	last := map[string]int64{}
	got.mu.Lock()
	for _, r := range got.got {
		if e := r.GetEvent(); e != nil && e.GetDraft() == nil && e.GetTyping() == nil && e.Seq > last[e.ConversationId] {
			last[e.ConversationId] = e.Seq
		}
	}
	got.mu.Unlock()
	if last[sales.Id] != whisper.GetEvent().Seq {
		t.Fatalf("sales' last stored event is %d, the whisper %d", last[sales.Id], whisper.GetEvent().Seq)
	}
	again, _ := watchMany(t, sam,
		&supervisionv1.ConversationCursor{ConversationId: sales.Id, AfterSeq: last[sales.Id]},
		&supervisionv1.ConversationCursor{ConversationId: support.Id, AfterSeq: last[support.Id]})
	if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: sales.Id, ClientMessageId: "a1", Text: "here is 10% off"})); err != nil {
		t.Fatal(err)
	}
	again.wait(t, "ann's reply after the resume", text(sales.Id, "here is 10% off"))
	again.mu.Lock()
	for _, r := range again.got {
		if e := r.GetEvent(); e != nil && e.GetDraft() == nil && e.GetTyping() == nil && e.Seq <= last[e.ConversationId] {
			t.Errorf("event %d of %s sent again after resuming at %d", e.Seq, e.ConversationId, last[e.ConversationId])
		}
	}
	again.mu.Unlock()
}

func TestWatchingSeveralChatsIsRefusedWhereWatchingOneIs(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	agentOnline(t, env, "acme", "cat")
	support, _, _ := visitorStart(t, env, "support")
	refusedAll := func(who string, c supervisionv1connect.SupervisionServiceClient, want connect.Code) {
		t.Helper()
		s, err := c.WatchConversations(ctx, connect.NewRequest(&supervisionv1.WatchConversationsRequest{
			Conversations: []*supervisionv1.ConversationCursor{{ConversationId: support.Id}}}))
		if err == nil {
			for s.Receive() {
				t.Errorf("%s received %v", who, s.Msg())
			}
			err = s.Err()
		}
		if testenv.Code(err) != want {
			t.Errorf("%s watching support: %v, want %v", who, err, want)
		}
	}
	// sue holds only SuperviseOpenChats on support; gina is globex's.
	refusedAll("sue", env.Supervision(env.Login(t, "acme", "sue")), connect.CodePermissionDenied)
	refusedAll("globex's gina", env.Supervision(env.Login(t, "globex", "gina")), connect.CodeNotFound)
	refusedAll("no token", env.Supervision(""), connect.CodeUnauthenticated)

	sam := env.Supervision(env.Login(t, "acme", "sam"))
	cursors := func(n int) []*supervisionv1.ConversationCursor {
		out := make([]*supervisionv1.ConversationCursor, n)
		for i := range out {
			out[i] = &supervisionv1.ConversationCursor{ConversationId: uuid.NewString()}
		}
		return out
	}
	for _, c := range []struct {
		name    string
		cursors []*supervisionv1.ConversationCursor
		field   string
	}{
		{"none", nil, "conversations"},
		{"51", cursors(51), "conversations"},
		{"twice", []*supervisionv1.ConversationCursor{{ConversationId: support.Id}, {ConversationId: support.Id}}, "conversations[1].conversation_id"},
		{"negative", []*supervisionv1.ConversationCursor{{ConversationId: support.Id, AfterSeq: -1}}, "conversations[0].after_seq"},
		{"not a UUID", []*supervisionv1.ConversationCursor{{ConversationId: "x' OR 1=1"}}, "conversations[0].conversation_id"},
	} {
		s, err := sam.WatchConversations(ctx, connect.NewRequest(&supervisionv1.WatchConversationsRequest{Conversations: c.cursors}))
		if err == nil {
			for s.Receive() {
			}
			err = s.Err()
		}
		if testenv.Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want InvalidArgument naming %s", c.name, err, c.field)
		}
	}
}
