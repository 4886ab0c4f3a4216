package chat

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// SetStatus sets the calling agent's chosen status.
func (s *Server) SetStatus(ctx context.Context, req *connect.Request[chatv1.SetStatusRequest]) (*connect.Response[chatv1.SetStatusResponse], error) {
	p, err := agentCaller(ctx)
	if err != nil {
		return nil, err
	}
	chosen, ok := statusFromProto[req.Msg.Status]
	if !ok {
		return nil, rpcerr.Invalid("status", "%s cannot be chosen: choose available, busy or away (an agent is offline while it has no agent stream open)", req.Msg.Status)
	}
	agentID := p.Account.AgentID.UUID
	var before, after *store.Agent
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if before, err = store.GetAgent(ctx, tx, agentID); err != nil {
			return err
		}
		after, err = store.SetChosenStatus(ctx, tx, agentID, chosen)
		return err
	})
	if err != nil {
		return nil, StoreError(ctx, err, "agent")
	}
	if before.Status != after.Status {
		s.publishStatus(p.Tenant, after)
		if after.Status == "available" {
			s.dispatch(ctx, p.Tenant, agentID)
		}
	}
	return connect.NewResponse(&chatv1.SetStatusResponse{Status: statusToProto[after.Status], Chosen: statusToProto[after.ChosenStatus]}), nil
}

// ListMyConversations lists the calling agent's open conversations.
func (s *Server) ListMyConversations(ctx context.Context, _ *connect.Request[chatv1.ListMyConversationsRequest]) (*connect.Response[chatv1.ListMyConversationsResponse], error) {
	p, err := agentCaller(ctx)
	if err != nil {
		return nil, err
	}
	var convs []*store.Conversation
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		convs, err = store.ListAgentConversations(ctx, tx, p.Account.AgentID.UUID)
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	out := &chatv1.ListMyConversationsResponse{}
	for _, c := range convs {
		out.Conversations = append(out.Conversations, ConversationToProto(c))
	}
	return connect.NewResponse(out), nil
}

// AcceptConversation takes up a conversation assigned to the calling agent.
func (s *Server) AcceptConversation(ctx context.Context, req *connect.Request[chatv1.AcceptConversationRequest]) (*connect.Response[chatv1.AcceptConversationResponse], error) {
	p, err := agentCaller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	var r *store.Routed
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		r, err = store.AcceptConversation(ctx, tx, p.Tenant, id, p.Account.AgentID.UUID, p.Author())
		return err
	})
	if err != nil {
		return nil, StoreError(ctx, err, "conversation")
	}
	s.publishRouted(p.Tenant, r)
	return connect.NewResponse(&chatv1.AcceptConversationResponse{Conversation: ConversationToProto(r.Conversation)}), nil
}

// TransferConversation hands a conversation of the calling agent to another agent or unit.
func (s *Server) TransferConversation(ctx context.Context, req *connect.Request[chatv1.TransferConversationRequest]) (*connect.Response[chatv1.TransferConversationResponse], error) {
	m := req.Msg
	p, err := agentCaller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", m.ConversationId)
	if err != nil {
		return nil, err
	}
	t := store.Transfer{Note: m.Note}
	switch target := m.Target.(type) {
	case *chatv1.TransferConversationRequest_Agent:
		t.AgentName = target.Agent
	case *chatv1.TransferConversationRequest_BusinessUnit:
		t.UnitName = target.BusinessUnit
	}
	if err := CheckTransfer(t); err != nil {
		return nil, err
	}
	r, err := s.Transfer(ctx, p, id, t, mayWrite(p))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&chatv1.TransferConversationResponse{Conversation: ConversationToProto(r.Conversation)}), nil
}

