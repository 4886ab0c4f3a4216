package browser_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// A visitor chats from the widget on a customer's site, Ann answers in her workspace, Sam
// supervises from Open chats, sees Ann's draft, whispers, transfers the chat to Bob and
// finishes it, and the visitor rates it; the visitor's page never shows (or receives) the
// whisper or the draft. HTML typed into a name and a message stays text.
func TestChatSupervisedInTheBrowser(t *testing.T) {
	node := requireBrowser(t)
	env, s := newScenario(t, "chat")
	s.VisitorName = "Vera Visitor"
	runScript(t, node, "chat.mjs", s, 6*time.Minute)

	// What the pages showed is what the server stored: the chat ended with Bob and rated.
	var state, agent, comment string
	var csat int
	err := env.Owner.QueryRow(context.Background(), `
		SELECT c.state, a.name, r.csat, r.comment
		FROM conversations c JOIN visitors v USING (tenant_id, visitor_id)
		JOIN agents a USING (tenant_id, agent_id) JOIN ratings r USING (tenant_id, conversation_id)
		WHERE v.name = $1`, s.VisitorName).Scan(&state, &agent, &csat, &comment)
	if err != nil {
		t.Fatalf("%s's rated chat: %v", s.VisitorName, err)
	}
	if state != "closed" || agent != "bob" || csat != 5 || comment == "" {
		t.Fatalf("%s's chat is %s with %s, rated %d with comment %q; want closed with bob, rated 5 with a comment", s.VisitorName, state, agent, csat, comment)
	}
}

// Every view at 1280×800 and at phone size, with screenshots: login (and its error for a
// wrong password), logout, the navigation by role, a keyboard-only login and reply, the
// offline form of a unit where nobody is online, and a finished chat's transcript.
func TestConsoleViewsInTheBrowser(t *testing.T) {
	node := requireBrowser(t)
	env, s := newScenario(t, "views")
	s.WrongPasswordError = wrongPasswordError(t, env)
	s.FinishedConversation, s.FinishedVisitor = finishedChat(t, env), finishedVisitor
	runScript(t, node, "console.mjs", s, 6*time.Minute)

	var kept int
	err := env.Owner.QueryRow(context.Background(), `
		SELECT count(*) FROM offline_messages JOIN business_units USING (tenant_id, unit_id)
		WHERE business_units.name = 'billing' AND offline_messages.email <> ''`).Scan(&kept)
	if err != nil || kept != 1 {
		t.Fatalf("offline messages kept for billing: %d, %v; want the one the widget sent", kept, err)
	}
}

// wrongPasswordError is the server's message for a wrong password, which the login page
// must show.
func wrongPasswordError(t *testing.T, env *testenv.Env) string {
	_, err := env.Auth("").Login(context.Background(), connect.NewRequest(&authv1.LoginRequest{Tenant: "acme", Username: "sam", Password: "not-the-password"}))
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Message() == "" {
		t.Fatalf("a wrong password answered %v, want an error with a message", err)
	}
	return ce.Message()
}

const finishedVisitor = "Tess Transcript"

// finishedChat has Cat answer a rated chat in support through the API and close it, for
// All chats and the transcript to show; Cat goes offline after.
func finishedChat(t *testing.T, env *testenv.Env) string {
	ctx := context.Background()
	cat := agentOnline(t, env, "cat")
	defer cat.offline()
	visitor := startChat(t, env, "support", finishedVisitor, "Hello, my stove leaks gas at the valve.")
	for _, step := range []func() error{
		func() error {
			_, err := cat.client.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: visitor.conversation}))
			return err
		},
		func() error {
			_, err := cat.client.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: visitor.conversation, ClientMessageId: "cat-1",
				Text: "Please stop using it; a replacement valve is on its way."}))
			return err
		},
		func() error {
			_, err := visitor.client.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: visitor.conversation, Csat: 5,
				Thumb: chatv1.Thumb_THUMB_UP, Comment: "Quick and clear."}))
			return err
		},
		func() error {
			_, err := cat.client.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: visitor.conversation, Reason: "resolved"}))
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatalf("the finished chat for the transcript: %v", err)
		}
	}
	return visitor.conversation
}
