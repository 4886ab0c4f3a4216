package supervisionbench

import (
	"context"
	"net/http"

	"connectrpc.com/connect"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
)

// apiClient is one HTTP/2 connection's worth of clients of the public API.
type apiClient struct {
	http        *http.Client
	chat        chatv1connect.ChatServiceClient
	auth        authv1connect.AuthServiceClient
	supervision supervisionv1connect.SupervisionServiceClient
}

// newClients returns n clients, each with a transport of its own that speaks HTTP/2
// without TLS (prior knowledge), as the console and the widget behind an h2c-aware proxy
// would. Connect clients use the Connect protocol with the protobuf binary codec.
func newClients(base string, n int) []*apiClient {
	out := make([]*apiClient, n)
	for i := range out {
		p := new(http.Protocols)
		p.SetUnencryptedHTTP2(true)
		hc := &http.Client{Transport: &http.Transport{Protocols: p}}
		out[i] = &apiClient{
			http:        hc,
			chat:        chatv1connect.NewChatServiceClient(hc, base),
			auth:        authv1connect.NewAuthServiceClient(hc, base),
			supervision: supervisionv1connect.NewSupervisionServiceClient(hc, base),
		}
	}
	return out
}

func closeClients(cs []*apiClient) {
	for _, c := range cs {
		c.http.CloseIdleConnections()
	}
}

// login signs a bench account in and returns its bearer token.
func (c *apiClient) login(ctx context.Context, tenant, username string) (string, error) {
	resp, err := c.auth.Login(ctx, connect.NewRequest(&authv1.LoginRequest{Tenant: tenant, Username: username, Password: benchPassword}))
	if err != nil {
		return "", err
	}
	return resp.Msg.Token, nil
}

// authorized returns a request carrying a bearer token.
func authorized[T any](token string, msg *T) *connect.Request[T] {
	req := connect.NewRequest(msg)
	req.Header().Set("Authorization", "Bearer "+token)
	return req
}