// ListTransferTargets lists where the calling agent may transfer a conversation assigned
// to it: what TransferConversation accepts, every other agent of the tenant and every unit.
func (s *Server) ListTransferTargets(ctx context.Context, req *connect.Request[chatv1.ListTransferTargetsRequest]) (*connect.Response[chatv1.ListTransferTargetsResponse], error) {
	p, err := agentCaller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	var conv *store.Conversation
	var agents []*store.AgentLoad
	var units []*store.Unit
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if conv, err = store.GetConversation(ctx, tx, id); err != nil {
			return err
		}
		// The checks TransferConversation makes under the row lock, in the same order.
		if err := mayWrite(p)(conv); err != nil {
			return err
		}
		if conv.State == store.StateClosed {
			return store.ErrClosed
		}
		if agents, err = store.ListTenantAgentLoads(ctx, tx); err != nil {
			return err
		}
		units, err = store.ListUnits(ctx, tx)
		return err
	})
	if err != nil {
		return nil, StoreError(ctx, err, "conversation")
	}
	return connect.NewResponse(transferTargets(conv, p.Account.AgentID.UUID, agents, units)), nil
}

// transferTargets lists the agents other than the caller, those of the conversation's unit
// first, then those who can take it now, the least loaded first.
func transferTargets(conv *store.Conversation, caller uuid.UUID, agents []*store.AgentLoad, units []*store.Unit) *chatv1.ListTransferTargetsResponse {
	out := &chatv1.ListTransferTargetsResponse{}
	for _, a := range agents {
		if a.ID == caller {
			continue
		}
		out.Agents = append(out.Agents, &chatv1.TransferAgent{
			Agent: a.Name, DisplayName: a.DisplayName, Status: statusToProto[a.Status],
			OpenConversations: int32(a.OpenCount), Capacity: int32(a.Capacity),
			CanTakeNow: a.CanTakeConversation(), ServesUnit: slices.Contains(a.Units, conv.UnitName),
		})
	}
	slices.SortStableFunc(out.Agents, func(a, b *chatv1.TransferAgent) int {
		return cmp.Or(
			compareTrueFirst(a.ServesUnit, b.ServesUnit),
			compareTrueFirst(a.CanTakeNow, b.CanTakeNow),
			cmp.Compare(a.OpenConversations, b.OpenConversations),
		)
	})
	for _, u := range units {
		out.BusinessUnits = append(out.BusinessUnits, &chatv1.TransferUnit{
			BusinessUnit: u.Name, DisplayName: u.DisplayName, AgentsOnline: int32(u.AgentsOnline), Current: u.ID == conv.UnitID,
		})
	}
	return out
}

func compareTrueFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// Transfer moves a conversation, publishes the change and routes what it freed. The
// supervision service transfers through it too.
func (s *Server) Transfer(ctx context.Context, p *auth.Principal, id uuid.UUID, t store.Transfer, allow store.Check) (*store.Routed, error) {
	var r *store.Routed
	err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		r, err = store.TransferConversation(ctx, tx, p.Tenant, id, t, p.Author(), allow)
		return err
	})
	if err != nil {
		what := "conversation"
		if t.AgentName != "" {
			what = "agent " + rpcerr.Quote(t.AgentName) + " or conversation"
		} else {
			what = "business unit " + rpcerr.Quote(t.UnitName) + " or conversation"
		}
		return nil, StoreError(ctx, err, what)
	}
	s.publishRouted(p.Tenant, r)
	if r.Conversation.State == store.StateQueued {
		s.dispatchUnits(ctx, p.Tenant, r.Conversation.UnitID)
		// The conversation may have been assigned just now.
		_ = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
			c, err := store.GetConversation(ctx, tx, id)
			if err == nil {
				r.Conversation = c
			}
			return err
		})
	}
	s.dispatch(ctx, p.Tenant, r.Freed...)
	return r, nil
}

// streamCloseTimeout bounds the presence update after an agent stream ends.
const streamCloseTimeout = 5 * time.Second

