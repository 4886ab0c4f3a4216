package supervision

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// What GetVisitor shows of a visitor's history.
const (
	visitorSessions      = 20
	visitorPagesShown    = 50
	visitorConversations = 50
)

// contactsAccess checks that the caller holds AllChats on some unit: contacts are the
// tenant's customer records, open to those who read its chat history.
func contactsAccess(gs map[uuid.UUID]store.Grant) error {
	for _, g := range gs {
		if g.AllChats {
			return nil
		}
	}
	return rpcerr.Errorf(connect.CodePermissionDenied, "contacts need %s on some business unit", store.PermAllChats)
}

// GetVisitor shows a visitor with its visits and the conversations the caller may see.
func (s *Server) GetVisitor(ctx context.Context, req *connect.Request[supervisionv1.GetVisitorRequest]) (*connect.Response[supervisionv1.GetVisitorResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	id, err := chat.ParseID("visitor_id", req.Msg.VisitorId)
	if err != nil {
		return nil, err
	}
	out := &supervisionv1.GetVisitorResponse{}
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		gs, err := grants(ctx, tx, p)
		if err != nil {
			return err
		}
		var mine []uuid.UUID
		for unit := range gs {
			mine = append(mine, unit)
		}
		if contactsAccess(gs) != nil {
			// Without AllChats, only the visitor of a conversation in one of the caller's units.
			theirs, err := store.VisitorUnits(ctx, tx, id)
			if err != nil {
				return err
			}
			shared := false
			for _, u := range theirs {
				_, shared = gs[u]
				if shared {
					break
				}
			}
			if !shared {
				return rpcerr.Errorf(connect.CodePermissionDenied, "this visitor chatted in none of your business units, and you hold %s on none", store.PermAllChats)
			}
		}
		v, err := store.GetVisitor(ctx, tx, id)
		if err != nil {
			return err
		}
		out.Visitor = visitorToProto(v)
		sessions, err := store.ListSessions(ctx, tx, id, visitorSessions, visitorPagesShown)
		if err != nil {
			return err
		}
		for _, se := range sessions {
			out.Sessions = append(out.Sessions, sessionToProto(se))
		}
		if len(mine) == 0 {
			return nil
		}
		convs, err := store.VisitorConversations(ctx, tx, id, mine, visitorConversations)
		if err != nil {
			return err
		}
		out.Conversations = make([]*chatv1.Conversation, 0, len(convs))
		for _, c := range convs {
			out.Conversations = append(out.Conversations, chat.ConversationToProto(c))
		}
		return nil
	})
	if err != nil {
		return nil, contactError(ctx, err)
	}
	return connect.NewResponse(out), nil
}

// ListContacts pages through the contacts by name.
func (s *Server) ListContacts(ctx context.Context, req *connect.Request[supervisionv1.ListContactsRequest]) (*connect.Response[supervisionv1.ListContactsResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	limit, err := pageLimit(m.Limit)
	if err != nil {
		return nil, err
	}
	if len(m.Query) > 200 {
		return nil, rpcerr.Invalid("query", "%d bytes is over the limit of 200 bytes", len(m.Query))
	}
	var after *store.ContactCursor
	if m.PageToken != "" {
		if after, err = decodeContactCursor(m.PageToken); err != nil {
			return nil, err
		}
	}
	out := &supervisionv1.ListContactsResponse{}
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		gs, err := grants(ctx, tx, p)
		if err != nil {
			return err
		}
		if err := contactsAccess(gs); err != nil {
			return err
		}
		vs, err := store.ListContacts(ctx, tx, m.Query, after, limit+1)
		if err != nil {
			return err
		}
		if len(vs) > limit {
			vs = vs[:limit]
			last := vs[limit-1]
			out.NextPageToken = encodeContactCursor(store.ContactCursor{Name: last.Profile.Name, ID: last.ID})
		}
		for _, v := range vs {
			out.Contacts = append(out.Contacts, visitorToProto(v))
		}
		return nil
	})
	if err != nil {
		return nil, contactError(ctx, err)
	}
	return connect.NewResponse(out), nil
}

// CreateContact stores a contact entered by hand.
func (s *Server) CreateContact(ctx context.Context, req *connect.Request[supervisionv1.CreateContactRequest]) (*connect.Response[supervisionv1.CreateContactResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	profile := profileFromProto(req.Msg.Profile)
	if err := chat.CheckProfile("profile", profile); err != nil {
		return nil, err
	}
	var v *store.Visitor
	err = s.contactChange(ctx, p, func(tx pgx.Tx) (string, error) {
		v, err = store.CreateContact(ctx, tx, p.Tenant, profile)
		if err != nil {
			return "", err
		}
		return store.AuditContactCreate, nil
	}, func() uuid.UUID { return v.ID })
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&supervisionv1.CreateContactResponse{Contact: visitorToProto(v)}), nil
}

