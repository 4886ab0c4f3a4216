package bench

import (
	"net/http"

	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
)

// apiClient is one HTTP/2 connection's worth of clients of the public API.
type apiClient struct {
	http *http.Client
	chat chatv1connect.ChatServiceClient
	auth authv1connect.AuthServiceClient
}

// newClients returns n clients, each with a transport of its own that speaks HTTP/2
// without TLS (prior knowledge), as a widget or console behind an h2c-aware proxy would.
// Connect clients use the Connect protocol with the protobuf binary codec by default.
func newClients(base string, n int) []*apiClient {
	out := make([]*apiClient, n)
	for i := range out {
		p := new(http.Protocols)
		p.SetUnencryptedHTTP2(true)
		hc := &http.Client{Transport: &http.Transport{Protocols: p}}
		out[i] = &apiClient{
			http: hc,
			chat: chatv1connect.NewChatServiceClient(hc, base),
			auth: authv1connect.NewAuthServiceClient(hc, base),
		}
	}
	return out
}

func closeClients(cs []*apiClient) {
	for _, c := range cs {
		c.http.CloseIdleConnections()
	}
}
