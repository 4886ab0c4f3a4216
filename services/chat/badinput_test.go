package chat_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestBadInputIsRefusedAndChangesNothing sends what a buggy or hostile client would and
// checks each answer's code and message, and that no row changed.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	ann := online(t, env, "acme", "ann")
	ben := online(t, env, "acme", "ben")
	open := start(t, env, "acme", "sales", "") // assigned, not accepted
	closed := start(t, env, "acme", "sales", "")
	if _, err := closed.client.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: closed.conv.Id})); err != nil {
		t.Fatal(err)
	}
	agentOf := func(v *visitor) *agentSession {
		if v.conv.Agent == "ann" {
			return ann
		}
		return ben
	}
	notMine := ben
	if open.conv.Agent == "ben" {
		notMine = ann
	}
	key := env.Tenants["acme"].WidgetKey
	send := func(c chatv1ChatClient, conv, id, text string) error {
		_, err := c.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv, ClientMessageId: id, Text: text}))
		return err
	}
	cases := []struct {
		name    string
		call    func() error
		code    connect.Code
		mention string
	}{
		{"an empty message", func() error { return send(open.client, open.conv.Id, "c1", "") }, connect.CodeInvalidArgument, "text"},
		{"a message of only spaces", func() error { return send(open.client, open.conv.Id, "c1", "  \n\t ") }, connect.CodeInvalidArgument, "text"},
		{"a message over 4096 bytes", func() error {
			return send(open.client, open.conv.Id, "c1", strings.Repeat("é", chat.MaxMessageBytes/2+1))
		}, connect.CodeInvalidArgument, "4096"},
		{"a message with a NUL", func() error { return send(open.client, open.conv.Id, "c1", "a\x00b") }, connect.CodeInvalidArgument, "NUL"},
		{"a message without a client id", func() error { return send(open.client, open.conv.Id, "", "hi") }, connect.CodeInvalidArgument, "client_message_id"},
		{"a client id over 64 bytes", func() error { return send(open.client, open.conv.Id, strings.Repeat("x", 65), "hi") }, connect.CodeInvalidArgument, "client_message_id"},
		{"a malformed conversation id", func() error { return send(open.client, "not-a-uuid", "c1", "hi") }, connect.CodeInvalidArgument, "conversation_id"},
		{"a missing conversation id", func() error { return send(ann.client, "", "c1", "hi") }, connect.CodeInvalidArgument, "conversation_id"},
		{"an unknown conversation id", func() error {
			return send(ann.client, "00000000-0000-4000-8000-000000000000", "c1", "hi")
		}, connect.CodeNotFound, "not found"},
		{"a message in a closed conversation", func() error { return send(closed.client, closed.conv.Id, "c1", "hello?") }, connect.CodeFailedPrecondition, "closed"},
		{"an agent writing before accepting", func() error { return send(agentOf(open).client, open.conv.Id, "c1", "hi") }, connect.CodeFailedPrecondition, "accept"},
		{"an agent writing in another agent's conversation", func() error { return send(notMine.client, open.conv.Id, "c1", "hi") }, connect.CodePermissionDenied, "not assigned"},
		{"closing a closed conversation", func() error {
			_, err := closed.client.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: closed.conv.Id}))
			return err
		}, connect.CodeFailedPrecondition, "closed"},
		{"choosing the offline status", func() error {
			_, err := ann.client.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_OFFLINE}))
			return err
		}, connect.CodeInvalidArgument, "status"},
		{"a CSAT of 6", func() error {
			_, err := open.client.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: open.conv.Id, Csat: 6}))
			return err
		}, connect.CodeInvalidArgument, "csat"},
		{"a criterion scored twice", func() error {
			_, err := open.client.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: open.conv.Id, Criteria: []*chatv1.CriterionScore{
				{Criterion: chatv1.RatingCriterion_RATING_CRITERION_WELCOME, Score: 4}, {Criterion: chatv1.RatingCriterion_RATING_CRITERION_WELCOME, Score: 5}}}))
			return err
		}, connect.CodeInvalidArgument, "criteria[1]"},
		{"an empty rating", func() error {
			_, err := open.client.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: open.conv.Id}))
			return err
		}, connect.CodeInvalidArgument, "rating needs"},
		{"an agent rating", func() error {
			_, err := agentOf(open).client.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: open.conv.Id, Csat: 5}))
			return err
		}, connect.CodePermissionDenied, "visitor"},
		{"a transfer without a target", func() error {
			_, err := agentOf(open).client.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{ConversationId: open.conv.Id}))
			return err
		}, connect.CodeInvalidArgument, "target"},
		{"a transfer to an unknown agent", func() error {
			_, err := agentOf(open).client.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{ConversationId: open.conv.Id,
				Target: &chatv1.TransferConversationRequest_Agent{Agent: "nobody"}}))
			return err
		}, connect.CodeNotFound, "nobody"},
		{"a transfer to an unknown unit", func() error {
			_, err := agentOf(open).client.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{ConversationId: open.conv.Id,
				Target: &chatv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "marketing"}}))
			return err
		}, connect.CodeNotFound, "marketing"},
		{"a transfer to the agent who has it", func() error {
			_, err := agentOf(open).client.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{ConversationId: open.conv.Id,
				Target: &chatv1.TransferConversationRequest_Agent{Agent: open.conv.Agent}}))
			return err
		}, connect.CodeFailedPrecondition, "already"},
		{"a negative after_seq", func() error {
			_, err := open.client.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: open.conv.Id, AfterSeq: -1}))
			return err
		}, connect.CodeInvalidArgument, "after_seq"},
		{"a page of 501 events", func() error {
			_, err := open.client.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: open.conv.Id, Limit: 501}))
			return err
		}, connect.CodeInvalidArgument, "limit"},
		{"an unknown widget key", func() error {
			_, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: "wk_guess", BusinessUnit: "sales"}))
			return err
		}, connect.CodeNotFound, "widget key"},
		{"an unknown business unit", func() error {
			_, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: key, BusinessUnit: "marketing"}))
			return err
		}, connect.CodeNotFound, "marketing"},
		{"a malformed visitor email", func() error {
			_, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: key, BusinessUnit: "sales", VisitorEmail: "not an email"}))
			return err
		}, connect.CodeInvalidArgument, "visitor_email"},
		{"an empty first message", func() error {
			_, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: key, BusinessUnit: "sales",
				FirstMessage: &chatv1.Message{ClientMessageId: "f", Text: ""}}))
			return err
		}, connect.CodeInvalidArgument, "first_message.text"},
		{"a visitor calling an agent's rpc", func() error {
			_, err := open.client.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AWAY}))
			return err
		}, connect.CodePermissionDenied, "agents"},
		{"a draft over 4096 bytes", func() error {
			_, err := open.client.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: open.conv.Id, Text: strings.Repeat("x", 4097)}))
			return err
		}, connect.CodeInvalidArgument, "text"},
		{"an offline message without an email", func() error {
			_, err := env.Chat("").LeaveOfflineMessage(ctx, connect.NewRequest(&chatv1.LeaveOfflineMessageRequest{WidgetKey: key, BusinessUnit: "sales", Text: "hi"}))
			return err
		}, connect.CodeInvalidArgument, "email"},
	}
	before := rowCounts(t, env)
	for _, c := range cases {
		t.Run(c.name+" is refused", func(t *testing.T) {
			err := c.call()
			if testenv.Code(err) != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("message %q does not mention %q", err.Error(), c.mention)
			}
		})
	}
	if after := rowCounts(t, env); after != before {
		t.Fatalf("refused calls changed rows:\n%s\n%s", before, after)
	}
	_ = context.Background
}

