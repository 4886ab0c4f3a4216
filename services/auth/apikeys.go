package auth

import (
	"context"

	"connectrpc.com/connect"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
)

// CreateApiKey makes an API key for the tenant's backend.
func (s *Server) CreateApiKey(ctx context.Context, _ *connect.Request[authv1.CreateApiKeyRequest]) (*connect.Response[authv1.CreateApiKeyResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "API keys are not served yet")
}

// ListApiKeys lists the tenant's API keys.
func (s *Server) ListApiKeys(ctx context.Context, _ *connect.Request[authv1.ListApiKeysRequest]) (*connect.Response[authv1.ListApiKeysResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "API keys are not served yet")
}

// RevokeApiKey revokes an API key.
func (s *Server) RevokeApiKey(ctx context.Context, _ *connect.Request[authv1.RevokeApiKeyRequest]) (*connect.Response[authv1.RevokeApiKeyResponse], error) {
	return nil, rpcerr.Errorf(connect.CodeUnimplemented, "API keys are not served yet")
}
