// Package supervision is the SupervisionService: what a supervisor does all day, within
// the business units and permissions granted on BusinessUnit resources. Changes go through
// the chat service's code, so routing, capacity and live delivery stay the same whoever
// acts; every supervision action is written to the audit log.
package supervision

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/board"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/export"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/mail"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Server is the SupervisionService.
type Server struct {
	db    *store.DB
	chat  *chat.Server
	hub   *live.Hub
	board board.Source
}

var _ supervisionv1connect.SupervisionServiceHandler = (*Server)(nil)

// New returns the SupervisionService, acting through the chat service and following
// the live hub.
func New(db *store.DB, c *chat.Server, hub *live.Hub) *Server {
	return &Server{db: db, chat: c, hub: hub}
}

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

// permitted reads a conversation and checks that the caller holds one of perms on its unit.
func permitted(ctx context.Context, tx pgx.Tx, p *auth.Principal, id uuid.UUID, perms ...string) (*store.Conversation, error) {
	c, err := store.GetConversation(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	gs, err := grants(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	for _, perm := range perms {
		if gs[c.UnitID].Has(perm) {
			return c, nil
		}
	}
	return nil, rpcerr.Errorf(connect.CodePermissionDenied, "you do not hold %s on business unit %s", strings.Join(perms, " or "), rpcerr.Quote(c.UnitName))
}

// pageLimit reads a page size: 1–500, and 0 means 100.
func pageLimit(n int32) (int, error) {
	switch {
	case n == 0:
		return 100, nil
	case n < 1 || n > 500:
		return 0, rpcerr.Invalid("limit", "%d is outside 1–500", n)
	}
	return int(n), nil
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

// agents lists the agents of the caller's units, or of the one named, with the units and
// the signals active on them there.
func (s *Server) agents(ctx context.Context, p *auth.Principal, unit string) ([]*store.AgentLoad, []uuid.UUID, map[uuid.UUID][]*store.Signal, error) {
	var agents []*store.AgentLoad
	var units []uuid.UUID
	var signals map[uuid.UUID][]*store.Signal
	err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		gs, err := grants(ctx, tx, p)
		if err != nil {
			return err
		}
		units = units[:0]
		for id, g := range gs {
			if unit == "" || g.UnitName == unit {
				units = append(units, id)
			}
		}
		if len(units) == 0 {
			return rpcerr.Errorf(connect.CodePermissionDenied, "you supervise no business unit named %s", rpcerr.Quote(unit))
		}
		if agents, err = store.ListAgentLoads(ctx, tx, units); err != nil {
			return err
		}
		signals, err = agentSignals(ctx, tx, units, uuid.Nil)
		return err
	})
	if err != nil {
		return nil, nil, nil, rpcerr.Internal(ctx, err)
	}
	return agents, units, signals, nil
}

// WatchAgents streams the agents of the caller's units, then each change of status, load
// or signals.
func (s *Server) WatchAgents(ctx context.Context, req *connect.Request[supervisionv1.WatchAgentsRequest], stream *connect.ServerStream[supervisionv1.WatchAgentsResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	// Subscribe before reading, so that no change between the two is missed.
	agents, _, _, err := s.agents(ctx, p, req.Msg.BusinessUnit)
	if err != nil {
		return err
	}
	sub := s.hub.Subscribe(live.Signals(p.Tenant))
	defer sub.Close()
	for _, a := range agents {
		sub.Add(live.Agent(p.Tenant, a.ID))
	}
	agents, units, signals, err := s.agents(ctx, p, req.Msg.BusinessUnit)
	if err != nil {
		return err
	}
	watched := map[uuid.UUID]bool{}
	for _, a := range agents {
		watched[a.ID] = true
		if err := stream.Send(&supervisionv1.WatchAgentsResponse{Agent: agentLoad(a, signals[a.ID])}); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return watchEnded(sub.Err())
		case it := <-sub.C():
			var ids []uuid.UUID
			switch {
			case it.Status != nil:
				ids = []uuid.UUID{it.Status.ID}
			case it.Assignment != nil:
				ids = []uuid.UUID{it.Agent}
			case it.Signal != nil && it.Signal.Agent.Valid && watched[it.Signal.Agent.UUID]:
				ids = []uuid.UUID{it.Signal.Agent.UUID}
			case it.Missed:
				// Other replicas' updates may have gone unheard: read every agent again.
				for id := range watched {
					ids = append(ids, id)
				}
			default:
				continue
			}
			for _, id := range ids {
				var a *store.AgentLoad
				var sigs map[uuid.UUID][]*store.Signal
				if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
					var err error
					if a, err = store.GetAgentLoad(ctx, tx, id); err != nil {
						return err
					}
					sigs, err = agentSignals(ctx, tx, units, id)
					return err
				}); err != nil {
					return rpcerr.Internal(ctx, err)
				}
				if err := stream.Send(&supervisionv1.WatchAgentsResponse{Agent: agentLoad(a, sigs[id])}); err != nil {
					return err
				}
			}
		}
	}
}

