package supervision

import (
	"context"

	"connectrpc.com/connect"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
)

// GetAgentTable is not served yet.
func (s *Server) GetAgentTable(ctx context.Context, _ *connect.Request[supervisionv1.GetAgentTableRequest]) (*connect.Response[supervisionv1.GetAgentTableResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "GetAgentTable is not served yet")
}
