package chat_test

import (
	"strings"
	"testing"

	"connectrpc.com/connect"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestTenantIsolation covers the calls that take no token: a widget key opens its own
// tenant only, and sign-in tells a wrong password from nothing else. Every rpc with every
// kind of caller and token is walked by the authorization matrix (services/authz).
func TestTenantIsolation(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)

	t.Run("a widget key opens only its own tenant's units", func(t *testing.T) {
		_, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: env.Tenants["globex"].WidgetKey, BusinessUnit: "support"}))
		if testenv.Code(err) != connect.CodeNotFound {
			t.Fatalf("globex's key on acme's unit name: %v", err)
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