// AgentStream keeps the agent online and streams its assignments and conversations.
func (s *Server) AgentStream(ctx context.Context, req *connect.Request[chatv1.AgentStreamRequest], stream *connect.ServerStream[chatv1.AgentStreamResponse]) error {
	p, err := agentCaller(ctx)
	if err != nil {
		return err
	}
	cursors := map[uuid.UUID]int64{}
	for i, c := range req.Msg.Resume {
		id, err := ParseID("resume.conversation_id", c.ConversationId)
		if err != nil {
			return err
		}
		if c.AfterSeq < 0 {
			return rpcerr.Invalid("resume.after_seq", "entry %d: %d is negative", i, c.AfterSeq)
		}
		cursors[id] = c.AfterSeq
	}
	agentID := p.Account.AgentID.UUID
	sub := s.hub.Subscribe(live.Agent(p.Tenant, agentID))
	defer sub.Close()

	var agent *store.Agent
	var convs []*store.Conversation
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if agent, err = store.StreamOpened(ctx, tx, p.Tenant, agentID, s.replica); err != nil {
			return err
		}
		convs, err = store.ListAgentConversations(ctx, tx, agentID)
		return err
	})
	if err != nil {
		return rpcerr.Internal(ctx, err)
	}
	defer s.agentStreamClosed(ctx, p.Tenant, agentID)
	s.publishStatus(p.Tenant, agent)
	if agent.Status == "available" {
		s.dispatch(ctx, p.Tenant, agentID)
	}

	a := &agentFeed{s: s, p: p, stream: stream, followers: map[uuid.UUID]*follower{}}
	if err := a.sendStatus(agent); err != nil {
		return err
	}
	for _, c := range convs {
		after, ok := cursors[c.ID]
		if !ok {
			after = c.LastSeq
		}
		if err := a.open(ctx, sub, c, after); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return agentStreamEnded(sub.Err())
		case it := <-sub.C():
			if err := a.handle(ctx, sub, it); err != nil {
				return err
			}
		}
	}
}

func (s *Server) agentStreamClosed(ctx context.Context, tenant, agent uuid.UUID) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), streamCloseTimeout)
	defer cancel()
	var a *store.Agent
	err := s.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		a, err = store.StreamClosed(ctx, tx, tenant, agent, s.replica)
		return err
	})
	if err != nil {
		// The presence row expires with this replica's refresh if it cannot be updated now.
		return
	}
	s.publishStatus(tenant, a)
}

// agentFeed is the state of one agent stream: a follower per open conversation.
type agentFeed struct {
	s         *Server
	p         *auth.Principal
	stream    *connect.ServerStream[chatv1.AgentStreamResponse]
	followers map[uuid.UUID]*follower
}

func (a *agentFeed) sendStatus(ag *store.Agent) error {
	return a.stream.Send(&chatv1.AgentStreamResponse{Update: &chatv1.AgentStreamResponse_Status{Status: statusToProto[ag.Status]}})
}

func (a *agentFeed) sendAssignment(change chatv1.AssignmentChange, c *store.Conversation) error {
	return a.stream.Send(&chatv1.AgentStreamResponse{Update: &chatv1.AgentStreamResponse_Assignment{
		Assignment: &chatv1.Assignment{Change: change, Conversation: ConversationToProto(c)}}})
}

// open starts following a conversation of the agent, replaying its events after after.
func (a *agentFeed) open(ctx context.Context, sub *live.Subscription, c *store.Conversation, after int64) error {
	change := chatv1.AssignmentChange_ASSIGNMENT_CHANGE_OPEN
	if c.State == store.StateActive {
		change = chatv1.AssignmentChange_ASSIGNMENT_CHANGE_ACCEPTED
	}
	if err := a.sendAssignment(change, c); err != nil {
		return err
	}
	sub.Add(live.Conversation(a.p.Tenant, c.ID))
	f := &follower{s: a.s, p: a.p, conv: c.ID, last: after, send: func(e *chatv1.Event) error {
		return a.stream.Send(&chatv1.AgentStreamResponse{Update: &chatv1.AgentStreamResponse_Event{Event: e}})
	}}
	a.followers[c.ID] = f
	return f.catchUp(ctx, -1)
}

