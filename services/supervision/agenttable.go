package supervision

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// GetAgentTable is the agent table of a unit's page: each agent's day so far, in the
// unit's time zone (UTC for a unit without business hours). Any grant on the unit shows it.
func (s *Server) GetAgentTable(ctx context.Context, req *connect.Request[supervisionv1.GetAgentTableRequest]) (*connect.Response[supervisionv1.GetAgentTableResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	name := req.Msg.BusinessUnit
	if name == "" {
		return nil, rpcerr.Invalid("business_unit", "required")
	}
	res := &supervisionv1.GetAgentTableResponse{}
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		unit, err := store.GetUnit(ctx, tx, name)
		if errors.Is(err, store.ErrNotFound) {
			return rpcerr.Errorf(connect.CodeNotFound, "business_unit: no business unit named %s", rpcerr.Quote(name))
		}
		if err != nil {
			return err
		}
		gs, err := grants(ctx, tx, p)
		if err != nil {
			return err
		}
		if _, ok := gs[unit.ID]; !ok {
			return rpcerr.Errorf(connect.CodePermissionDenied, "you supervise no business unit named %s", rpcerr.Quote(name))
		}
		zone := time.UTC
		if unit.Hours != nil {
			if loc, err := time.LoadLocation(unit.Hours.TimeZone); err == nil {
				zone = loc
			}
		}
		now := time.Now().In(zone)
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
		res.Day, res.TimeZone = midnight.Format(time.DateOnly), zone.String()
		days, err := store.AgentTable(ctx, tx, unit.ID, midnight)
		if err != nil {
			return err
		}
		signals, err := store.ListSignals(ctx, tx, store.SignalFilter{ActiveOnly: true, Limit: 1 << 30})
		if err != nil {
			return err
		}
		byAgent := map[uuid.UUID][]*supervisionv1.Signal{}
		for _, sig := range signals {
			// A signal in a unit the caller does not supervise stays hidden.
			if _, ok := gs[sig.Unit.UUID]; sig.Agent.Valid && (!sig.Unit.Valid || ok) {
				byAgent[sig.Agent.UUID] = append(byAgent[sig.Agent.UUID], signalToProto(sig))
			}
		}
		for _, d := range days {
			res.Rows = append(res.Rows, agentTableRow(d, byAgent[d.ID]))
		}
		return nil
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	return connect.NewResponse(res), nil
}

func agentTableRow(d *store.AgentDay, signals []*supervisionv1.Signal) *supervisionv1.AgentTableRow {
	row := &supervisionv1.AgentTableRow{
		Agent: d.Name, DisplayName: d.DisplayName, Status: chat.StatusToProto(d.Status),
		PresenceSeconds: d.PresenceSeconds, Contacts: d.Contacts, AverageHandlingSeconds: d.HandlingSeconds,
		Transactions: d.Transactions, Satisfaction: d.Satisfaction, Ratings: d.Ratings,
		InProgressUnit: d.InProgressUnit, InProgressAll: d.InProgressAll,
		SignalActive: len(signals) > 0, Signals: signals,
	}
	if d.PresenceSeconds > 0 {
		row.ContactsPerHour = float64(d.Contacts) / (float64(d.PresenceSeconds) / 3600)
	}
	if d.Contacts > 0 {
		row.ConversionRate = float64(d.Converted) / float64(d.Contacts)
	}
	for _, m := range d.Turnover {
		row.Turnover = append(row.Turnover, &supervisionv1.Money{Currency: m.Currency, Amount: m.Amount})
	}
	return row
}