type chatv1ChatClient = interface {
	GetConversation(context.Context, *connect.Request[chatv1.GetConversationRequest]) (*connect.Response[chatv1.GetConversationResponse], error)
	ListEvents(context.Context, *connect.Request[chatv1.ListEventsRequest]) (*connect.Response[chatv1.ListEventsResponse], error)
	SendMessage(context.Context, *connect.Request[chatv1.SendMessageRequest]) (*connect.Response[chatv1.SendMessageResponse], error)
	UpdateDraft(context.Context, *connect.Request[chatv1.UpdateDraftRequest]) (*connect.Response[chatv1.UpdateDraftResponse], error)
	RateConversation(context.Context, *connect.Request[chatv1.RateConversationRequest]) (*connect.Response[chatv1.RateConversationResponse], error)
	CloseConversation(context.Context, *connect.Request[chatv1.CloseConversationRequest]) (*connect.Response[chatv1.CloseConversationResponse], error)
	AcceptConversation(context.Context, *connect.Request[chatv1.AcceptConversationRequest]) (*connect.Response[chatv1.AcceptConversationResponse], error)
	TransferConversation(context.Context, *connect.Request[chatv1.TransferConversationRequest]) (*connect.Response[chatv1.TransferConversationResponse], error)
	ListTransferTargets(context.Context, *connect.Request[chatv1.ListTransferTargetsRequest]) (*connect.Response[chatv1.ListTransferTargetsResponse], error)
	Subscribe(context.Context, *connect.Request[chatv1.SubscribeRequest]) (*connect.ServerStreamForClient[chatv1.SubscribeResponse], error)
}
