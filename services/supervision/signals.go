package supervision

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

func signalToProto(s *store.Signal) *supervisionv1.Signal {
	out := &supervisionv1.Signal{
		Id: s.ID.String(), Objective: s.Objective, Metric: s.Metric, Since: timestamppb.New(s.RaisedAt),
		Value: s.Value, Threshold: s.Threshold, Agent: s.AgentName, BusinessUnit: s.UnitName, Summary: s.Summary,
		Level: supervisionv1.SignalLevel_SIGNAL_LEVEL_WARNING, Source: supervisionv1.SignalSource_SIGNAL_SOURCE_LIVE,
	}
	if s.Level == store.LevelCritical {
		out.Level = supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL
	}
	if s.Source == store.SourceAlert {
		out.Source = supervisionv1.SignalSource_SIGNAL_SOURCE_ALERT
	}
	if s.Conversation.Valid {
		out.ConversationId = s.Conversation.UUID.String()
	}
	if s.ClearedAt != nil {
		out.ClearedAt = timestamppb.New(*s.ClearedAt)
	}
	return out
}

func signalsToProto(ss []*store.Signal) []*supervisionv1.Signal {
	out := make([]*supervisionv1.Signal, 0, len(ss))
	for _, s := range ss {
		out = append(out, signalToProto(s))
	}
	return out
}

// agentSignals groups the active signals of the given units by agent, for one agent or
// (uuid.Nil) every agent.
func agentSignals(ctx context.Context, tx pgx.Tx, units []uuid.UUID, agent uuid.UUID) (map[uuid.UUID][]*store.Signal, error) {
	active, err := store.ListSignals(ctx, tx, store.SignalFilter{Units: units, ActiveOnly: true, Limit: 1 << 30})
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]*store.Signal{}
	for _, s := range active {
		if s.Agent.Valid && (agent == uuid.Nil || s.Agent.UUID == agent) {
			out[s.Agent.UUID] = append(out[s.Agent.UUID], s)
		}
	}
	return out, nil
}

// openChats lists open chats of units (optionally one agent's, optionally among ids) with
// their active signals and last messages. A chat in known (as last sent; nil for none) whose
// last_seq has not moved keeps its last message without reading it again, so that a stream's
// periodic refresh of every chat reads no message.
func openChats(ctx context.Context, tx pgx.Tx, units []uuid.UUID, agent string, ids []uuid.UUID, known map[uuid.UUID]*supervisionv1.OpenChat) ([]*supervisionv1.OpenChat, error) {
	chats, err := store.ListOpenChats(ctx, tx, units, agent, ids)
	if err != nil {
		return nil, err
	}
	lastMessages := map[uuid.UUID]*supervisionv1.MessagePreview{}
	var moved []uuid.UUID
	for _, c := range chats {
		if k := known[c.ID]; k != nil && k.Conversation.LastSeq == c.LastSeq {
			lastMessages[c.ID] = k.LastMessage
		} else {
			moved = append(moved, c.ID)
		}
	}
	if len(moved) > 0 {
		read, err := store.LastMessages(ctx, tx, moved)
		if err != nil {
			return nil, err
		}
		for id, m := range read {
			lastMessages[id] = &supervisionv1.MessagePreview{Author: chat.AuthorToProto(m.Author), Text: m.Text,
				Truncated: m.Truncated, CreatedAt: timestamppb.New(m.CreatedAt)}
		}
	}
	active, err := store.ListSignals(ctx, tx, store.SignalFilter{Units: units, ActiveOnly: true, Conversations: ids, Limit: 1 << 30})
	if err != nil {
		return nil, err
	}
	byConversation := map[uuid.UUID][]*store.Signal{}
	for _, s := range active {
		if s.Conversation.Valid {
			byConversation[s.Conversation.UUID] = append(byConversation[s.Conversation.UUID], s)
		}
	}
	now := time.Now()
	out := make([]*supervisionv1.OpenChat, 0, len(chats))
	for _, c := range chats {
		oc := &supervisionv1.OpenChat{Conversation: chat.ConversationToProto(&c.Conversation), Inactive: c.Inactive,
			Signals: signalsToProto(byConversation[c.ID]), LastMessage: lastMessages[c.ID]}
		if c.State == store.StateQueued {
			oc.WaitingSeconds = int64(now.Sub(c.QueuedAt).Seconds())
		}
		out = append(out, oc)
	}
	return out, nil
}