// watchEnded is the error that ends a watch stream whose subscription ended: the server
// restarting, or the client falling behind; either way it watches again.
func watchEnded(err error) error {
	if errors.Is(err, live.ErrShutdown) {
		return rpcerr.Errorf(connect.CodeUnavailable, "the server is restarting; watch again")
	}
	return rpcerr.Errorf(connect.CodeAborted, "the stream fell behind; watch again")
}

// ListAgents lists the agents of the caller's units with status, load and signals.
func (s *Server) ListAgents(ctx context.Context, req *connect.Request[supervisionv1.ListAgentsRequest]) (*connect.Response[supervisionv1.ListAgentsResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	agents, _, signals, err := s.agents(ctx, p, req.Msg.BusinessUnit)
	if err != nil {
		return nil, err
	}
	out := &supervisionv1.ListAgentsResponse{}
	for _, a := range agents {
		out.Agents = append(out.Agents, agentLoad(a, signals[a.ID]))
	}
	return connect.NewResponse(out), nil
}

func agentLoad(a *store.AgentLoad, signals []*store.Signal) *supervisionv1.AgentLoad {
	return &supervisionv1.AgentLoad{
		Agent: a.Name, DisplayName: a.DisplayName, Status: chat.StatusToProto(a.Status),
		StatusSince: timestamppb.New(a.StatusChangedAt), OpenConversations: int32(a.OpenCount),
		Capacity: int32(a.Capacity), BusinessUnits: a.Units, Signals: signalsToProto(signals),
	}
}

// ListOpenChats lists the open chats of the units where the caller holds SuperviseOpenChats.
func (s *Server) ListOpenChats(ctx context.Context, req *connect.Request[supervisionv1.ListOpenChatsRequest]) (*connect.Response[supervisionv1.ListOpenChatsResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	var chats []*supervisionv1.OpenChat
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		units, err := unitsWith(ctx, tx, p, store.PermSuperviseOpenChats, req.Msg.BusinessUnit)
		if err != nil {
			return err
		}
		chats, err = openChats(ctx, tx, units, req.Msg.Agent, nil, nil)
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	return connect.NewResponse(&supervisionv1.ListOpenChatsResponse{Chats: chats}), nil
}

// WatchConversation streams a conversation, whispers and drafts included.
func (s *Server) WatchConversation(ctx context.Context, req *connect.Request[supervisionv1.WatchConversationRequest], stream *connect.ServerStream[supervisionv1.WatchConversationResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	id, err := chat.ParseID("conversation_id", req.Msg.ConversationId)
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
	id, err := chat.ParseID("conversation_id", m.ConversationId)
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
	id, err := chat.ParseID("conversation_id", m.ConversationId)
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
	id, err := chat.ParseID("conversation_id", req.Msg.ConversationId)
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

// AddSupervisedChat adds a conversation to the caller's supervised chats.
func (s *Server) AddSupervisedChat(ctx context.Context, req *connect.Request[supervisionv1.AddSupervisedChatRequest]) (*connect.Response[supervisionv1.AddSupervisedChatResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	id, err := chat.ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if _, err := permitted(ctx, tx, p, id, store.PermSupervise); err != nil {
			return err
		}
		return store.AddSupervisedChat(ctx, tx, p.Tenant, p.Account.Username, id)
	})
	if err != nil {
		return nil, chat.StoreError(ctx, err, "conversation")
	}
	return connect.NewResponse(&supervisionv1.AddSupervisedChatResponse{}), nil
}

// RemoveSupervisedChat takes a conversation off the caller's supervised chats.
func (s *Server) RemoveSupervisedChat(ctx context.Context, req *connect.Request[supervisionv1.RemoveSupervisedChatRequest]) (*connect.Response[supervisionv1.RemoveSupervisedChatResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	id, err := chat.ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		return store.RemoveSupervisedChat(ctx, tx, p.Account.Username, id)
	}); err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	return connect.NewResponse(&supervisionv1.RemoveSupervisedChatResponse{}), nil
}

// ListSupervisedChats lists the caller's supervised chats.
func (s *Server) ListSupervisedChats(ctx context.Context, _ *connect.Request[supervisionv1.ListSupervisedChatsRequest]) (*connect.Response[supervisionv1.ListSupervisedChatsResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	var convs []*store.Conversation
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		convs, err = store.ListSupervisedChats(ctx, tx, p.Account.Username)
		return err
	}); err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	out := &supervisionv1.ListSupervisedChatsResponse{}
	for _, c := range convs {
		out.Conversations = append(out.Conversations, chat.ConversationToProto(c))
	}
	return connect.NewResponse(out), nil
}

// ListAuditLog pages through the tenant's supervision actions; tenant admins only.
func (s *Server) ListAuditLog(ctx context.Context, req *connect.Request[supervisionv1.ListAuditLogRequest]) (*connect.Response[supervisionv1.ListAuditLogResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	if p.Account.Role != store.RoleAdmin {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only tenant admins read the audit log")
	}
	limit, err := pageLimit(req.Msg.Limit)
	if err != nil {
		return nil, err
	}
	if req.Msg.BeforeId < 0 {
		return nil, rpcerr.Invalid("before_id", "%d is negative", req.Msg.BeforeId)
	}
	var entries []store.AuditEntry
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		entries, err = store.ListAudit(ctx, tx, req.Msg.BeforeId, limit)
		return err
	}); err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	out := &supervisionv1.ListAuditLogResponse{}
	for _, a := range entries {
		e := &supervisionv1.AuditEntry{Id: a.ID, At: timestamppb.New(a.At), Actor: a.Actor, Action: a.Action, Detail: a.Detail}
		if a.Conversation.Valid {
			e.ConversationId = a.Conversation.UUID.String()
		}
		out.Entries = append(out.Entries, e)
	}
	return connect.NewResponse(out), nil
}

