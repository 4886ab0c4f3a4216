package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// widgetTenant resolves the tenant of a widget key and admits the call under the limits
// of that tenant and of the client's address: an address that guessed too many keys is
// refused before any lookup, and a known key's tenant is found without a query, so that a
// flood is refused before any database work.
func (s *Server) widgetTenant(ctx context.Context, req connect.AnyRequest, key string, call limits.WidgetCall) (*store.TenantRef, error) {
	if key == "" {
		return nil, rpcerr.Invalid("widget_key", "required")
	}
	if err := checkLen("widget_key", key, 128); err != nil {
		return nil, err
	}
	addr := s.limits.Address(req.Peer(), req.Header())
	if err := s.limits.WidgetKeyGuard(addr); err != nil {
		return nil, err
	}
	t, err := s.widgetKeys.tenant(ctx, s.db, key)
	if errors.Is(err, store.ErrNotFound) {
		s.limits.UnknownWidgetKey(addr)
		return nil, rpcerr.Errorf(connect.CodeNotFound, "unknown widget key")
	}
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	if err := s.limits.Widget(t.ID, call, addr); err != nil {
		return nil, err
	}
	return t, nil
}

func unitName(s string) error {
	if s == "" {
		return rpcerr.Invalid("business_unit", "required")
	}
	return checkLen("business_unit", s, 253)
}

func (s *Server) unit(ctx context.Context, tx pgx.Tx, name string) (*store.Unit, error) {
	u, err := store.GetUnit(ctx, tx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rpcerr.Errorf(connect.CodeNotFound, "business unit %s not found", rpcerr.Quote(name))
	}
	return u, err
}

// GetAvailability tells a widget whether to show the chat or the offline form.
func (s *Server) GetAvailability(ctx context.Context, req *connect.Request[chatv1.GetAvailabilityRequest]) (*connect.Response[chatv1.GetAvailabilityResponse], error) {
	if err := unitName(req.Msg.BusinessUnit); err != nil {
		return nil, err
	}
	t, err := s.widgetTenant(ctx, req, req.Msg.WidgetKey, limits.PageView)
	if err != nil {
		return nil, err
	}
	var u *store.Unit
	if err := s.db.InTenant(ctx, t.ID, func(tx pgx.Tx) error {
		u, err = s.unit(ctx, tx, req.Msg.BusinessUnit)
		return err
	}); err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	now := time.Now()
	return connect.NewResponse(&chatv1.GetAvailabilityResponse{
		AgentsOnline:           u.Available(now) && !t.Suspended,
		Open:                   u.Hours.OpenAt(now),
		AcceptsOfflineMessages: u.AcceptsOfflineMessages,
		DisplayName:            u.DisplayName,
	}), nil
}

