package supervision

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// maxWatchedConversations bounds one WatchConversations stream.
const maxWatchedConversations = 50

// WatchConversations follows several conversations on one stream. Each is checked and
// followed as WatchConversation would; those refused are named and left out, and when
// every one is, the call fails with the first refusal.
func (s *Server) WatchConversations(ctx context.Context, req *connect.Request[supervisionv1.WatchConversationsRequest], stream *connect.ServerStream[supervisionv1.WatchConversationsResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	cursors, err := parseCursors(req.Msg.Conversations)
	if err != nil {
		return err
	}
	var followed []cursor
	var refusals []*supervisionv1.RefusedConversation
	var firstRefusal error
	for _, c := range cursors {
		err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
			_, err := permitted(ctx, tx, p, c.id, store.PermSupervise)
			return err
		})
		if err == nil {
			followed = append(followed, c)
			continue
		}
		err = chat.StoreError(ctx, err, "conversation")
		var ce *connect.Error
		if !errors.As(err, &ce) || (ce.Code() != connect.CodePermissionDenied && ce.Code() != connect.CodeNotFound) {
			return err // not a refusal: the database failed
		}
		if firstRefusal == nil {
			firstRefusal = err
		}
		refusals = append(refusals, &supervisionv1.RefusedConversation{ConversationId: c.id.String(), Reason: ce.Message()})
	}
	if len(followed) == 0 {
		return firstRefusal
	}

	// Each conversation's follower sends from its own goroutine; sends are one at a time.
	var mu sync.Mutex
	send := func(m *supervisionv1.WatchConversationsResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(m)
	}
	for _, r := range refusals {
		if err := send(&supervisionv1.WatchConversationsResponse{Update: &supervisionv1.WatchConversationsResponse_Refused{Refused: r}}); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan error, len(followed))
	for _, c := range followed {
		s.audit(ctx, p, store.AuditWatchStart, c.id, "")
		go func() {
			ended <- s.chat.Follow(ctx, p, c.id, c.afterSeq, func(e *chatv1.Event) error {
				return send(&supervisionv1.WatchConversationsResponse{Update: &supervisionv1.WatchConversationsResponse_Event{Event: e}})
			})
		}()
	}
	// The first follower to fail ends the stream (the client resumes every conversation
	// from its cursor); the others stop with it before the handler returns.
	var first error
	for range followed {
		if err := <-ended; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	for _, c := range followed {
		s.audit(context.WithoutCancel(ctx), p, store.AuditWatchStop, c.id, "")
	}
	return first
}

type cursor struct {
	id       uuid.UUID
	afterSeq int64
}

func parseCursors(in []*supervisionv1.ConversationCursor) ([]cursor, error) {
	if len(in) == 0 {
		return nil, rpcerr.Invalid("conversations", "name at least one conversation")
	}
	if len(in) > maxWatchedConversations {
		return nil, rpcerr.Invalid("conversations", "%d conversations named, at most %d per stream", len(in), maxWatchedConversations)
	}
	seen := map[uuid.UUID]bool{}
	out := make([]cursor, 0, len(in))
	for i, c := range in {
		id, err := chat.ParseID(fmt.Sprintf("conversations[%d].conversation_id", i), c.GetConversationId())
		if err != nil {
			return nil, err
		}
		if c.AfterSeq < 0 {
			return nil, rpcerr.Invalid(fmt.Sprintf("conversations[%d].after_seq", i), "%d is negative", c.AfterSeq)
		}
		if seen[id] {
			return nil, rpcerr.Invalid(fmt.Sprintf("conversations[%d].conversation_id", i), "%s is named twice", id)
		}
		seen[id] = true
		out = append(out, cursor{id: id, afterSeq: c.AfterSeq})
	}
	return out, nil
}
