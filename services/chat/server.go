// Package chat is the ChatService: visitors start conversations from a widget and write in
// them; agents set their status, receive conversations routed to them within capacity, and
// answer. Every change is committed to PostgreSQL before it is acknowledged or published
// to the live hub.
package chat

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Server is the ChatService.
type Server struct {
	db       *store.DB
	hub      *live.Hub
	bridge   *live.Bridge
	replica  uuid.UUID
	proxies  Proxies
	observer Observer
	// limits admits widget calls, whose tenant only the widget key tells; widgetKeys
	// finds that tenant without a query.
	limits     *limits.Limiter
	widgetKeys widgetKeys
	// configHooks hear of configuration changes (see OnConfigChange).
	configHooks []func(tenant uuid.UUID)
}

var _ chatv1connect.ChatServiceHandler = (*Server)(nil)

// PublicProcedures are the visitor calls authenticated by the widget key in the request.
var PublicProcedures = []string{
	chatv1connect.ChatServiceGetAvailabilityProcedure,
	chatv1connect.ChatServiceStartConversationProcedure,
	chatv1connect.ChatServiceLeaveOfflineMessageProcedure,
	chatv1connect.ChatServiceTrackPageViewProcedure,
}

// New returns the ChatService of one replica. Call Run to start its background work.
// proxies says whom to believe about visitors' countries; lim limits widget calls.
func New(db *store.DB, hub *live.Hub, replica uuid.UUID, proxies Proxies, lim *limits.Limiter) *Server {
	s := &Server{db: db, hub: hub, replica: replica, proxies: proxies, observer: noObserver{}, limits: lim}
	s.bridge = live.NewBridge(db.Pool, hub, replica, s.load)
	return s
}

// Bridge is the replica's link to the others.
func (s *Server) Bridge() *live.Bridge { return s.bridge }

// WidgetTenant is the tenant of a widget key the server remembers from a recent call,
// without asking the database (see limits.Limiter.Middleware).
func (s *Server) WidgetTenant(key string) (uuid.UUID, bool) { return s.widgetKeys.remembered(key) }

// housekeepingInterval is how often a replica refreshes its agents' presence and expires
// the presence of replicas that died.
const housekeepingInterval = 10 * time.Second

// Run carries notices between replicas and keeps presence until ctx ends.
func (s *Server) Run(ctx context.Context) {
	go s.bridge.Run(ctx)
	go s.followConfig(ctx)
	t := time.NewTicker(housekeepingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.housekeeping(ctx)
		}
	}
}

func (s *Server) housekeeping(ctx context.Context) {
	tenants, err := s.db.TenantIDs(ctx)
	if err != nil {
		slog.Warn("housekeeping: listing tenants", "err", err)
		return
	}
	for _, tenant := range tenants {
		var offline []*store.Agent
		err := s.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
			offline = nil
			if err := store.RefreshPresence(ctx, tx, s.replica); err != nil {
				return err
			}
			ids, err := store.ExpirePresence(ctx, tx)
			for _, id := range ids {
				a, err := store.GetAgent(ctx, tx, id)
				if err != nil {
					return err
				}
				offline = append(offline, a)
			}
			return err
		})
		if err != nil {
			slog.Warn("housekeeping: presence", "tenant", tenant, "err", err)
			continue
		}
		for _, a := range offline {
			s.publishStatus(tenant, a)
		}
	}
}

func (s *Server) publishEvents(events ...*store.Event) {
	for _, e := range events {
		switch {
		case e.Kind == store.KindMessage:
			s.observer.Message(e.Tenant, e.ConversationID, e.AuthorKind)
		case e.Kind == store.KindSystem && e.SystemKind == store.SystemClosed:
			s.observer.Closed(e.Tenant, e.ConversationID)
		case e.Kind == store.KindSystem && e.SystemKind == store.SystemTransferred:
			s.observer.Transferred(e.Tenant, e.ConversationID)
		}
		s.hub.Publish(live.Conversation(e.Tenant, e.ConversationID), live.Item{Event: e})
		if e.Kind != store.KindDraft {
			s.hub.Publish(live.Activity(e.Tenant), live.Item{Event: e})
		}
		n := live.Notice{Kind: live.NoticeEvent, Tenant: e.Tenant, ID: e.ConversationID, Seq: e.Seq}
		if e.Kind == store.KindDraft {
			n.Kind, n.Extra = live.NoticeDraft, e.AuthorKind
		}
		s.bridge.Tell(n)
	}
}

func (s *Server) publishRouted(tenant uuid.UUID, r *store.Routed) {
	if r == nil {
		return
	}
	s.publishEvents(r.Events...)
	seen := map[uuid.UUID]bool{}
	for _, a := range r.Agents {
		if seen[a] {
			continue
		}
		seen[a] = true
		s.hub.Publish(live.Agent(tenant, a), live.Item{Assignment: r.Conversation, Agent: a})
		s.bridge.Tell(live.Notice{Kind: live.NoticeAssignment, Tenant: tenant, ID: a, Ref: r.Conversation.ID})
	}
}

func (s *Server) publishStatus(tenant uuid.UUID, a *store.Agent) {
	s.hub.Publish(live.Agent(tenant, a.ID), live.Item{Status: a})
	s.bridge.Tell(live.Notice{Kind: live.NoticeStatus, Tenant: tenant, ID: a.ID})
}

// dispatch assigns queued conversations of the units of the given agents (who may have
// a free slot now), the longest wait first, until no conversation or no slot is left.
func (s *Server) dispatch(ctx context.Context, tenant uuid.UUID, agents ...uuid.UUID) {
	if len(agents) == 0 {
		return
	}
	var units []uuid.UUID
	err := s.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		units, err = store.UnitsWithQueueForAgents(ctx, tx, agents)
		return err
	})
	if err != nil {
		slog.Warn("dispatch: reading queues", "tenant", tenant, "err", err)
		return
	}
	s.dispatchUnits(ctx, tenant, units...)
}

