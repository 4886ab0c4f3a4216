package chat

import (
	"context"
	"errors"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// SendMessage stores a message of the visitor or the assigned agent, once per client id.
func (s *Server) SendMessage(ctx context.Context, req *connect.Request[chatv1.SendMessageRequest]) (*connect.Response[chatv1.SendMessageResponse], error) {
	m := req.Msg
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", m.ConversationId)
	if err != nil {
		return nil, err
	}
	if err := checkClientMessageID("client_message_id", m.ClientMessageId); err != nil {
		return nil, err
	}
	if err := checkText("text", m.Text, true); err != nil {
		return nil, err
	}
	msg := store.NewMessage{Conversation: id, Author: p.Author(), ClientMessageID: m.ClientMessageId, Body: m.Text, Visibility: store.VisibleToAll}
	switch {
	case p.Visitor:
		if id != p.Conversation {
			return nil, rpcerr.Errorf(connect.CodePermissionDenied, "this visitor token is for another conversation")
		}
	case p.IsAgent():
		msg.Agent = p.Account.AgentID
	default:
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only the visitor and the agent of a conversation write in it; supervisors whisper through the supervision service")
	}
	outcome, e, draftCleared, err := s.db.AppendMessage(ctx, nil, p.Tenant, msg)
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	switch outcome {
	case store.OutcomeNotFound:
		return nil, rpcerr.Errorf(connect.CodeNotFound, "conversation %s not found", id)
	case store.OutcomeClosed:
		return nil, rpcerr.Errorf(connect.CodeFailedPrecondition, "conversation %s is closed", id)
	case store.OutcomeNotYours:
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "conversation %s is not assigned to you", id)
	case store.OutcomeNotAccepted:
		return nil, rpcerr.Errorf(connect.CodeFailedPrecondition, "accept conversation %s before writing in it", id)
	case store.OutcomeIDTaken:
		return nil, rpcerr.Errorf(connect.CodeAlreadyExists, "client_message_id %s is already used by another author in this conversation", rpcerr.Quote(m.ClientMessageId))
	}
	if outcome == store.OutcomeStored {
		s.publishEvents(e)
		if draftCleared {
			s.publishEvents(&store.Event{Tenant: p.Tenant, ConversationID: id, Seq: e.Seq, CreatedAt: e.CreatedAt,
				Kind: store.KindDraft, Visibility: store.VisibleToStaff, AuthorKind: e.AuthorKind, AuthorID: e.AuthorID, AuthorName: e.AuthorName})
		}
	}
	return connect.NewResponse(&chatv1.SendMessageResponse{Event: EventToProto(e), Duplicate: outcome == store.OutcomeDuplicate}), nil
}

// replayPage is how many stored events a stream reads from the database at a time.
const replayPage = 500

// Subscribe replays a conversation's events after after_seq and then streams new ones.
func (s *Server) Subscribe(ctx context.Context, req *connect.Request[chatv1.SubscribeRequest], stream *connect.ServerStream[chatv1.SubscribeResponse]) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	id, err := ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return err
	}
	if req.Msg.AfterSeq < 0 {
		return rpcerr.Invalid("after_seq", "%d is negative", req.Msg.AfterSeq)
	}
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		_, err := s.access(ctx, tx, p, id)
		return err
	}); err != nil {
		return StoreError(ctx, err, "conversation")
	}
	return s.Follow(ctx, p, id, req.Msg.AfterSeq, func(e *chatv1.Event) error {
		return stream.Send(&chatv1.SubscribeResponse{Event: e})
	})
}

// streamEnded is the error that ends a stream whose subscription ended: it tells the
// client where to resume.
func streamEnded(err error, conv uuid.UUID, last int64) error {
	var ce *connect.Error
	switch {
	case errors.Is(err, live.ErrOverflow):
		ce = rpcerr.Errorf(connect.CodeAborted, "the stream fell behind; subscribe again with after_seq=%d", last).(*connect.Error)
	case errors.Is(err, live.ErrShutdown):
		ce = rpcerr.Errorf(connect.CodeUnavailable, "the server is restarting; subscribe again with after_seq=%d", last).(*connect.Error)
	default:
		return nil
	}
	if d, derr := connect.NewErrorDetail(&chatv1.StreamOverflow{ConversationId: conv.String(), ResumeAfterSeq: last}); derr == nil {
		ce.AddDetail(d)
	}
	return ce
}

