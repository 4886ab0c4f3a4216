package auth

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// sessionsOf returns the account whose sessions the caller names: its own when username
// is empty or its own name, any of the tenant's for a tenant admin. A caller who is not
// an admin learns nothing about other accounts, not even whether they exist.
func sessionsOf(ctx context.Context, tx pgx.Tx, p *Principal, username string) (*store.Account, error) {
	if username == "" || username == p.Account.Username {
		return p.Account, nil
	}
	if p.Account.Role != store.RoleAdmin {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only tenant admins manage other accounts' sessions")
	}
	acct, err := store.AccountByUsername(ctx, tx, username)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rpcerr.Errorf(connect.CodeNotFound, "no account named %s", rpcerr.Quote(username))
	}
	return acct, err
}

// ListSessions lists an account's live sessions, newest first.
func (s *Server) ListSessions(ctx context.Context, req *connect.Request[authv1.ListSessionsRequest]) (*connect.Response[authv1.ListSessionsResponse], error) {
	p, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	var sessions []*store.StaffSession
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		acct, err := sessionsOf(ctx, tx, p, req.Msg.Username)
		if err != nil {
			return err
		}
		sessions, err = store.ListStaffSessions(ctx, tx, acct.ID)
		return err
	})
	if err != nil {
		return nil, sessionError(ctx, err)
	}
	res := &authv1.ListSessionsResponse{}
	for _, ss := range sessions {
		out := &authv1.Session{Id: ss.ID.String(), CreatedAt: timestamppb.New(ss.CreatedAt), ExpiresAt: timestamppb.New(ss.ExpiresAt),
			UserAgent: ss.UserAgent, Current: ss.ID == p.Session}
		if ss.LastUsedAt != nil {
			out.LastUsedAt = timestamppb.New(*ss.LastUsedAt)
		}
		res.Sessions = append(res.Sessions, out)
	}
	return connect.NewResponse(res), nil
}

// RevokeSessions revokes the named sessions of an account, or all of them; every replica
// refuses their tokens at once.
func (s *Server) RevokeSessions(ctx context.Context, req *connect.Request[authv1.RevokeSessionsRequest]) (*connect.Response[authv1.RevokeSessionsResponse], error) {
	p, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	switch {
	case m.All && len(m.SessionIds) > 0:
		return nil, rpcerr.Invalid("session_ids", "name sessions or set all, not both")
	case !m.All && len(m.SessionIds) == 0:
		return nil, rpcerr.Invalid("session_ids", "name at least one session, or set all")
	}
	ids := make([]uuid.UUID, 0, len(m.SessionIds))
	for i, raw := range m.SessionIds {
		id, err := uuid.Parse(raw)
		if err != nil {
			return nil, rpcerr.Invalid(fmt.Sprintf("session_ids[%d]", i), "%s is not a session id", rpcerr.Quote(raw))
		}
		ids = append(ids, id)
	}
	var acct *store.Account
	var revoked int
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if acct, err = sessionsOf(ctx, tx, p, m.Username); err != nil {
			return err
		}
		revoked, err = store.RevokeStaffSessions(ctx, tx, acct.ID, ids)
		return err
	})
	if err != nil {
		return nil, sessionError(ctx, err)
	}
	// After the commit, so that no check in between caches a token again.
	s.auth.SessionsEnded(ctx, p.Tenant, acct.ID)
	return connect.NewResponse(&authv1.RevokeSessionsResponse{Revoked: int32(revoked)}), nil
}

func sessionError(ctx context.Context, err error) error {
	var ce *connect.Error
	var missing store.ErrSessionNotFound
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &missing):
		return rpcerr.Errorf(connect.CodeNotFound, "session %s is not a live session of this account; nothing was revoked", missing.ID)
	}
	return rpcerr.Internal(ctx, err)
}