func (s *Server) dispatchUnits(ctx context.Context, tenant uuid.UUID, units ...uuid.UUID) {
	// The caller's request may end; queued visitors must still get their agent.
	ctx = context.WithoutCancel(ctx)
	for _, unit := range units {
		for {
			var r *store.Routed
			err := s.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
				var err error
				r, err = store.DispatchOne(ctx, tx, tenant, unit)
				return err
			})
			if err != nil {
				slog.Warn("dispatch", "tenant", tenant, "unit", unit, "err", err)
				break
			}
			if r == nil {
				break
			}
			s.publishRouted(tenant, r)
		}
	}
}

// load turns notices of other replicas into items for this replica's subscribers.
func (s *Server) load(ctx context.Context, notices []live.Notice) {
	type convKey struct{ tenant, conv uuid.UUID }
	seqs := map[convKey][]int64{}
	for _, n := range notices {
		switch n.Kind {
		case live.NoticeEvent:
			k := convKey{n.Tenant, n.ID}
			seqs[k] = append(seqs[k], n.Seq)
		case live.NoticeDraft:
			s.loadInto(ctx, n.Tenant, func(tx pgx.Tx) (live.Item, error) {
				e, err := store.LoadDraft(ctx, tx, n.Tenant, n.ID, n.Extra)
				return live.Item{Event: e}, err
			}, n.Topic())
		case live.NoticeAssignment:
			s.loadInto(ctx, n.Tenant, func(tx pgx.Tx) (live.Item, error) {
				c, err := store.GetConversation(ctx, tx, n.Ref)
				return live.Item{Assignment: c, Agent: n.ID}, err
			}, n.Topic())
		case live.NoticeStatus:
			s.loadInto(ctx, n.Tenant, func(tx pgx.Tx) (live.Item, error) {
				a, err := store.GetAgent(ctx, tx, n.ID)
				return live.Item{Status: a}, err
			}, n.Topic())
		case live.NoticeSignal:
			s.loadInto(ctx, n.Tenant, func(tx pgx.Tx) (live.Item, error) {
				g, err := store.GetSignal(ctx, tx, n.ID)
				return live.Item{Signal: g}, err
			}, n.Topic())
		}
	}
	for k, list := range seqs {
		var events []*store.Event
		err := s.db.InTenant(ctx, k.tenant, func(tx pgx.Tx) error {
			var err error
			events, err = store.ListEventsBySeq(ctx, tx, k.tenant, k.conv, list)
			return err
		})
		if err != nil {
			slog.Warn("live: loading events of another replica", "err", err)
			continue
		}
		for _, e := range events {
			s.hub.Publish(live.Conversation(k.tenant, k.conv), live.Item{Event: e, Remote: true})
			s.hub.Publish(live.Activity(k.tenant), live.Item{Event: e, Remote: true})
		}
	}
}

func (s *Server) loadInto(ctx context.Context, tenant uuid.UUID, read func(pgx.Tx) (live.Item, error), topic live.Topic) {
	var it live.Item
	err := s.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		var err error
		it, err = read(tx)
		return err
	})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			slog.Warn("live: loading an update of another replica", "err", err)
		}
		return
	}
	it.Remote = true
	s.hub.Publish(topic, it)
}

// caller returns the call's principal; ChatService calls past the interceptor always
// have one, except the public visitor calls.
func caller(ctx context.Context) (*auth.Principal, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("missing bearer token"))
	}
	return p, nil
}

func agentCaller(ctx context.Context) (*auth.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !p.IsAgent() {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only agents may do this")
	}
	return p, nil
}

// StoreError turns the store's domain errors into API errors.
func StoreError(ctx context.Context, err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return rpcerr.Errorf(connect.CodeNotFound, "%s not found", what)
	case errors.Is(err, store.ErrClosed):
		return rpcerr.Errorf(connect.CodeFailedPrecondition, "%s is closed", what)
	case errors.Is(err, store.ErrNotYours):
		return rpcerr.Errorf(connect.CodePermissionDenied, "%s is not assigned to you", what)
	case errors.Is(err, store.ErrAgentUnavailable):
		return rpcerr.Errorf(connect.CodeFailedPrecondition, "the target agent is not available or has no free slot")
	case errors.Is(err, store.ErrSameTarget):
		return rpcerr.Errorf(connect.CodeFailedPrecondition, "%s is already there", what)
	}
	return rpcerr.Internal(ctx, err)
}

// access reads a conversation the caller may see: a visitor its own, an agent the ones
// assigned to it (now, or last before they closed).
func (s *Server) access(ctx context.Context, tx pgx.Tx, p *auth.Principal, id uuid.UUID) (*store.Conversation, error) {
	if p.Visitor && id != p.Conversation {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "this visitor token is for another conversation")
	}
	if !p.Visitor && !p.IsAgent() {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "only the visitor and the agent of a conversation use the chat service; supervisors use the supervision service")
	}
	c, err := store.GetConversation(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := mayWrite(p)(c); err != nil {
		return nil, err
	}
	return c, nil
}

// mayWrite is the check for changes: the visitor in its conversation, the agent in the
// conversations assigned to it.
func mayWrite(p *auth.Principal) store.Check {
	return func(c *store.Conversation) error {
		switch {
		case p.Visitor && c.ID == p.Conversation:
			return nil
		case p.IsAgent() && c.AgentID.Valid && c.AgentID.UUID == p.Account.AgentID.UUID:
			return nil
		}
		return store.ErrNotYours
	}
}
