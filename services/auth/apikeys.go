package auth

import (
	"context"
	"errors"
	"regexp"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// apiKeyName is a DNS label, as the key's name must be.
var apiKeyName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// admin returns the caller if it is a tenant admin.
func admin(ctx context.Context) (*Principal, error) {
	p := FromContext(ctx)
	if p == nil || p.Account == nil || p.Account.Role != store.RoleAdmin {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only tenant admins manage API keys")
	}
	return p, nil
}

func checkKeyName(name string) error {
	switch {
	case name == "":
		return rpcerr.Invalid("name", "required")
	case !apiKeyName.MatchString(name):
		return rpcerr.Invalid("name", "%s is not a DNS label (lower-case letters, digits and dashes, at most 63)", rpcerr.Quote(name))
	}
	return nil
}

// CreateApiKey makes an API key for the tenant's backend; the key is in the response only.
func (s *Server) CreateApiKey(ctx context.Context, req *connect.Request[authv1.CreateApiKeyRequest]) (*connect.Response[authv1.CreateApiKeyResponse], error) {
	p, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkKeyName(req.Msg.Name); err != nil {
		return nil, err
	}
	key, hash := NewAPIKey(p.Tenant)
	var k *store.APIKey
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		k, err = store.CreateAPIKey(ctx, tx, p.Tenant, req.Msg.Name, hash)
		return err
	})
	if errors.Is(err, store.ErrAPIKeyExists) {
		return nil, rpcerr.Errorf(connect.CodeAlreadyExists, "an API key named %s exists; revoke it first or choose another name", rpcerr.Quote(req.Msg.Name))
	}
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	return connect.NewResponse(&authv1.CreateApiKeyResponse{Key: key, ApiKey: apiKey(k)}), nil
}

// ListApiKeys lists the tenant's live API keys by name, without their secrets.
func (s *Server) ListApiKeys(ctx context.Context, _ *connect.Request[authv1.ListApiKeysRequest]) (*connect.Response[authv1.ListApiKeysResponse], error) {
	p, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	var keys []*store.APIKey
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		keys, err = store.ListAPIKeys(ctx, tx)
		return err
	}); err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	res := &authv1.ListApiKeysResponse{}
	for _, k := range keys {
		res.ApiKeys = append(res.ApiKeys, apiKey(k))
	}
	return connect.NewResponse(res), nil
}

// RevokeApiKey revokes an API key by name; every replica refuses it at once.
func (s *Server) RevokeApiKey(ctx context.Context, req *connect.Request[authv1.RevokeApiKeyRequest]) (*connect.Response[authv1.RevokeApiKeyResponse], error) {
	p, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkKeyName(req.Msg.Name); err != nil {
		return nil, err
	}
	var id uuid.UUID
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		id, err = store.RevokeAPIKey(ctx, tx, req.Msg.Name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, rpcerr.Errorf(connect.CodeNotFound, "no API key named %s", rpcerr.Quote(req.Msg.Name))
	}
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	// After the commit, so that no check in between caches the key again.
	s.auth.ForgetAPIKey(ctx, p.Tenant, id)
	return connect.NewResponse(&authv1.RevokeApiKeyResponse{}), nil
}

func apiKey(k *store.APIKey) *authv1.ApiKey {
	out := &authv1.ApiKey{Name: k.Name, CreatedAt: timestamppb.New(k.CreatedAt)}
	if k.LastUsedAt != nil {
		out.LastUsedAt = timestamppb.New(*k.LastUsedAt)
	}
	return out
}
