package supervision

import (
	"context"
	"slices"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/board"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Board cadence of WatchBoard: the board again at least every boardRefresh, and sooner
// after a signal of the caller's units, but never twice within boardMinGap.
const (
	boardRefresh = 5 * time.Second
	boardMinGap  = time.Second
)

// ServeBoard sets what the board is evaluated by: the embedded engine or an external
// Prometheus. Until it is set, GetBoard and WatchBoard answer Unavailable.
func (s *Server) ServeBoard(src board.Source) { s.board = src }

// boardView is what one caller's board shows: its scope (from the caller's grants, never
// from the request's text), the units' ids for signals (nil: the whole tenant) and the
// active signals.
type boardView struct {
	scope   board.Scope
	units   []uuid.UUID
	signals []*store.Signal
}

// span reads range_seconds.
func span(seconds int32) (time.Duration, error) {
	switch {
	case seconds == 0:
		return board.DefaultSpan, nil
	case seconds < 60 || time.Duration(seconds)*time.Second > board.MaxSpan:
		return 0, rpcerr.Invalid("range_seconds", "%d is outside 60–%d", seconds, int(board.MaxSpan.Seconds()))
	}
	return time.Duration(seconds) * time.Second, nil
}

// view reads the caller's board scope: the units it holds any permission on, or only the
// one named; a tenant admin without a unit named sees the whole tenant.
func (s *Server) view(ctx context.Context, p *auth.Principal, unit string) (*boardView, error) {
	v := &boardView{}
	err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		tenant, err := store.TenantName(ctx, tx)
		if err != nil {
			return err
		}
		gs, err := grants(ctx, tx, p)
		if err != nil {
			return err
		}
		var names []string
		v.units = nil
		for id, g := range gs {
			if (unit == "" || g.UnitName == unit) && (g.Supervise || g.SuperviseOpenChats || g.AllChats) {
				names = append(names, g.UnitName)
				v.units = append(v.units, id)
			}
		}
		if len(names) == 0 {
			if unit != "" {
				return rpcerr.Errorf(connect.CodePermissionDenied, "you supervise no business unit named %s", rpcerr.Quote(unit))
			}
			return rpcerr.Errorf(connect.CodePermissionDenied, "you supervise no business unit")
		}
		slices.Sort(names)
		v.scope = board.Scope{Tenant: tenant, Units: names}
		if unit == "" && p.Account.Role == store.RoleAdmin {
			v.scope.Units, v.units = nil, nil
		}
		if v.scope.Objectives, err = store.ListObjectives(ctx, tx); err != nil {
			return err
		}
		v.signals, err = store.ListSignals(ctx, tx, store.SignalFilter{Units: v.units, ActiveOnly: true})
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	return v, nil
}

// evaluate evaluates the caller's board now.
func (s *Server) evaluate(ctx context.Context, p *auth.Principal, unit string, span time.Duration) (*supervisionv1.Board, *boardView, error) {
	if s.board == nil {
		return nil, nil, rpcerr.Errorf(connect.CodeUnavailable, "the board is not served by this replica")
	}
	v, err := s.view(ctx, p, unit)
	if err != nil {
		return nil, nil, err
	}
	b := board.Evaluate(ctx, s.board, v.scope, span)
	for _, sig := range v.signals {
		b.Signals = append(b.Signals, signalToProto(sig))
	}
	return b, v, nil
}

// GetBoard evaluates the caller's board.
func (s *Server) GetBoard(ctx context.Context, req *connect.Request[supervisionv1.GetBoardRequest]) (*connect.Response[supervisionv1.GetBoardResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	d, err := span(req.Msg.RangeSeconds)
	if err != nil {
		return nil, err
	}
	b, _, err := s.evaluate(ctx, p, req.Msg.BusinessUnit, d)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&supervisionv1.GetBoardResponse{Board: b}), nil
}

// WatchBoard streams the caller's board: at once, then at least every five seconds and
// sooner after a signal of its units (never twice within a second), and each signal of
// its units as it is raised or cleared.
func (s *Server) WatchBoard(ctx context.Context, req *connect.Request[supervisionv1.WatchBoardRequest], stream *connect.ServerStream[supervisionv1.WatchBoardResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	d, err := span(req.Msg.RangeSeconds)
	if err != nil {
		return err
	}
	// Subscribe before the first evaluation, so that no signal between the two is missed.
	sub := s.hub.Subscribe(live.Signals(p.Tenant))
	defer sub.Close()
	var (
		view     *boardView
		sent     time.Time
		periodic = time.NewTimer(boardRefresh)
		soon     <-chan time.Time
	)
	defer periodic.Stop()
	send := func() error {
		b, v, err := s.evaluate(ctx, p, req.Msg.BusinessUnit, d)
		if err != nil {
			return err
		}
		view, sent, soon = v, time.Now(), nil
		periodic.Reset(boardRefresh)
		return stream.Send(&supervisionv1.WatchBoardResponse{Board: b})
	}
	if err := send(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return watchEnded(sub.Err())
		case it := <-sub.C():
			if it.Missed {
				// Signals of other replicas may have gone unheard: evaluate again.
				if err := send(); err != nil {
					return err
				}
				continue
			}
			sig := it.Signal
			if sig == nil || (view.units != nil && !slices.Contains(view.units, sig.Unit.UUID)) {
				continue
			}
			if err := stream.Send(&supervisionv1.WatchBoardResponse{Signal: signalToProto(sig)}); err != nil {
				return err
			}
			if soon == nil {
				soon = time.After(time.Until(sent.Add(boardMinGap)))
			}
		case <-soon:
			if err := send(); err != nil {
				return err
			}
		case <-periodic.C:
			if err := send(); err != nil {
				return err
			}
		}
	}
}