// ListOfflineMessages pages through offline messages of the units where the caller holds AllChats.
func (s *Server) ListOfflineMessages(ctx context.Context, req *connect.Request[supervisionv1.ListOfflineMessagesRequest]) (*connect.Response[supervisionv1.ListOfflineMessagesResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	limit, err := pageLimit(m.Limit)
	if err != nil {
		return nil, err
	}
	if err := chat.CheckNote("query", m.Query); err != nil {
		return nil, err
	}
	var before uuid.NullUUID
	if m.BeforeId != "" {
		id, err := uuid.Parse(m.BeforeId)
		if err != nil {
			return nil, rpcerr.Invalid("before_id", "%s is not a valid id (a UUID)", rpcerr.Quote(m.BeforeId))
		}
		before = uuid.NullUUID{UUID: id, Valid: true}
	}
	var rows []store.OfflineMessageRow
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		units, err := unitsWith(ctx, tx, p, store.PermAllChats, m.BusinessUnit)
		if err != nil {
			return err
		}
		rows, err = store.ListOfflineMessages(ctx, tx, units, m.Query, before, limit)
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	out := &supervisionv1.ListOfflineMessagesResponse{}
	for _, r := range rows {
		out.Messages = append(out.Messages, &supervisionv1.OfflineMessage{Id: r.ID.String(), BusinessUnit: r.UnitName,
			Name: r.Name, Email: r.Email, Text: r.Body, CreatedAt: timestamppb.New(r.CreatedAt)})
	}
	return connect.NewResponse(out), nil
}

// ExportTranscript streams a conversation's transcript as CSV.
func (s *Server) ExportTranscript(ctx context.Context, req *connect.Request[supervisionv1.ExportTranscriptRequest], stream *connect.ServerStream[supervisionv1.ExportTranscriptResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	id, err := chat.ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return err
	}
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		_, err := permitted(ctx, tx, p, id, store.PermSupervise, store.PermAllChats)
		return err
	}); err != nil {
		return chat.StoreError(ctx, err, "conversation")
	}
	w := export.NewWriter(func(piece []byte) error {
		return stream.Send(&supervisionv1.ExportTranscriptResponse{Csv: piece})
	})
	if err := w.Row("seq", "time", "author_kind", "author", "kind", "text"); err != nil {
		return err
	}
	var after int64
	for {
		var events []*store.Event
		if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
			var err error
			events, err = store.ListEvents(ctx, tx, p.Tenant, id, after, transcriptPage, req.Msg.IncludeWhispers)
			return err
		}); err != nil {
			return rpcerr.Internal(ctx, err)
		}
		for _, e := range events {
			kind, text := e.Kind, e.Body
			switch {
			case e.Kind == store.KindSystem:
				kind, text = "system", strings.TrimSpace(e.SystemKind+" "+e.AgentName+" "+e.UnitName+" "+e.Body)
			case e.Visibility == store.VisibleToStaff:
				kind = "whisper"
			}
			if err := w.Row(strconv.FormatInt(e.Seq, 10), e.CreatedAt.UTC().Format(time.RFC3339Nano), e.AuthorKind, e.AuthorName, kind, text); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(events) < transcriptPage {
			break
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	s.audit(ctx, p, store.AuditExport, id, fmt.Sprintf("transcript, whispers %v", req.Msg.IncludeWhispers))
	return nil
}

// transcriptPage is how many events an export reads at a time.
const transcriptPage = 500

// ExportOfflineMessages streams offline messages as CSV, a page at a time.
func (s *Server) ExportOfflineMessages(ctx context.Context, req *connect.Request[supervisionv1.ExportOfflineMessagesRequest], stream *connect.ServerStream[supervisionv1.ExportOfflineMessagesResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	m := req.Msg
	if err := chat.CheckNote("query", m.Query); err != nil {
		return err
	}
	var units []uuid.UUID
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		units, err = unitsWith(ctx, tx, p, store.PermAllChats, m.BusinessUnit)
		return err
	}); err != nil {
		return rpcerr.Internal(ctx, err)
	}
	w := export.NewWriter(func(piece []byte) error {
		return stream.Send(&supervisionv1.ExportOfflineMessagesResponse{Csv: piece})
	})
	if err := w.Row("id", "business_unit", "left_at", "name", "email", "text"); err != nil {
		return err
	}
	var before uuid.NullUUID
	rowsOut := 0
	for {
		var rows []store.OfflineMessageRow
		if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
			var err error
			rows, err = store.ListOfflineMessages(ctx, tx, units, m.Query, before, exportPage)
			return err
		}); err != nil {
			return rpcerr.Internal(ctx, err)
		}
		for _, r := range rows {
			if err := w.Row(r.ID.String(), r.UnitName, r.CreatedAt.UTC().Format(time.RFC3339), r.Name, r.Email, r.Body); err != nil {
				return err
			}
			rowsOut++
		}
		if len(rows) < exportPage {
			break
		}
		before = uuid.NullUUID{UUID: rows[len(rows)-1].ID, Valid: true}
	}
	if err := w.Close(); err != nil {
		return err
	}
	s.audit(ctx, p, store.AuditExport, uuid.Nil, fmt.Sprintf("offline messages export, %d rows", rowsOut))
	return nil
}