// UpdateContact replaces a visitor's profile.
func (s *Server) UpdateContact(ctx context.Context, req *connect.Request[supervisionv1.UpdateContactRequest]) (*connect.Response[supervisionv1.UpdateContactResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	id, err := chat.ParseID("visitor_id", req.Msg.VisitorId)
	if err != nil {
		return nil, err
	}
	profile := profileFromProto(req.Msg.Profile)
	if err := chat.CheckProfile("profile", profile); err != nil {
		return nil, err
	}
	var v *store.Visitor
	err = s.contactChange(ctx, p, func(tx pgx.Tx) (string, error) {
		v, err = store.UpdateProfile(ctx, tx, id, profile)
		return store.AuditContactUpdate, err
	}, func() uuid.UUID { return id })
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&supervisionv1.UpdateContactResponse{Contact: visitorToProto(v)}), nil
}

// DeleteContact erases a contact's profile.
func (s *Server) DeleteContact(ctx context.Context, req *connect.Request[supervisionv1.DeleteContactRequest]) (*connect.Response[supervisionv1.DeleteContactResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	id, err := chat.ParseID("visitor_id", req.Msg.VisitorId)
	if err != nil {
		return nil, err
	}
	err = s.contactChange(ctx, p, func(tx pgx.Tx) (string, error) {
		return store.AuditContactDelete, store.DeleteContact(ctx, tx, id)
	}, func() uuid.UUID { return id })
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&supervisionv1.DeleteContactResponse{}), nil
}

// contactChange runs a change of contacts for a caller with access, and records it in the
// audit log in the same transaction, naming the visitor.
func (s *Server) contactChange(ctx context.Context, p *auth.Principal, change func(pgx.Tx) (string, error), visitor func() uuid.UUID) error {
	err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		gs, err := grants(ctx, tx, p)
		if err != nil {
			return err
		}
		if err := contactsAccess(gs); err != nil {
			return err
		}
		action, err := change(tx)
		if err != nil {
			return err
		}
		return store.AddAudit(ctx, tx, p.Tenant, p.Account.Username, action, uuid.Nil, "visitor "+visitor().String())
	})
	return contactError(ctx, err)
}

func contactError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) {
		return rpcerr.Errorf(connect.CodeNotFound, "no such contact or visitor")
	}
	return rpcerr.Internal(ctx, err)
}

func profileFromProto(p *supervisionv1.VisitorProfile) store.Profile {
	if p == nil {
		return store.Profile{}
	}
	return store.Profile{Name: p.Name, Email: p.Email, Phone: p.Phone, Notes: p.Notes}
}

func visitorToProto(v *store.Visitor) *supervisionv1.Visitor {
	out := &supervisionv1.Visitor{
		Id:        v.ID.String(),
		Profile:   &supervisionv1.VisitorProfile{Name: v.Profile.Name, Email: v.Profile.Email, Phone: v.Profile.Phone, Notes: v.Profile.Notes},
		IsContact: v.IsContact,
		Visits:    int32(v.Visits),
		CreatedAt: timestamppb.New(v.CreatedAt),
		UpdatedAt: timestamppb.New(v.UpdatedAt),
	}
	if v.FirstVisitAt != nil {
		out.FirstVisitAt = timestamppb.New(*v.FirstVisitAt)
	}
	if v.LastSeenAt != nil {
		out.LastSeenAt = timestamppb.New(*v.LastSeenAt)
	}
	return out
}

func sessionToProto(s *store.Session) *supervisionv1.VisitorSession {
	c := s.Client
	out := &supervisionv1.VisitorSession{
		Id: s.ID.String(), StartedAt: timestamppb.New(s.StartedAt), LastSeenAt: timestamppb.New(s.LastSeenAt),
		Site: s.Site, Referrer: s.Referrer, UserAgent: c.UserAgent, Os: c.OS, OsVersion: c.OSVersion,
		Browser: c.Browser, BrowserVersion: c.BrowserVersion, Device: c.Device, Country: c.Country,
		PageViewCount: int32(s.PageViews),
	}
	for _, pv := range s.Pages {
		out.PageViews = append(out.PageViews, &supervisionv1.PageView{Url: pv.URL, Title: pv.Title, ViewedAt: timestamppb.New(pv.ViewedAt)})
	}
	return out
}

func encodeContactCursor(c store.ContactCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContactCursor(s string) (*store.ContactCursor, error) {
	var c store.ContactCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == uuid.Nil {
		return nil, rpcerr.Invalid("page_token", "not a page token from an earlier answer")
	}
	return &c, nil
}
