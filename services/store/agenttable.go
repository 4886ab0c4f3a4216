package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Money is an exact decimal amount in a currency.
type Money struct {
	Currency string
	Amount   string
}

// AgentDay is one agent's figures since a moment (the start of the unit's day), for the
// supervision page's agent table.
type AgentDay struct {
	ID          uuid.UUID
	Name        string
	DisplayName string
	Status      string
	// PresenceSeconds is the time online (any status but offline) since the moment.
	PresenceSeconds int64
	// Contacts are the conversations assigned to the agent since the moment, in any unit;
	// Converted those of them with a conversion.
	Contacts  int32
	Converted int32
	// HandlingSeconds is the mean handling time (close minus assignment) of the agent's
	// conversations closed since the moment; 0 without any.
	HandlingSeconds float64
	// Turnover is the sum of the conversions attributed to the agent since the moment, per
	// currency; Transactions their number.
	Turnover     []Money
	Transactions int32
	// Satisfaction is the mean CSAT of the ratings given since the moment to the agent's
	// conversations; Ratings their number.
	Satisfaction float64
	Ratings      int32
	// InProgressUnit and InProgressAll are the agent's open conversations in the unit and in all.
	InProgressUnit int32
	InProgressAll  int32
}

// AgentTable reads the figures of every agent of a unit since a moment, by name.
func AgentTable(ctx context.Context, tx pgx.Tx, unit uuid.UUID, since time.Time) ([]*AgentDay, error) {
	rows, err := tx.Query(ctx, `SELECT a.agent_id, a.name, a.display_name, a.status,
		(SELECT coalesce(sum(extract(epoch FROM least(coalesce(i.ended_at, now()), now()) - greatest(i.started_at, $2))), 0)::bigint
		   FROM agent_status_intervals i
		   WHERE i.tenant_id = a.tenant_id AND i.agent_id = a.agent_id AND i.status <> 'offline'
		     AND (i.ended_at IS NULL OR i.ended_at > $2) AND i.started_at < now()),
		c.contacts, c.converted, c.handling,
		(SELECT count(*) FROM conversions cv WHERE cv.tenant_id = a.tenant_id AND cv.agent_id = a.agent_id AND cv.occurred_at >= $2),
		r.csat, r.ratings,
		(SELECT count(*) FROM conversations o WHERE o.tenant_id = a.tenant_id AND o.agent_id = a.agent_id
		   AND o.state IN ('assigned', 'active') AND o.unit_id = $1),
		(SELECT count(*) FROM conversations o WHERE o.tenant_id = a.tenant_id AND o.agent_id = a.agent_id
		   AND o.state IN ('assigned', 'active'))
		FROM agent_units au
		JOIN agents a ON a.tenant_id = au.tenant_id AND a.agent_id = au.agent_id
		CROSS JOIN LATERAL (
		    SELECT count(*) FILTER (WHERE c.assigned_at >= $2) AS contacts,
		        count(*) FILTER (WHERE c.assigned_at >= $2 AND EXISTS (SELECT 1 FROM conversions cv
		            WHERE cv.tenant_id = c.tenant_id AND cv.conversation_id = c.conversation_id)) AS converted,
		        coalesce(avg(extract(epoch FROM c.closed_at - c.assigned_at)) FILTER (WHERE c.closed_at >= $2), 0)::float8 AS handling
		    FROM conversations c
		    WHERE c.tenant_id = a.tenant_id AND c.agent_id = a.agent_id AND (c.assigned_at >= $2 OR c.closed_at >= $2)) c
		CROSS JOIN LATERAL (
		    SELECT coalesce(avg(rt.csat), 0)::float8 AS csat, count(rt.csat) AS ratings
		    FROM ratings rt JOIN conversations rc ON rc.tenant_id = rt.tenant_id AND rc.conversation_id = rt.conversation_id
		    WHERE rt.tenant_id = a.tenant_id AND rc.agent_id = a.agent_id AND rt.rated_at >= $2 AND rt.csat IS NOT NULL) r
		WHERE au.tenant_id = sb_current_tenant() AND au.unit_id = $1
		ORDER BY a.name`, unit, since)
	if err != nil {
		return nil, fmt.Errorf("reading the agent table: %w", err)
	}
	days, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*AgentDay, error) {
		d := &AgentDay{}
		var transactions, ratings, inUnit, inAll, contacts, converted int64
		err := row.Scan(&d.ID, &d.Name, &d.DisplayName, &d.Status, &d.PresenceSeconds, &contacts, &converted, &d.HandlingSeconds,
			&transactions, &d.Satisfaction, &ratings, &inUnit, &inAll)
		d.Contacts, d.Converted, d.Transactions, d.Ratings = int32(contacts), int32(converted), int32(transactions), int32(ratings)
		d.InProgressUnit, d.InProgressAll = int32(inUnit), int32(inAll)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the agent table: %w", err)
	}
	byID := make(map[uuid.UUID]*AgentDay, len(days))
	ids := make([]uuid.UUID, 0, len(days))
	for _, d := range days {
		byID[d.ID] = d
		ids = append(ids, d.ID)
	}
	turnover, err := tx.Query(ctx, `SELECT agent_id, currency, sum(amount)::text FROM conversions
		WHERE tenant_id = sb_current_tenant() AND agent_id = ANY($1) AND occurred_at >= $2
		GROUP BY agent_id, currency ORDER BY agent_id, currency`, ids, since)
	if err != nil {
		return nil, fmt.Errorf("reading turnover: %w", err)
	}
	defer turnover.Close()
	for turnover.Next() {
		var id uuid.UUID
		var m Money
		if err := turnover.Scan(&id, &m.Currency, &m.Amount); err != nil {
			return nil, err
		}
		byID[id].Turnover = append(byID[id].Turnover, m)
	}
	return days, turnover.Err()
}
