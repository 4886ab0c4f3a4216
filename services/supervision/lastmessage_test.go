package supervision_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// watchOpenChats opens WatchOpenChats as a user over a connection whose every received byte
// is kept, and waits for the end of the snapshot.
func watchOpenChats(t *testing.T, env *testenv.Env, tenant, user string) (*collector[*supervisionv1.WatchOpenChatsResponse], *tee) {
	t.Helper()
	wire := &tee{}
	client := supervisionv1connect.NewSupervisionServiceClient(&http.Client{Transport: wire}, env.Base,
		connect.WithInterceptors(testenv.Bearer(env.Login(t, tenant, user))))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := client.WatchOpenChats(ctx, connect.NewRequest(&supervisionv1.WatchOpenChatsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	c := &collector[*supervisionv1.WatchOpenChatsResponse]{}
	go func() {
		for stream.Receive() {
			c.add(stream.Msg())
		}
	}()
	c.wait(t, user+"'s open chats snapshot", func(r *supervisionv1.WatchOpenChatsResponse) bool { return r.SnapshotDone })
	return c, wire
}

// count is how many items arrived so far.
func (c *collector[T]) count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.got) }

// lastMessage describes an open chat's last message as "kind name: text", "…" marking a cut.
func lastMessage(oc *supervisionv1.OpenChat) string {
	m := oc.GetLastMessage()
	if m == nil {
		return "(none)"
	}
	s := strings.TrimPrefix(m.Author.Kind.String(), "AUTHOR_KIND_") + " " + m.Author.DisplayName + ": " + m.Text
	if m.Truncated {
		s += "…"
	}
	return s
}

func TestOpenChatsShowTheLastMessageLiveAndOnlyTheVisitorsAndAgents(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	cat, _ := agentOnline(t, env, "acme", "cat")
	sales, visitor, _ := visitorStart(t, env, "sales")
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
	// sam sees sales' open chats, sue support's, gina another tenant's.
	samChats, _ := watchOpenChats(t, env, "acme", "sam")
	sueChats, sueWire := watchOpenChats(t, env, "acme", "sue")
	ginaChats, ginaWire := watchOpenChats(t, env, "globex", "gina")
	sam := env.Supervision(env.Login(t, "acme", "sam"))

	chatOf := func(id string) func(*supervisionv1.WatchOpenChatsResponse) bool {
		return func(r *supervisionv1.WatchOpenChatsResponse) bool { return r.Chat.GetConversation().GetId() == id }
	}
	if got := lastMessage(samChats.wait(t, "the sales chat", chatOf(sales.Id)).Chat); got != "VISITOR Vera: hello" {
		t.Fatalf("the sales chat's last message in the snapshot: %q", got)
	}

	// A long message arrives live, cut at 200 characters, never inside one.
	long := strings.Repeat("ü😀", 125)
	from := samChats.count()
	if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: sales.Id, ClientMessageId: "a1", Text: long})); err != nil {
		t.Fatal(err)
	}
	want := "AGENT Ann: " + strings.Repeat("ü😀", 100) + "…"
	samChats.waitFrom(t, from, "ann's message as the last one", func(r *supervisionv1.WatchOpenChatsResponse) bool {
		return chatOf(sales.Id)(r) && lastMessage(r.Chat) == want
	})

	// A whisper and a draft are not the last message; the visitor's next message is.
	const whisper, draft = "WHISPER-give-them-a-discount", "DRAFT-let-me-check"
	if _, err := sam.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: sales.Id, ClientMessageId: "w1", Text: whisper})); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: sales.Id, Text: draft})); err != nil {
		t.Fatal(err)
	}
	listed, err := sam.ListOpenChats(ctx, connect.NewRequest(&supervisionv1.ListOpenChatsRequest{}))
	if err != nil || len(listed.Msg.Chats) != 1 || lastMessage(listed.Msg.Chats[0]) != want {
		t.Fatalf("sam's open chats after the whisper and the draft: %v %v", listed, err)
	}
	if at := listed.Msg.Chats[0].LastMessage.CreatedAt.AsTime(); at.IsZero() || at.Before(listed.Msg.Chats[0].Conversation.CreatedAt.AsTime()) {
		t.Fatalf("the last message's time %v", at)
	}
	from = samChats.count()
	if _, err := visitor.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: sales.Id, ClientMessageId: "v2", Text: "SALES-thanks"})); err != nil {
		t.Fatal(err)
	}
	samChats.waitFrom(t, from, "the visitor's reply as the last message", func(r *supervisionv1.WatchOpenChatsResponse) bool {
		return chatOf(sales.Id)(r) && lastMessage(r.Chat) == "VISITOR Vera: SALES-thanks"
	})
	samChats.mu.Lock()
	for _, r := range samChats.got {
		if s := lastMessage(r.Chat); strings.Contains(s, "WHISPER") || strings.Contains(s, "DRAFT") {
			t.Errorf("a whisper or a draft shown as the last message: %q", s)
		}
		if r.Chat.GetConversation().GetId() == support.Id {
			t.Errorf("sam, who may not see support's open chats, got %v", r.Chat)
		}
	}
	samChats.mu.Unlock()

	// Each supervisor sees the last messages of the units they may see open chats of, and
	// nothing of the others', nor of another tenant's.
	if _, err := cat.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: support.Id, ClientMessageId: "c1", Text: "SUPPORT-on-it"})); err != nil {
		t.Fatal(err)
	}
	sueChats.wait(t, "cat's message on sue's stream", func(r *supervisionv1.WatchOpenChatsResponse) bool {
		return chatOf(support.Id)(r) && lastMessage(r.Chat) == "AGENT Cat: SUPPORT-on-it"
	})
	samChats.wait(t, "the end of the test on sam's stream", func(r *supervisionv1.WatchOpenChatsResponse) bool {
		return lastMessage(r.Chat) == "VISITOR Vera: SALES-thanks"
	})
	ginaChats.mu.Lock()
	defer ginaChats.mu.Unlock()
	if len(ginaChats.got) != 1 {
		t.Errorf("gina of another tenant got %v", ginaChats.got)
	}
	for _, leak := range []string{"SALES", "SUPPORT", "ü😀", "Vera"} {
		if strings.Contains(ginaWire.String(), leak) {
			t.Errorf("%q reached gina of another tenant", leak)
		}
	}
	for _, leak := range []string{"SALES", "ü😀", whisper, draft} {
		if strings.Contains(sueWire.String(), leak) {
			t.Errorf("%q reached sue, who sees only support", leak)
		}
	}
}