func (a *agentFeed) handle(ctx context.Context, sub *live.Subscription, it live.Item) error {
	me := a.p.Account.AgentID.UUID
	switch {
	case it.Missed:
		return a.resync(ctx, sub)
	case it.Status != nil:
		return a.sendStatus(it.Status)
	case it.Event != nil:
		if f := a.followers[it.Event.ConversationID]; f != nil {
			return f.deliver(ctx, it.Event)
		}
	case it.Assignment != nil:
		c := it.Assignment
		mine := c.AgentID.Valid && c.AgentID.UUID == me
		f := a.followers[c.ID]
		switch {
		case mine && c.State != store.StateClosed && f == nil:
			// A new conversation: the agent gets its whole story so far.
			return a.open(ctx, sub, c, 0)
		case mine && c.State == store.StateActive:
			return a.sendAssignment(chatv1.AssignmentChange_ASSIGNMENT_CHANGE_ACCEPTED, c)
		case mine && c.State == store.StateAssigned:
			return a.sendAssignment(chatv1.AssignmentChange_ASSIGNMENT_CHANGE_OPEN, c)
		case f != nil:
			// Closed, or transferred away: deliver what is left, then stop following.
			if err := f.catchUp(ctx, -1); err != nil {
				return err
			}
			sub.Remove(live.Conversation(a.p.Tenant, c.ID))
			delete(a.followers, c.ID)
			change := chatv1.AssignmentChange_ASSIGNMENT_CHANGE_REMOVED
			if c.State == store.StateClosed {
				change = chatv1.AssignmentChange_ASSIGNMENT_CHANGE_CLOSED
			}
			return a.sendAssignment(change, c)
		}
	}
	return nil
}

// resync reads the agent and its conversations again after updates of other replicas may
// have gone unheard: its status, conversations routed to it meanwhile (opened with their
// story), events of those it follows, and those it lost (closed or transferred away).
func (a *agentFeed) resync(ctx context.Context, sub *live.Subscription) error {
	var agent *store.Agent
	var convs []*store.Conversation
	err := a.s.db.InTenant(ctx, a.p.Tenant, func(tx pgx.Tx) error {
		var err error
		if agent, err = store.GetAgent(ctx, tx, a.p.Account.AgentID.UUID); err != nil {
			return err
		}
		convs, err = store.ListAgentConversations(ctx, tx, agent.ID)
		return err
	})
	if err != nil {
		return rpcerr.Internal(ctx, err)
	}
	if err := a.sendStatus(agent); err != nil {
		return err
	}
	held := map[uuid.UUID]bool{}
	for _, c := range convs {
		held[c.ID] = true
		f := a.followers[c.ID]
		if f == nil {
			if err := a.open(ctx, sub, c, 0); err != nil {
				return err
			}
			continue
		}
		if err := f.catchUp(ctx, -1); err != nil {
			return err
		}
	}
	for id := range a.followers {
		if held[id] {
			continue
		}
		var c *store.Conversation
		if err := a.s.db.InTenant(ctx, a.p.Tenant, func(tx pgx.Tx) error {
			var err error
			c, err = store.GetConversation(ctx, tx, id)
			return err
		}); err != nil {
			return rpcerr.Internal(ctx, err)
		}
		if err := a.handle(ctx, sub, live.Item{Assignment: c}); err != nil {
			return err
		}
	}
	return nil
}

// agentStreamEnded tells an agent client why its stream ended and how to come back: with
// a resume cursor for each open conversation.
func agentStreamEnded(err error) error {
	switch {
	case errors.Is(err, live.ErrOverflow):
		return rpcerr.Errorf(connect.CodeAborted, "the stream fell behind; reconnect with resume cursors (the last seq you have of each open conversation)")
	case errors.Is(err, live.ErrShutdown):
		return rpcerr.Errorf(connect.CodeUnavailable, "the server is restarting; reconnect with resume cursors (the last seq you have of each open conversation)")
	}
	return nil
}