// openChatsRefresh is how often WatchOpenChats reads every open chat again, for what
// changes with time alone: waiting times and the inactive flag.
const openChatsRefresh = 5 * time.Second

// WatchOpenChats streams the open chats of the caller's units: the list, then changes.
func (s *Server) WatchOpenChats(ctx context.Context, req *connect.Request[supervisionv1.WatchOpenChatsRequest], stream *connect.ServerStream[supervisionv1.WatchOpenChatsResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	var units []uuid.UUID
	// sent is every chat as the client has it.
	sent := map[uuid.UUID]*supervisionv1.OpenChat{}
	list := func(ids []uuid.UUID) ([]*supervisionv1.OpenChat, error) {
		var chats []*supervisionv1.OpenChat
		err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
			var err error
			if units == nil {
				if units, err = unitsWith(ctx, tx, p, store.PermSuperviseOpenChats, req.Msg.BusinessUnit); err != nil {
					return err
				}
			}
			chats, err = openChats(ctx, tx, units, req.Msg.Agent, ids, sent)
			return err
		})
		if err != nil {
			return nil, rpcerr.Internal(ctx, err)
		}
		return chats, nil
	}
	// Subscribe before reading, so that no change between the two is missed.
	subscribe := func() *live.Subscription { return s.hub.Subscribe(live.Activity(p.Tenant), live.Signals(p.Tenant)) }
	sub := subscribe()
	defer func() { sub.Close() }()
	chats, err := list(nil)
	if err != nil {
		return err
	}
	for _, c := range chats {
		sent[uuid.MustParse(c.Conversation.Id)] = c
		if err := stream.Send(&supervisionv1.WatchOpenChatsResponse{Chat: c}); err != nil {
			return err
		}
	}
	if err := stream.Send(&supervisionv1.WatchOpenChatsResponse{SnapshotDone: true}); err != nil {
		return err
	}
	// send sends what changed among ids (nil: every chat) since the last send.
	send := func(ids []uuid.UUID) error {
		chats, err := list(ids)
		if err != nil {
			return err
		}
		now := map[uuid.UUID]*supervisionv1.OpenChat{}
		for _, c := range chats {
			now[uuid.MustParse(c.Conversation.Id)] = c
		}
		gone := ids
		if ids == nil {
			for id := range sent {
				gone = append(gone, id)
			}
		}
		for _, id := range gone {
			if _, open := now[id]; !open && sent[id] != nil {
				removed := sent[id]
				delete(sent, id)
				if err := stream.Send(&supervisionv1.WatchOpenChatsResponse{Chat: removed, Removed: true}); err != nil {
					return err
				}
			}
		}
		for id, c := range now {
			if prev := sent[id]; prev != nil && sameChat(prev, c) {
				continue
			}
			sent[id] = c
			if err := stream.Send(&supervisionv1.WatchOpenChatsResponse{Chat: c}); err != nil {
				return err
			}
		}
		return nil
	}
	refresh := time.NewTicker(openChatsRefresh)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			if errors.Is(sub.Err(), live.ErrShutdown) {
				return watchEnded(sub.Err())
			}
			// A burst (many signals at once) outran the buffer: the list is state, so
			// subscribe again and send what differs from what the client has.
			sub = subscribe()
			if err := send(nil); err != nil {
				return err
			}
		case <-refresh.C:
			if err := send(nil); err != nil {
				return err
			}
		case it := <-sub.C():
			// Take what else is waiting, and read the conversations concerned once.
			dirty := map[uuid.UUID]bool{}
			missed := false
			for more := true; more; {
				switch {
				case it.Missed:
					missed = true // other replicas' updates may have gone unheard
				case it.Event != nil:
					dirty[it.Event.ConversationID] = true
				case it.Signal != nil && it.Signal.Conversation.Valid:
					dirty[it.Signal.Conversation.UUID] = true
				}
				select {
				case it = <-sub.C():
				default:
					more = false
				}
			}
			if missed {
				if err := send(nil); err != nil {
					return err
				}
				continue
			}
			if len(dirty) == 0 {
				continue
			}
			ids := make([]uuid.UUID, 0, len(dirty))
			for id := range dirty {
				ids = append(ids, id)
			}
			if err := send(ids); err != nil {
				return err
			}
		}
	}
}

