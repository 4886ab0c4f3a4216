package browser_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// agent is an agent online through the API (an open AgentStream), not in a browser.
type agent struct {
	client  chatv1connect.ChatServiceClient
	offline context.CancelFunc
}

// agentOnline opens the agent's stream and waits until it reports the agent's status.
func agentOnline(tb testing.TB, env *testenv.Env, username string) *agent {
	tb.Helper()
	client := env.Chat(env.Login(tb, "acme", username))
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	stream, err := client.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		tb.Fatalf("%s's agent stream: %v", username, err)
	}
	online := make(chan struct{})
	var once sync.Once
	go func() {
		for stream.Receive() {
			if stream.Msg().GetStatus() != 0 {
				once.Do(func() { close(online) })
			}
		}
	}()
	select {
	case <-online:
	case <-time.After(10 * time.Second):
		tb.Fatalf("%s's agent stream reported no status within 10s", username)
	}
	return &agent{client: client, offline: cancel}
}

// visitor is a visitor's side of one conversation, through the API.
type visitor struct {
	conversation string
	token        string
	client       chatv1connect.ChatServiceClient
}

// startChat starts a conversation from the tenant's widget key with a first message.
func startChat(tb testing.TB, env *testenv.Env, unit, name, first string) *visitor {
	tb.Helper()
	res, err := env.Chat("").StartConversation(context.Background(), connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: unit, VisitorName: name,
		FirstMessage: &chatv1.Message{ClientMessageId: uuid.NewString(), Text: first}}))
	if err != nil {
		tb.Fatalf("%s starting a chat in %s: %v", name, unit, err)
	}
	if res.Msg.Conversation == nil {
		tb.Fatalf("%s's chat in %s was kept as an offline message: nobody online", name, unit)
	}
	return &visitor{conversation: res.Msg.Conversation.Id, token: res.Msg.VisitorToken, client: env.Chat(res.Msg.VisitorToken)}
}