// SendTranscript mails a conversation's visitor-visible transcript.
func (s *Server) SendTranscript(ctx context.Context, req *connect.Request[supervisionv1.SendTranscriptRequest]) (*connect.Response[supervisionv1.SendTranscriptResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	id, err := chat.ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	to, err := mail.Recipient(req.Msg.To)
	if err != nil {
		return nil, rpcerr.Invalid("to", "%s is not one plain email address", rpcerr.Quote(req.Msg.To))
	}
	var relay *store.SMTPConfig
	var events []*store.Event
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if _, err := permitted(ctx, tx, p, id, store.PermSupervise, store.PermAllChats); err != nil {
			return err
		}
		var err error
		relay, err = store.GetSMTP(ctx, tx)
		if errors.Is(err, store.ErrNotFound) {
			return rpcerr.Errorf(connect.CodeFailedPrecondition, "this tenant has no mail relay configured (Tenant spec.smtp)")
		}
		if err != nil {
			return err
		}
		// The visitor's view: staff-only events are left out by the query itself.
		events, err = store.ListEvents(ctx, tx, p.Tenant, id, 0, 10000, false)
		return err
	})
	if err != nil {
		return nil, chat.StoreError(ctx, err, "conversation")
	}
	if err := mail.Send(relay, to, "Your conversation transcript", mail.Transcript(events)); err != nil {
		rpcerr.Internal(ctx, err) //nolint:errcheck // logged
		return nil, rpcerr.Errorf(connect.CodeUnavailable, "the mail relay did not accept the transcript; retry later")
	}
	s.audit(ctx, p, store.AuditExport, id, "transcript mailed to "+to)
	return connect.NewResponse(&supervisionv1.SendTranscriptResponse{}), nil
}