// sameChat reports whether a supervisor would see no difference between two reads of an
// open chat, waiting time aside.
func sameChat(a, b *supervisionv1.OpenChat) bool {
	ca, cb := a.Conversation, b.Conversation
	if ca.State != cb.State || ca.Agent != cb.Agent || ca.BusinessUnit != cb.BusinessUnit || ca.LastSeq != cb.LastSeq ||
		a.Inactive != b.Inactive || len(a.Signals) != len(b.Signals) {
		return false
	}
	for i := range a.Signals {
		if a.Signals[i].Id != b.Signals[i].Id {
			return false
		}
	}
	return true
}

// signalPageSize bounds ListSignals pages.
const (
	signalPageDefault = 100
	signalPageMax     = 1000
)

// ListSignals pages through the signals of the caller's units, newest first.
func (s *Server) ListSignals(ctx context.Context, req *connect.Request[supervisionv1.ListSignalsRequest]) (*connect.Response[supervisionv1.ListSignalsResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	f := store.SignalFilter{ActiveOnly: m.ActiveOnly, Limit: signalPageDefault}
	switch {
	case m.Limit < 0 || m.Limit > signalPageMax:
		return nil, rpcerr.Invalid("limit", "must be between 0 and 1000")
	case m.Limit > 0:
		f.Limit = int(m.Limit)
	}
	if m.From != nil {
		if err := m.From.CheckValid(); err != nil {
			return nil, rpcerr.Invalid("from", "not a valid time")
		}
		f.From = m.From.AsTime()
	}
	if m.To != nil {
		if err := m.To.CheckValid(); err != nil {
			return nil, rpcerr.Invalid("to", "not a valid time")
		}
		f.To = m.To.AsTime()
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, rpcerr.Invalid("to", "must be after from")
	}
	if m.ConversationId != "" {
		if f.Conversation, err = uuid.Parse(m.ConversationId); err != nil {
			return nil, rpcerr.Invalid("conversation_id", "not a conversation id")
		}
	}
	if m.PageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(m.PageToken)
		if err != nil || len(b) != 24 {
			return nil, rpcerr.Invalid("page_token", "not a token this service gave")
		}
		f.BeforeAt = time.Unix(0, int64(binary.BigEndian.Uint64(b)))
		f.BeforeID, _ = uuid.FromBytes(b[8:])
	}
	var list []*store.Signal
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		// Signals on the whole tenant (alerts without a unit) are for those who hold some
		// permission everywhere: tenant admins.
		if f.Units, err = unitsWith(ctx, tx, p, store.PermAny, m.BusinessUnit); err != nil {
			return err
		}
		if p.Account.Role == store.RoleAdmin && m.BusinessUnit == "" {
			f.Units = nil
		}
		list, err = store.ListSignals(ctx, tx, f)
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	out := &supervisionv1.ListSignalsResponse{Signals: signalsToProto(list)}
	if len(list) == f.Limit {
		last := list[len(list)-1]
		b := make([]byte, 24)
		binary.BigEndian.PutUint64(b, uint64(last.RaisedAt.UnixNano()))
		copy(b[8:], last.ID[:])
		out.NextPageToken = base64.RawURLEncoding.EncodeToString(b)
	}
	return connect.NewResponse(out), nil
}