// follower delivers one conversation's events to one stream in order, exactly once:
// stored events by sequence number (filling any gap from the database), live-only
// events as they come, and for a visitor nothing visible to staff only.
type follower struct {
	s    *Server
	p    *auth.Principal
	conv uuid.UUID
	last int64
	send func(*chatv1.Event) error
}

// catchUp sends the stored events after f.last, up to (excluding) before when before > 0,
// or all of them.
func (f *follower) catchUp(ctx context.Context, before int64) error {
	for {
		limit := replayPage
		if before > 0 {
			limit = int(min(int64(replayPage), before-f.last-1))
			if limit <= 0 {
				return nil
			}
		}
		var events []*store.Event
		err := f.s.db.InTenant(ctx, f.p.Tenant, func(tx pgx.Tx) error {
			var err error
			events, err = store.ListEvents(ctx, tx, f.p.Tenant, f.conv, f.last, limit, !f.p.Visitor)
			return err
		})
		if err != nil {
			return rpcerr.Internal(ctx, err)
		}
		for _, e := range events {
			if before > 0 && e.Seq >= before {
				return nil
			}
			if err := f.send(eventFor(f.p, e)); err != nil {
				return err
			}
			f.last = e.Seq
		}
		if len(events) < limit {
			// Events visible to staff only leave gaps a visitor never fills.
			if before > 0 {
				f.last = before - 1
			}
			return nil
		}
	}
}

func (f *follower) deliver(ctx context.Context, e *store.Event) error {
	if e == nil {
		return nil
	}
	if !e.Stored() {
		return f.deliverDraft(e)
	}
	if e.Seq <= f.last {
		return nil
	}
	if e.Seq > f.last+1 {
		if err := f.catchUp(ctx, e.Seq); err != nil {
			return err
		}
	}
	f.last = e.Seq
	if f.p.Visitor && e.Visibility != store.VisibleToAll {
		return nil
	}
	return f.send(eventFor(f.p, e))
}

func (f *follower) deliverDraft(e *store.Event) error {
	switch {
	case f.p.Visitor:
		// The visitor sees that the agent types, never what.
		if e.AuthorKind == store.AuthorVisitor {
			return nil
		}
		return f.send(typingToProto(e))
	case f.p.IsAgent() && e.AuthorKind == store.AuthorAgent:
		return nil // the agent's own draft
	}
	return f.send(EventToProto(e))
}

// ListEvents pages through a conversation's stored events.
func (s *Server) ListEvents(ctx context.Context, req *connect.Request[chatv1.ListEventsRequest]) (*connect.Response[chatv1.ListEventsResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	if req.Msg.AfterSeq < 0 {
		return nil, rpcerr.Invalid("after_seq", "%d is negative", req.Msg.AfterSeq)
	}
	limit := int(req.Msg.Limit)
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 500 {
		return nil, rpcerr.Invalid("limit", "%d is outside 1–500", req.Msg.Limit)
	}
	var events []*store.Event
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if _, err := s.access(ctx, tx, p, id); err != nil {
			return err
		}
		events, err = store.ListEvents(ctx, tx, p.Tenant, id, req.Msg.AfterSeq, limit+1, !p.Visitor)
		return err
	})
	if err != nil {
		return nil, StoreError(ctx, err, "conversation")
	}
	out := &chatv1.ListEventsResponse{HasMore: len(events) > limit}
	for i, e := range events {
		if i == limit {
			break
		}
		out.Events = append(out.Events, eventFor(p, e))
	}
	return connect.NewResponse(out), nil
}

