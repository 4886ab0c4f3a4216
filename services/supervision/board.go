package supervision

import (
	"context"

	"connectrpc.com/connect"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
)

// GetBoard is not served yet.
func (s *Server) GetBoard(ctx context.Context, _ *connect.Request[supervisionv1.GetBoardRequest]) (*connect.Response[supervisionv1.GetBoardResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "GetBoard is not served yet")
}

// WatchBoard is not served yet.
func (s *Server) WatchBoard(ctx context.Context, _ *connect.Request[supervisionv1.WatchBoardRequest], _ *connect.ServerStream[supervisionv1.WatchBoardResponse]) error {
	return rpcerr.Errorf(connect.CodeUnimplemented, "WatchBoard is not served yet")
}
