package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Server is the AuthService.
type Server struct {
	db   *store.DB
	auth *Authenticator
}

var _ authv1connect.AuthServiceHandler = (*Server)(nil)

// NewServer returns the AuthService.
func NewServer(db *store.DB, a *Authenticator) *Server { return &Server{db: db, auth: a} }

// PublicProcedures need no token.
var PublicProcedures = []string{authv1connect.AuthServiceLoginProcedure}

var errBadLogin = connect.NewError(connect.CodeUnauthenticated, errors.New("unknown tenant, username or password"))

// Login exchanges a tenant's local account credentials for a bearer token.
func (s *Server) Login(ctx context.Context, req *connect.Request[authv1.LoginRequest]) (*connect.Response[authv1.LoginResponse], error) {
	m := req.Msg
	switch {
	case m.Tenant == "":
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("tenant: required"))
	case m.Username == "":
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("username: required"))
	case m.Password == "":
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("password: required"))
	}
	t, err := s.db.TenantByName(ctx, m.Tenant)
	if errors.Is(err, store.ErrNotFound) {
		CheckPassword("", m.Password)
		return nil, errBadLogin
	}
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	var acct *store.Account
	var token string
	expires := time.Now().Add(TokenTTL)
	err = s.db.InTenant(ctx, t.ID, func(tx pgx.Tx) error {
		var err error
		acct, err = store.AccountByUsername(ctx, tx, m.Username)
		if errors.Is(err, store.ErrNotFound) {
			CheckPassword("", m.Password)
			return errBadLogin
		}
		if err != nil {
			return err
		}
		if !CheckPassword(acct.PasswordHash, m.Password) {
			return errBadLogin
		}
		var hash []byte
		token, hash = NewStaffToken(t.ID)
		return store.CreateSession(ctx, tx, t.ID, acct.ID, hash, expires, userAgent(req.Header().Get("User-Agent")))
	})
	if err != nil {
		var ce *connect.Error
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, rpcerr.Internal(ctx, err)
	}
	return connect.NewResponse(&authv1.LoginResponse{Token: token, ExpiresAtUnix: expires.Unix(), Account: account(m.Tenant, acct)}), nil
}

// maxUserAgentBytes is the longest User-Agent kept with a session, as visits keep it.
const maxUserAgentBytes = 512

func userAgent(s string) string {
	if len(s) > maxUserAgentBytes {
		s = s[:maxUserAgentBytes]
	}
	return strings.ToValidUTF8(s, "")
}

// Logout revokes the call's token.
func (s *Server) Logout(ctx context.Context, _ *connect.Request[authv1.LogoutRequest]) (*connect.Response[authv1.LogoutResponse], error) {
	p, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	_, secret := splitStaff(p.Token)
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		return store.RevokeSession(ctx, tx, hashSecret(secret))
	}); err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	// After the commit, so that no check in between caches the token again.
	s.auth.SessionsEnded(ctx, p.Tenant, p.Account.ID)
	return connect.NewResponse(&authv1.LogoutResponse{}), nil
}

// WhoAmI describes the caller.
func (s *Server) WhoAmI(ctx context.Context, _ *connect.Request[authv1.WhoAmIRequest]) (*connect.Response[authv1.WhoAmIResponse], error) {
	p, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	var tenant string
	var grants map[uuid.UUID]store.Grant
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		if tenant, err = store.TenantName(ctx, tx); err != nil {
			return err
		}
		grants, err = store.Grants(ctx, tx, p.Account.Username, p.Account.Role == store.RoleAdmin)
		return err
	}); err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	res := &authv1.WhoAmIResponse{Account: account(tenant, p.Account)}
	for _, g := range grants {
		grant := &authv1.UnitGrant{BusinessUnit: g.UnitName}
		for _, perm := range []string{store.PermSupervise, store.PermSuperviseOpenChats, store.PermAllChats} {
			if g.Has(perm) {
				grant.Permissions = append(grant.Permissions, perm)
			}
		}
		res.Grants = append(res.Grants, grant)
	}
	slices.SortFunc(res.Grants, func(a, b *authv1.UnitGrant) int { return strings.Compare(a.BusinessUnit, b.BusinessUnit) })
	return connect.NewResponse(res), nil
}

func staff(ctx context.Context) (*Principal, error) {
	p := FromContext(ctx)
	if p == nil || p.Account == nil {
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("only staff accounts have a session"))
	}
	return p, nil
}

// splitStaff returns the tenant and secret parts of a staff token.
func splitStaff(token string) (string, string) {
	parts := strings.SplitN(token, ".", 3)
	if len(parts) != 3 {
		return "", ""
	}
	return parts[1], parts[2]
}

func account(tenant string, a *store.Account) *authv1.Account {
	role := map[string]authv1.Role{store.RoleAgent: authv1.Role_ROLE_AGENT, store.RoleSupervisor: authv1.Role_ROLE_SUPERVISOR, store.RoleAdmin: authv1.Role_ROLE_ADMIN}[a.Role]
	return &authv1.Account{Tenant: tenant, Username: a.Username, DisplayName: a.DisplayName, Role: role, Agent: a.AgentName}
}