// GetConversation describes a conversation the caller takes part in.
func (s *Server) GetConversation(ctx context.Context, req *connect.Request[chatv1.GetConversationRequest]) (*connect.Response[chatv1.GetConversationResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	var c *store.Conversation
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		c, err = s.access(ctx, tx, p, id)
		return err
	})
	if err != nil {
		return nil, StoreError(ctx, err, "conversation")
	}
	return connect.NewResponse(&chatv1.GetConversationResponse{Conversation: ConversationToProto(c)}), nil
}

// UpdateDraft records what the caller types and tells the other side.
func (s *Server) UpdateDraft(ctx context.Context, req *connect.Request[chatv1.UpdateDraftRequest]) (*connect.Response[chatv1.UpdateDraftResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	if err := checkText("text", req.Msg.Text, false); err != nil {
		return nil, err
	}
	var e *store.Event
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		c, err := store.LockConversation(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := mayWrite(p)(c); err != nil {
			return err
		}
		if c.State == store.StateClosed {
			return store.ErrClosed
		}
		e, err = store.SaveDraft(ctx, tx, p.Tenant, id, p.Author(), req.Msg.Text)
		return err
	})
	if err != nil {
		return nil, StoreError(ctx, err, "conversation")
	}
	s.publishEvents(e)
	return connect.NewResponse(&chatv1.UpdateDraftResponse{}), nil
}

// CloseConversation ends a conversation of the visitor or of the agent.
func (s *Server) CloseConversation(ctx context.Context, req *connect.Request[chatv1.CloseConversationRequest]) (*connect.Response[chatv1.CloseConversationResponse], error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", req.Msg.ConversationId)
	if err != nil {
		return nil, err
	}
	if err := checkLen("reason", req.Msg.Reason, MaxNoteBytes); err != nil {
		return nil, err
	}
	if !p.Visitor && !p.IsAgent() {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only the visitor and the agent of a conversation close it here; supervisors finish it through the supervision service")
	}
	if p.Visitor && id != p.Conversation {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "this visitor token is for another conversation")
	}
	r, err := s.Close(ctx, p, id, req.Msg.Reason, mayWrite(p))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&chatv1.CloseConversationResponse{Conversation: ConversationToProto(r.Conversation)}), nil
}

// Close ends a conversation, publishes it and routes the freed slot. The supervision
// service finishes conversations through it too.
func (s *Server) Close(ctx context.Context, p *auth.Principal, id uuid.UUID, reason string, allow store.Check) (*store.Routed, error) {
	var r *store.Routed
	err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		r, err = store.CloseConversation(ctx, tx, p.Tenant, id, reason, p.Author(), allow)
		return err
	})
	if err != nil {
		return nil, StoreError(ctx, err, "conversation")
	}
	s.publishRouted(p.Tenant, r)
	s.dispatch(ctx, p.Tenant, r.Freed...)
	return r, nil
}

// Publish hands stored or live events to the hub and the other replicas.
func (s *Server) Publish(events ...*store.Event) { s.publishEvents(events...) }

// Follow streams a conversation's events after afterSeq to send, in order, exactly once,
// until ctx ends or the subscription ends (with the error that tells the client where to
// resume). What the principal sees follows its kind: a visitor never sees staff-only
// events or drafts; staff see everything.
func (s *Server) Follow(ctx context.Context, p *auth.Principal, conv uuid.UUID, afterSeq int64, send func(*chatv1.Event) error) error {
	sub := s.hub.Subscribe(live.Conversation(p.Tenant, conv))
	defer sub.Close()
	f := &follower{s: s, p: p, conv: conv, last: afterSeq, send: send}
	if err := f.catchUp(ctx, -1); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return streamEnded(sub.Err(), conv, f.last)
		case it := <-sub.C():
			if it.Missed {
				// Another replica's events may have gone unheard: read what is stored.
				if err := f.catchUp(ctx, -1); err != nil {
					return err
				}
				continue
			}
			if err := f.deliver(ctx, it.Event); err != nil {
				return err
			}
		}
	}
}
