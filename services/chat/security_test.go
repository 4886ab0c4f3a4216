package chat_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestTenantIsolation attacks one tenant's conversations with everything another tenant,
// another visitor, or nobody at all can hold: each attempt is refused with no data and
// nothing changes.
func TestTenantIsolation(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	ann := online(t, env, "acme", "ann")
	ben := online(t, env, "acme", "ben")
	gus := online(t, env, "globex", "gus")
	victim := start(t, env, "acme", "sales", "my account number is 1234")
	if victim.conv.Agent != "ann" && victim.conv.Agent != "ben" {
		t.Fatalf("victim conversation went to %q", victim.conv.Agent)
	}
	owner, other := ann, ben
	if victim.conv.Agent == "ben" {
		owner, other = ben, ann
	}
	if _, err := owner.client.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: victim.conv.Id})); err != nil {
		t.Fatal(err)
	}
	otherVisitor := start(t, env, "acme", "sales", "")
	globexVisitor := start(t, env, "globex", "sales", "")

	// A token claiming acme's tenant with globex's secret, and the other way round.
	acmeTenant := env.Tenants["acme"].ID.String()
	globexTenant := env.Tenants["globex"].ID.String()
	forged := strings.Replace(gus.token, globexTenant, acmeTenant, 1)
	forgedVisitor := strings.Replace(globexVisitor.token, globexTenant, acmeTenant, 1)
	forgedVisitor = strings.Replace(forgedVisitor, globexVisitor.conv.Id, victim.conv.Id, 1)

	attackers := []struct {
		name  string
		token string
		codes []connect.Code
	}{
		{"an agent of another tenant", gus.token, []connect.Code{connect.CodeNotFound, connect.CodePermissionDenied}},
		{"a visitor of another tenant", globexVisitor.token, []connect.Code{connect.CodeNotFound, connect.CodePermissionDenied}},
		{"another visitor of the same tenant", otherVisitor.token, []connect.Code{connect.CodePermissionDenied}},
		{"an agent of the same tenant the conversation is not assigned to", other.token, []connect.Code{connect.CodePermissionDenied}},
		{"a staff token moved to another tenant", forged, []connect.Code{connect.CodeUnauthenticated}},
		{"a visitor token moved to another tenant and conversation", forgedVisitor, []connect.Code{connect.CodeUnauthenticated}},
		{"a made-up token", "sbs." + acmeTenant + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []connect.Code{connect.CodeUnauthenticated}},
		{"no token", "", []connect.Code{connect.CodeUnauthenticated}},
	}
	id := victim.conv.Id
	calls := []struct {
		name string
		call func(c chatv1ChatClient) error
	}{
		{"GetConversation", func(c chatv1ChatClient) error {
			_, err := c.GetConversation(ctx, connect.NewRequest(&chatv1.GetConversationRequest{ConversationId: id}))
			return err
		}},
		{"ListEvents", func(c chatv1ChatClient) error {
			_, err := c.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: id}))
			return err
		}},
		{"SendMessage", func(c chatv1ChatClient) error {
			_, err := c.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: id, ClientMessageId: uuid.NewString(), Text: "injected"}))
			return err
		}},
		{"UpdateDraft", func(c chatv1ChatClient) error {
			_, err := c.UpdateDraft(ctx, connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: id, Text: "injected"}))
			return err
		}},
		{"RateConversation", func(c chatv1ChatClient) error {
			_, err := c.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: id, Csat: 1}))
			return err
		}},
		{"CloseConversation", func(c chatv1ChatClient) error {
			_, err := c.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: id}))
			return err
		}},
		{"AcceptConversation", func(c chatv1ChatClient) error {
			_, err := c.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: id}))
			return err
		}},
		{"TransferConversation", func(c chatv1ChatClient) error {
			_, err := c.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{ConversationId: id,
				Target: &chatv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "sales"}}))
			return err
		}},
		{"ListTransferTargets", func(c chatv1ChatClient) error {
			_, err := c.ListTransferTargets(ctx, connect.NewRequest(&chatv1.ListTransferTargetsRequest{ConversationId: id}))
			return err
		}},
		{"Subscribe", func(c chatv1ChatClient) error {
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			s, err := c.Subscribe(sctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: id}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil // data leaked
			}
			return s.Err()
		}},
	}
	before := rowCounts(t, env)
	for _, a := range attackers {
		client := env.Chat(a.token)
		for _, c := range calls {
			t.Run(a.name+" calling "+c.name+" is refused", func(t *testing.T) {
				err := c.call(client)
				code := testenv.Code(err)
				for _, want := range a.codes {
					if code == want {
						if strings.Contains(err.Error(), "1234") {
							t.Fatalf("the error leaks conversation data: %v", err)
						}
						return
					}
				}
				t.Fatalf("got %v, want one of %v", err, a.codes)
			})
		}
	}
	if after := rowCounts(t, env); after != before {
		t.Fatalf("the attempts changed rows:\n%s\n%s", before, after)
	}

	t.Run("a widget key opens only its own tenant's units", func(t *testing.T) {
		_, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: env.Tenants["globex"].WidgetKey, BusinessUnit: "support"}))
		if testenv.Code(err) != connect.CodeNotFound {
			t.Fatalf("globex's key on acme's unit name: %v", err)
		}
	})

	t.Run("logout revokes the token", func(t *testing.T) {
		token := env.Login(t, "acme", "ben")
		if _, err := env.Auth(token).Logout(ctx, connect.NewRequest(&authv1.LogoutRequest{})); err != nil {
			t.Fatal(err)
		}
		_, err := env.Chat(token).ListMyConversations(ctx, connect.NewRequest(&chatv1.ListMyConversationsRequest{}))
		if testenv.Code(err) != connect.CodeUnauthenticated {
			t.Fatalf("a revoked token: %v", err)
		}
	})

	t.Run("a wrong password or unknown user gets the same answer", func(t *testing.T) {
		for _, req := range []*authv1.LoginRequest{
			{Tenant: "acme", Username: "ann", Password: "wrong"},
			{Tenant: "acme", Username: "nobody", Password: "wrong"},
			{Tenant: "nowhere", Username: "ann", Password: "wrong"},
		} {
			_, err := env.Auth("").Login(ctx, connect.NewRequest(req))
			if testenv.Code(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "unknown tenant, username or password") {
				t.Fatalf("%v: %v", req, err)
			}
		}
	})
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
