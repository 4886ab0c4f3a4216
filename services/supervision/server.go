// Package supervision is the SupervisionService: what a supervisor does all day, within
// the business units and permissions granted on BusinessUnit resources. Changes go through
// the chat service's code, so routing, capacity and live delivery stay the same whoever
// acts; every supervision action is written to the audit log.
package supervision

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Server is the SupervisionService.
type Server struct {
	db   *store.DB
	chat *chat.Server
}

var _ supervisionv1connect.SupervisionServiceHandler = (*Server)(nil)

// New returns the SupervisionService, acting through the chat service.
func New(db *store.DB, c *chat.Server) *Server { return &Server{db: db, chat: c} }

// supervisor returns the caller if it is a supervisor or a tenant admin.
func supervisor(ctx context.Context) (*auth.Principal, error) {
	p := auth.FromContext(ctx)
	if p == nil || p.Account == nil || (p.Account.Role != store.RoleSupervisor && p.Account.Role != store.RoleAdmin) {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only supervisors and tenant admins use the supervision service")
	}
	return p, nil
}

func grants(ctx context.Context, tx pgx.Tx, p *auth.Principal) (map[uuid.UUID]store.Grant, error) {
	return store.Grants(ctx, tx, p.Account.Username, p.Account.Role == store.RoleAdmin)
}

// unitsWith lists the units where the caller holds perm, optionally only the named one.
func unitsWith(ctx context.Context, tx pgx.Tx, p *auth.Principal, perm, only string) ([]uuid.UUID, error) {
	gs, err := grants(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	found := false
	for id, g := range gs {
		if only != "" && g.UnitName != only {
			continue
		}
		found = true
		if g.Has(perm) {
			out = append(out, id)
		}
	}
	switch {
	case only != "" && !found:
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "you supervise no business unit named %s", rpcerr.Quote(only))
	case len(out) == 0:
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "you hold %s on none of these business units", perm)
	}
	return out, nil
}

// permitted reads a conversation and checks that the caller holds perm on its unit.
func permitted(ctx context.Context, tx pgx.Tx, p *auth.Principal, id uuid.UUID, perm string) (*store.Conversation, error) {
	c, err := store.GetConversation(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	gs, err := grants(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	if !gs[c.UnitID].Has(perm) {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "you do not hold %s on business unit %s", perm, rpcerr.Quote(c.UnitName))
	}
	return c, nil
}

func conversationID(s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, rpcerr.Invalid("conversation_id", "required")
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, rpcerr.Invalid("conversation_id", "%s is not a valid id (a UUID)", rpcerr.Quote(s))
	}
	return id, nil
}

// audit records an action; the action already happened, so a failure is logged, not returned.
func (s *Server) audit(ctx context.Context, p *auth.Principal, action string, conv uuid.UUID, detail string) {
	ctx = context.WithoutCancel(ctx)
	err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		return store.AddAudit(ctx, tx, p.Tenant, p.Account.Username, action, conv, detail)
	})
	if err != nil {
		rpcerr.Internal(ctx, err) //nolint:errcheck // logged
	}
}

