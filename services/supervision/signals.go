package supervision

import (
	"context"

	"connectrpc.com/connect"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
)

// WatchOpenChats is not served yet.
func (s *Server) WatchOpenChats(ctx context.Context, _ *connect.Request[supervisionv1.WatchOpenChatsRequest], _ *connect.ServerStream[supervisionv1.WatchOpenChatsResponse]) error {
	return rpcerr.Errorf(connect.CodeUnimplemented, "WatchOpenChats is not served yet")
}

// ListSignals is not served yet.
func (s *Server) ListSignals(ctx context.Context, _ *connect.Request[supervisionv1.ListSignalsRequest]) (*connect.Response[supervisionv1.ListSignalsResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "ListSignals is not served yet")
}
