package limits

import (
	"context"
	"errors"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
)

// Interceptor applies the limits that the call itself tells: messages and drafts by the
// caller's principal, sign-in failures by account and address, and open streams by token.
// It goes after the authenticating interceptor, whose principal it reads. Widget calls
// are limited by the chat service, which alone knows their tenant (from the widget key).
func (l *Limiter) Interceptor() connect.Interceptor { return interceptor{l} }

type interceptor struct{ l *Limiter }

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		switch req.Spec().Procedure {
		case chatv1connect.ChatServiceSendMessageProcedure:
			if p := auth.FromContext(ctx); p != nil && (p.Visitor || p.IsAgent()) {
				refund, err := i.l.Message(p.Tenant, p.Visitor, writer(p))
				if err != nil {
					return nil, err
				}
				res, err := next(ctx, req)
				if connect.CodeOf(err) == connect.CodeUnavailable {
					refund()
				}
				return res, err
			}
		case chatv1connect.ChatServiceUpdateDraftProcedure:
			if p := auth.FromContext(ctx); p != nil && (p.Visitor || p.Account != nil) {
				if err := i.l.Draft(p.Tenant, writer(p)); err != nil {
					return nil, err
				}
			}
		case authv1connect.AuthServiceLoginProcedure:
			return i.login(ctx, req, next)
		}
		return next(ctx, req)
	}
}

// login counts a sign-in with wrong credentials against the account and the address.
func (i interceptor) login(ctx context.Context, req connect.AnyRequest, next connect.UnaryFunc) (connect.AnyResponse, error) {
	m, ok := req.Any().(*authv1.LoginRequest)
	if !ok {
		return next(ctx, req)
	}
	done, err := i.l.Login(m.GetTenant(), m.GetUsername(), i.l.Address(req.Peer(), req.Header()))
	if err != nil {
		return nil, err
	}
	res, err := next(ctx, req)
	var ce *connect.Error
	done(errors.As(err, &ce) && ce.Code() == connect.CodeUnauthenticated)
	return res, err
}

// writer is whom per-writer limits count: a visitor's conversation, or a staff account.
func writer(p *auth.Principal) uuid.UUID {
	if p.Visitor {
		return p.Conversation
	}
	return p.Account.ID
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		p := auth.FromContext(ctx)
		if p == nil {
			return next(ctx, conn)
		}
		closeStream, err := i.l.OpenStream(p.Tenant, p.Token, p.Visitor)
		if err != nil {
			return err
		}
		defer closeStream()
		return next(ctx, conn)
	}
}