// StartConversation opens a conversation and routes it, or keeps an offline message.
func (s *Server) StartConversation(ctx context.Context, req *connect.Request[chatv1.StartConversationRequest]) (*connect.Response[chatv1.StartConversationResponse], error) {
	m := req.Msg
	if err := unitName(m.BusinessUnit); err != nil {
		return nil, err
	}
	if err := checkLen("visitor_name", m.VisitorName, MaxNameBytes); err != nil {
		return nil, err
	}
	if err := checkEmail("visitor_email", m.VisitorEmail, false); err != nil {
		return nil, err
	}
	site := ""
	if m.PageUrl != "" {
		var err error
		if site, err = checkPageURL("page_url", m.PageUrl); err != nil {
			return nil, err
		}
	}
	visit, newKey, err := s.newVisit(m.VisitorKey, site, req.Header(), req.Peer())
	if err != nil {
		return nil, err
	}
	if m.VisitorKey == "" && m.PageUrl != "" {
		// A widget that never reported a page view: the page it starts from is one.
		visit.Page = store.PageView{URL: m.PageUrl}
	}
	if fm := m.FirstMessage; fm != nil {
		if err := checkClientMessageID("first_message.client_message_id", fm.ClientMessageId); err != nil {
			return nil, err
		}
		if err := checkText("first_message.text", fm.Text, true); err != nil {
			return nil, err
		}
	}
	t, err := s.widgetTenant(ctx, req, m.WidgetKey, limits.Conversation)
	if err != nil {
		return nil, err
	}
	if t.Suspended {
		return nil, rpcerr.Errorf(connect.CodeUnavailable, "chat is paused for this site")
	}

	release, err := s.limits.StartSlot(ctx, t.ID)
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	defer release()
	id := uuid.New()
	token, hash := auth.NewVisitorToken(t.ID, id)
	var routed *store.Routed
	var first *store.Event
	var offlineID uuid.UUID
	var visited *store.Visited
	err = s.db.InTenant(ctx, t.ID, func(tx pgx.Tx) error {
		routed, first, offlineID, visited = nil, nil, uuid.Nil, nil
		u, err := s.unit(ctx, tx, m.BusinessUnit)
		if err != nil {
			return err
		}
		if !u.Available(time.Now()) {
			why := "no agent of business unit " + rpcerr.Quote(u.Name) + " is online"
			if !u.Hours.OpenAt(time.Now()) {
				why = "business unit " + rpcerr.Quote(u.Name) + " is closed now (outside its business hours)"
			}
			if !u.AcceptsOfflineMessages {
				return rpcerr.Errorf(connect.CodeUnavailable, "%s, and it takes no offline messages; try again later", why)
			}
			if m.FirstMessage == nil {
				return rpcerr.Errorf(connect.CodeUnavailable, "%s; leave an offline message (LeaveOfflineMessage) instead", why)
			}
			offlineID, err = store.AddOfflineMessage(ctx, tx, t.ID, store.OfflineMessage{
				UnitID: u.ID, Name: m.VisitorName, Email: m.VisitorEmail, Body: m.FirstMessage.Text, PageURL: m.PageUrl})
			return err
		}
		if visited, err = store.RecordVisit(ctx, tx, t.ID, visit); err != nil {
			return err
		}
		if err := store.FillProfile(ctx, tx, visited.Visitor.ID, m.VisitorName, m.VisitorEmail); err != nil {
			return err
		}
		name := visited.Visitor.Profile.Name
		if name == "" {
			name = m.VisitorName
		}
		routed, err = store.StartConversation(ctx, tx, t.ID, store.NewConversation{
			ID: id, Unit: u, Visitor: visited.Visitor.ID, Session: visited.Session, VisitorName: name,
			PageURL: m.PageUrl, VisitorTokenHash: hash})
		if err != nil {
			return err
		}
		if fm := m.FirstMessage; fm != nil {
			_, first, _, err = s.db.AppendMessage(ctx, tx, t.ID, store.NewMessage{
				Conversation: id, Author: store.Author{Kind: store.AuthorVisitor, ID: routed.Conversation.VisitorID.String(), Name: name},
				ClientMessageID: fm.ClientMessageId, Body: fm.Text, Visibility: store.VisibleToAll})
			if err != nil {
				return err
			}
			routed.Conversation, err = store.GetConversation(ctx, tx, id)
		}
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	if offlineID != uuid.Nil {
		return connect.NewResponse(&chatv1.StartConversationResponse{OfflineMessageId: offlineID.String()}), nil
	}
	if first != nil {
		routed.Events = append(routed.Events, first)
	}
	s.publishRouted(t.ID, routed)
	key := m.VisitorKey
	if !visited.Recognised {
		key = newKey
	}
	return connect.NewResponse(&chatv1.StartConversationResponse{
		Conversation: ConversationToProto(routed.Conversation),
		VisitorToken: token,
		VisitorKey:   key,
	}), nil
}

// LeaveOfflineMessage keeps a message for a unit.
func (s *Server) LeaveOfflineMessage(ctx context.Context, req *connect.Request[chatv1.LeaveOfflineMessageRequest]) (*connect.Response[chatv1.LeaveOfflineMessageResponse], error) {
	m := req.Msg
	if err := unitName(m.BusinessUnit); err != nil {
		return nil, err
	}
	if err := checkLen("name", m.Name, MaxNameBytes); err != nil {
		return nil, err
	}
	if err := checkEmail("email", m.Email, true); err != nil {
		return nil, err
	}
	if err := checkText("text", m.Text, true); err != nil {
		return nil, err
	}
	t, err := s.widgetTenant(ctx, req, m.WidgetKey, limits.Conversation)
	if err != nil {
		return nil, err
	}
	var id uuid.UUID
	err = s.db.InTenant(ctx, t.ID, func(tx pgx.Tx) error {
		u, err := s.unit(ctx, tx, m.BusinessUnit)
		if err != nil {
			return err
		}
		if !u.AcceptsOfflineMessages {
			return rpcerr.Errorf(connect.CodeFailedPrecondition, "business unit %s takes no offline messages", rpcerr.Quote(u.Name))
		}
		id, err = store.AddOfflineMessage(ctx, tx, t.ID, store.OfflineMessage{UnitID: u.ID, Name: m.Name, Email: m.Email, Body: m.Text})
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	return connect.NewResponse(&chatv1.LeaveOfflineMessageResponse{OfflineMessageId: id.String()}), nil
}

// RateConversation records the visitor's rating.
func (s *Server) RateConversation(ctx context.Context, req *connect.Request[chatv1.RateConversationRequest]) (*connect.Response[chatv1.RateConversationResponse], error) {
	m := req.Msg
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := ParseID("conversation_id", m.ConversationId)
	if err != nil {
		return nil, err
	}
	r := store.Rating{Comment: m.Comment, CSAT: m.Csat}
	switch m.Thumb {
	case chatv1.Thumb_THUMB_UNSPECIFIED:
	case chatv1.Thumb_THUMB_UP:
		r.Thumb = "up"
	case chatv1.Thumb_THUMB_DOWN:
		r.Thumb = "down"
	default:
		return nil, rpcerr.Invalid("thumb", "unknown value %d", m.Thumb)
	}
	if m.Csat < 0 || m.Csat > 5 {
		return nil, rpcerr.Invalid("csat", "%d is outside 1–5 (0 for none)", m.Csat)
	}
	seen := map[chatv1.RatingCriterion]bool{}
	for i, c := range m.Criteria {
		field := fmt.Sprintf("criteria[%d]", i)
		if c.Score < 1 || c.Score > 5 {
			return nil, rpcerr.Invalid(field+".score", "%d is outside 1–5", c.Score)
		}
		if seen[c.Criterion] {
			return nil, rpcerr.Invalid(field+".criterion", "%s is scored twice", c.Criterion)
		}
		seen[c.Criterion] = true
		switch c.Criterion {
		case chatv1.RatingCriterion_RATING_CRITERION_WELCOME:
			r.Welcome = c.Score
		case chatv1.RatingCriterion_RATING_CRITERION_RESPONSE_TIME:
			r.ResponseTime = c.Score
		case chatv1.RatingCriterion_RATING_CRITERION_QUALITY:
			r.Quality = c.Score
		default:
			return nil, rpcerr.Invalid(field+".criterion", "unknown criterion %d", c.Criterion)
		}
	}
	if err := checkLen("comment", m.Comment, MaxMessageBytes); err != nil {
		return nil, err
	}
	if r.Thumb == "" && r.CSAT == 0 && len(m.Criteria) == 0 && m.Comment == "" {
		return nil, rpcerr.Invalid("thumb", "a rating needs a thumb, a CSAT score, a criterion score or a comment")
	}
	if !p.Visitor {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only the visitor rates a conversation")
	}
	if id != p.Conversation {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "this visitor token is for another conversation")
	}
	var e *store.Event
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		e, err = store.RateConversation(ctx, tx, p.Tenant, id, r, p.Author())
		return err
	})
	if err != nil {
		return nil, StoreError(ctx, err, "conversation")
	}
	s.publishEvents(e)
	s.observer.Rating(p.Tenant, id, r)
	return connect.NewResponse(&chatv1.RateConversationResponse{}), nil
}