// ListAgents lists the agents of the caller's units with status and load.
func (s *Server) ListAgents(ctx context.Context, req *connect.Request[supervisionv1.ListAgentsRequest]) (*connect.Response[supervisionv1.ListAgentsResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	var agents []*store.AgentLoad
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		gs, err := grants(ctx, tx, p)
		if err != nil {
			return err
		}
		var units []uuid.UUID
		for id, g := range gs {
			if req.Msg.BusinessUnit == "" || g.UnitName == req.Msg.BusinessUnit {
				units = append(units, id)
			}
		}
		if len(units) == 0 {
			return rpcerr.Errorf(connect.CodePermissionDenied, "you supervise no business unit named %s", rpcerr.Quote(req.Msg.BusinessUnit))
		}
		agents, err = store.ListAgentLoads(ctx, tx, units)
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	out := &supervisionv1.ListAgentsResponse{}
	for _, a := range agents {
		out.Agents = append(out.Agents, &supervisionv1.AgentLoad{
			Agent: a.Name, DisplayName: a.DisplayName, Status: chat.StatusToProto(a.Status),
			StatusSince: timestamppb.New(a.StatusChangedAt), OpenConversations: int32(a.OpenCount),
			Capacity: int32(a.Capacity), BusinessUnits: a.Units,
		})
	}
	return connect.NewResponse(out), nil
}

// ListOpenChats lists the open chats of the units where the caller holds SuperviseOpenChats.
func (s *Server) ListOpenChats(ctx context.Context, req *connect.Request[supervisionv1.ListOpenChatsRequest]) (*connect.Response[supervisionv1.ListOpenChatsResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	var chats []*store.OpenChat
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		units, err := unitsWith(ctx, tx, p, store.PermSuperviseOpenChats, req.Msg.BusinessUnit)
		if err != nil {
			return err
		}
		chats, err = store.ListOpenChats(ctx, tx, units, req.Msg.Agent)
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	out := &supervisionv1.ListOpenChatsResponse{}
	now := time.Now()
	for _, c := range chats {
		oc := &supervisionv1.OpenChat{Conversation: chat.ConversationToProto(&c.Conversation), Inactive: c.Inactive}
		if c.State == store.StateQueued {
			oc.WaitingSeconds = int64(now.Sub(c.QueuedAt).Seconds())
		}
		out.Chats = append(out.Chats, oc)
	}
	return connect.NewResponse(out), nil
}

// WatchConversation streams a conversation, whispers and drafts included.
func (s *Server) WatchConversation(ctx context.Context, req *connect.Request[supervisionv1.WatchConversationRequest], stream *connect.ServerStream[supervisionv1.WatchConversationResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	id, err := conversationID(req.Msg.ConversationId)
	if err != nil {
		return err
	}
	if req.Msg.AfterSeq < 0 {
		return rpcerr.Invalid("after_seq", "%d is negative", req.Msg.AfterSeq)
	}
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		_, err := permitted(ctx, tx, p, id, store.PermSupervise)
		return err
	}); err != nil {
		return chat.StoreError(ctx, err, "conversation")
	}
	s.audit(ctx, p, store.AuditWatchStart, id, "")
	defer s.audit(ctx, p, store.AuditWatchStop, id, "")
	return s.chat.Follow(ctx, p, id, req.Msg.AfterSeq, func(e *chatv1.Event) error {
		return stream.Send(&supervisionv1.WatchConversationResponse{Event: e})
	})
}

// Whisper stores a message only staff see.
func (s *Server) Whisper(ctx context.Context, req *connect.Request[supervisionv1.WhisperRequest]) (*connect.Response[supervisionv1.WhisperResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	id, err := conversationID(m.ConversationId)
	if err != nil {
		return nil, err
	}
	if err := chat.CheckMessage(m.ClientMessageId, m.Text); err != nil {
		return nil, err
	}
	var outcome string
	var e *store.Event
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if _, err := permitted(ctx, tx, p, id, store.PermSupervise); err != nil {
			return err
		}
		outcome, e, _, err = s.db.AppendMessage(ctx, tx, p.Tenant, store.NewMessage{Conversation: id, Author: p.Author(),
			ClientMessageID: m.ClientMessageId, Body: m.Text, Visibility: store.VisibleToStaff})
		if err != nil {
			return err
		}
		switch outcome {
		case store.OutcomeClosed:
			return store.ErrClosed
		case store.OutcomeIDTaken:
			return rpcerr.Errorf(connect.CodeAlreadyExists, "client_message_id %s is already used by another author in this conversation", rpcerr.Quote(m.ClientMessageId))
		case store.OutcomeStored:
			return store.AddAudit(ctx, tx, p.Tenant, p.Account.Username, store.AuditWhisper, id, "")
		}
		return nil
	})
	if err != nil {
		return nil, chat.StoreError(ctx, err, "conversation")
	}
	if outcome == store.OutcomeStored {
		s.chat.Publish(e)
	}
	return connect.NewResponse(&supervisionv1.WhisperResponse{Event: chat.EventToProto(e), Duplicate: outcome == store.OutcomeDuplicate}), nil
}

// supervise is the check, under the conversation's lock, that the caller holds Supervise
// on the conversation's unit.
func (s *Server) supervise(ctx context.Context, p *auth.Principal) (store.Check, error) {
	var gs map[uuid.UUID]store.Grant
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		gs, err = grants(ctx, tx, p)
		return err
	}); err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	return func(c *store.Conversation) error {
		if !gs[c.UnitID].Has(store.PermSupervise) {
			return rpcerr.Errorf(connect.CodePermissionDenied, "you do not hold %s on business unit %s", store.PermSupervise, rpcerr.Quote(c.UnitName))
		}
		return nil
	}, nil
}

// TransferConversation hands a conversation to another agent or unit.
func (s *Server) TransferConversation(ctx context.Context, req *connect.Request[supervisionv1.TransferConversationRequest]) (*connect.Response[supervisionv1.TransferConversationResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	id, err := conversationID(m.ConversationId)
	if err != nil {
		return nil, err
	}
	t := store.Transfer{Note: m.Note}
	switch target := m.Target.(type) {
	case *supervisionv1.TransferConversationRequest_Agent:
		t.AgentName = target.Agent
	case *supervisionv1.TransferConversationRequest_BusinessUnit:
		t.UnitName = target.BusinessUnit
	}
	if err := chat.CheckTransfer(t); err != nil {
		return nil, err
	}
	allow, err := s.supervise(ctx, p)
	if err != nil {
		return nil, err
	}
	r, err := s.chat.Transfer(ctx, p, id, t, allow)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, p, store.AuditTransfer, id, t.AgentName+t.UnitName)
	return connect.NewResponse(&supervisionv1.TransferConversationResponse{Conversation: chat.ConversationToProto(r.Conversation)}), nil
}

// FinishConversation closes a conversation.
func (s *Server) FinishConversation(ctx context.Context, req *connect.Request[supervisionv1.FinishConversationRequest]) (*connect.Response[supervisionv1.FinishConversationResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	id, err := conversationID(req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	if err := chat.CheckNote("reason", req.Msg.Reason); err != nil {
		return nil, err
	}
	allow, err := s.supervise(ctx, p)
	if err != nil {
		return nil, err
	}
	r, err := s.chat.Close(ctx, p, id, req.Msg.Reason, allow)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, p, store.AuditFinish, id, req.Msg.Reason)
	return connect.NewResponse(&supervisionv1.FinishConversationResponse{Conversation: chat.ConversationToProto(r.Conversation)}), nil
}
