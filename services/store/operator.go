package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// What the operator writes and reads besides the configuration upserts of config.go. Like
// them, these run as the schema owner.

// TenantID finds a tenant by name.
func TenantID(ctx context.Context, tx pgx.Tx, name string) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT tenant_id FROM tenants WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, ErrNotFound
	}
	return id, err
}

// RetireUnit takes a business unit out of service: no supervisor, no agent, no offline
// messages. A unit with no conversation is removed; one with history keeps its row, so
// that deleting a BusinessUnit never deletes conversations (the Tenant's deletionPolicy
// decides about data).
func RetireUnit(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, name string) error {
	var unit uuid.UUID
	err := tx.QueryRow(ctx, `UPDATE business_units SET accepts_offline_messages = false
		WHERE tenant_id = $1 AND name = $2 RETURNING unit_id`, tenant, name).Scan(&unit)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("retiring business unit %q: %w", name, err)
	}
	for _, stmt := range []string{
		`DELETE FROM supervisor_units WHERE tenant_id = $1 AND unit_id = $2`,
		`DELETE FROM agent_units WHERE tenant_id = $1 AND unit_id = $2`,
		`DELETE FROM business_units u WHERE tenant_id = $1 AND unit_id = $2
		   AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.tenant_id = u.tenant_id AND c.unit_id = u.unit_id)
		   AND NOT EXISTS (SELECT 1 FROM offline_messages m WHERE m.tenant_id = u.tenant_id AND m.unit_id = u.unit_id)`,
	} {
		if _, err := tx.Exec(ctx, stmt, tenant, unit); err != nil {
			return fmt.Errorf("retiring business unit %q: %w", name, err)
		}
	}
	return nil
}

// DrainAgent takes an agent out of routing (no unit, no capacity) and removes it once it
// holds no conversation; it reports whether the agent is gone.
func DrainAgent(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, name string) (bool, error) {
	var open int
	err := tx.QueryRow(ctx, `UPDATE agents SET capacity = 0 WHERE tenant_id = $1 AND name = $2 RETURNING open_count`, tenant, name).Scan(&open)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("draining agent %q: %w", name, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM agent_units au USING agents a
		WHERE a.tenant_id = $1 AND a.name = $2 AND au.tenant_id = a.tenant_id AND au.agent_id = a.agent_id`, tenant, name); err != nil {
		return false, fmt.Errorf("draining agent %q: %w", name, err)
	}
	if open > 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM agents WHERE tenant_id = $1 AND name = $2 AND open_count = 0`, tenant, name); err != nil {
		return false, fmt.Errorf("removing agent %q: %w", name, err)
	}
	return true, nil
}

// ObjectiveConfig is a productivity objective's row.
type ObjectiveConfig struct {
	Name string
	// Unit is the business unit's name; empty for the whole tenant.
	Unit string
	// AgentSelector is the label selector as JSON; nil for every agent.
	AgentSelector json.RawMessage
	Metric        string
	// Target, Warning and Critical are in base units (seconds for time metrics).
	Target, Warning, Critical float64
	Percent                   *int32
	Window                    time.Duration
}

// UpsertObjective creates or updates an objective; ErrUnknownUnit when its unit does not exist.
func UpsertObjective(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, o ObjectiveConfig) error {
	var unit *uuid.UUID
	if o.Unit != "" {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `SELECT unit_id FROM business_units WHERE tenant_id = $1 AND name = $2`, tenant, o.Unit).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("objective %q names business unit %q: %w", o.Name, o.Unit, ErrUnknownUnit)
		}
		if err != nil {
			return err
		}
		unit = &id
	}
	_, err := tx.Exec(ctx, `INSERT INTO objectives (tenant_id, name, unit_id, agent_selector, metric, target, warning, critical, percent, window_seconds)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, name) DO UPDATE SET unit_id = excluded.unit_id, agent_selector = excluded.agent_selector,
		  metric = excluded.metric, target = excluded.target, warning = excluded.warning, critical = excluded.critical,
		  percent = excluded.percent, window_seconds = excluded.window_seconds, updated_at = now()`,
		tenant, o.Name, unit, o.AgentSelector, o.Metric, o.Target, o.Warning, o.Critical, o.Percent, int(o.Window.Seconds()))
	if err != nil {
		return fmt.Errorf("storing objective %q: %w", o.Name, err)
	}
	return nil
}

// DeleteObjective removes an objective.
func DeleteObjective(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, name string) error {
	_, err := tx.Exec(ctx, `DELETE FROM objectives WHERE tenant_id = $1 AND name = $2`, tenant, name)
	return err
}

// TenantCounts is what a Tenant's status shows.
type TenantCounts struct {
	AgentsOnline, OpenConversations int
}

// CountTenant counts a tenant's agents online and open conversations.
func CountTenant(ctx context.Context, tx pgx.Tx, tenant uuid.UUID) (TenantCounts, error) {
	var c TenantCounts
	err := tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM agents WHERE tenant_id = $1 AND status <> 'offline'),
		(SELECT count(*) FROM conversations WHERE tenant_id = $1 AND state <> 'closed')`, tenant).Scan(&c.AgentsOnline, &c.OpenConversations)
	return c, err
}

// UnitCounts is what a BusinessUnit's status shows.
type UnitCounts struct {
	Agents, AgentsOnline, Open, Queued int
}

// CountUnit counts a unit's agents and conversations.
func CountUnit(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, name string) (UnitCounts, error) {
	var c UnitCounts
	err := tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM agent_units au WHERE au.tenant_id = u.tenant_id AND au.unit_id = u.unit_id),
		(SELECT count(*) FROM agent_units au JOIN agents a ON a.tenant_id = au.tenant_id AND a.agent_id = au.agent_id
		  WHERE au.tenant_id = u.tenant_id AND au.unit_id = u.unit_id AND a.status <> 'offline'),
		(SELECT count(*) FROM conversations c WHERE c.tenant_id = u.tenant_id AND c.unit_id = u.unit_id AND c.state IN ('assigned', 'active')),
		(SELECT count(*) FROM conversations c WHERE c.tenant_id = u.tenant_id AND c.unit_id = u.unit_id AND c.state = 'queued')
		FROM business_units u WHERE u.tenant_id = $1 AND u.name = $2`, tenant, name).Scan(&c.Agents, &c.AgentsOnline, &c.Open, &c.Queued)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// AgentPresence is what an AgentCapacity's status shows.
type AgentPresence struct {
	Status string
	Since  time.Time
	Load   int
}

// GetAgentPresence reads an agent's status and load.
func GetAgentPresence(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, name string) (AgentPresence, error) {
	var p AgentPresence
	err := tx.QueryRow(ctx, `SELECT status, status_changed_at, open_count FROM agents WHERE tenant_id = $1 AND name = $2`,
		tenant, name).Scan(&p.Status, &p.Since, &p.Load)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// ObjectiveProgress is how an objective is met over its window.
type ObjectiveProgress struct {
	// Value is in base units (seconds, contacts per agent-hour, percent); Measured is false
	// when the window holds nothing to measure, or the metric is measured elsewhere.
	Value    float64
	Measured bool
	// Attainment is the percentage of the goal met, 0–100.
	Attainment float64
}

// MeasureObjective computes an objective's current value and attainment from the tenant's
// conversations over its window, within its unit and agents (nil: all). Response time is
// measured live by the signals service, not here.
func MeasureObjective(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, o ObjectiveConfig, agents []string) (ObjectiveProgress, error) {
	var p ObjectiveProgress
	scope := `c.tenant_id = $1 AND ($2 = '' OR c.unit_id = (SELECT unit_id FROM business_units WHERE tenant_id = $1 AND name = $2))
		AND ($3::text[] IS NULL OR c.agent_id IN (SELECT agent_id FROM agents WHERE tenant_id = $1 AND name = ANY($3)))`
	args := []any{tenant, o.Unit, agents, o.Window.Seconds(), o.Target}
	percentile := 0.5
	if o.Percent != nil {
		percentile = float64(*o.Percent) / 100
	}
	var query string
	switch o.Metric {
	case "firstResponseTime", "handlingDuration":
		// The share of conversations within target, and the duration at the percentile.
		// The first reply after the assignment (migration 0016): after a transfer, the
		// previous agent's reply is no response of the new agent.
		duration := `extract(epoch FROM coalesce(sb_first_reply_at(c.tenant_id, c.conversation_id, c.assigned_at, c.first_agent_message_at), now()) - c.assigned_at)`
		started := `c.assigned_at`
		if o.Metric == "handlingDuration" {
			duration = `extract(epoch FROM coalesce(c.closed_at, now()) - c.assigned_at)`
		}
		query = `SELECT count(*) > 0, coalesce(percentile_cont($6) WITHIN GROUP (ORDER BY d), 0),
			coalesce(100.0 * count(*) FILTER (WHERE d <= $5) / nullif(count(*), 0), 0)
			FROM (SELECT ` + duration + ` AS d FROM conversations c
			      WHERE ` + scope + ` AND ` + started + ` > now() - make_interval(secs => $4)) m`
		args = append(args, percentile)
	case "averageHandlingTime":
		query = `SELECT count(*) > 0, coalesce(avg(extract(epoch FROM c.closed_at - c.assigned_at)), 0), 0
			FROM conversations c WHERE ` + scope + ` AND c.closed_at > now() - make_interval(secs => $4) AND c.assigned_at IS NOT NULL AND $5::float8 IS NOT NULL`
	case "contactsPerHour":
		query = `SELECT count(*) > 0, coalesce(count(*) / greatest(count(DISTINCT c.agent_id), 1) / ($4 / 3600.0), 0), 0
			FROM conversations c WHERE ` + scope + ` AND c.closed_at > now() - make_interval(secs => $4) AND c.assigned_at IS NOT NULL AND $5::float8 IS NOT NULL`
	case "satisfaction":
		query = `SELECT count(*) > 0, coalesce(100.0 * count(*) FILTER (WHERE r.thumb = 'up' OR r.csat >= 4) / nullif(count(*), 0), 0), 0
			FROM ratings r JOIN conversations c USING (tenant_id, conversation_id)
			WHERE ` + scope + ` AND r.rated_at > now() - make_interval(secs => $4) AND $5::float8 IS NOT NULL`
	case "conversionRate":
		// The percentage of the conversations closed in the window with a recorded sale.
		query = `SELECT count(*) > 0, coalesce(100.0 * count(*) FILTER (WHERE EXISTS (SELECT 1 FROM conversions cv
				WHERE cv.tenant_id = c.tenant_id AND cv.conversation_id = c.conversation_id)) / nullif(count(*), 0), 0), 0
			FROM conversations c WHERE ` + scope + ` AND c.closed_at > now() - make_interval(secs => $4) AND $5::float8 IS NOT NULL`
	default:
		return p, nil
	}
	var share float64
	if err := tx.QueryRow(ctx, query, args...).Scan(&p.Measured, &p.Value, &share); err != nil {
		return p, fmt.Errorf("measuring objective %q: %w", o.Name, err)
	}
	if !p.Measured {
		return p, nil
	}
	switch o.Metric {
	case "firstResponseTime", "handlingDuration":
		p.Attainment = share
		if o.Percent != nil {
			p.Attainment = min(100, 100*share/float64(*o.Percent))
		}
	case "averageHandlingTime":
		p.Attainment = 100
		if p.Value > o.Target {
			p.Attainment = 100 * o.Target / p.Value
		}
	default: // more is better
		p.Attainment = 100
		if o.Target > 0 && p.Value < o.Target {
			p.Attainment = 100 * p.Value / o.Target
		}
	}
	return p, nil
}

// AttainmentThresholds are an objective's warning and critical thresholds in terms of its
// attainment as MeasureObjective computes it (0–1, 1 when the target is met, more is
// better): value over target where more is better, target over value for average handling
// time. ok is false for the time objectives whose attainment is the share of conversations
// within target: their warning and critical bound one conversation, not that share.
func AttainmentThresholds(o ObjectiveConfig) (warning, critical float64, ok bool) {
	switch o.Metric {
	case "contactsPerHour", "satisfaction", "conversionRate":
		if o.Target > 0 {
			return o.Warning / o.Target, o.Critical / o.Target, true
		}
	case "averageHandlingTime":
		if o.Warning > 0 && o.Critical > 0 {
			return o.Target / o.Warning, o.Target / o.Critical, true
		}
	}
	return 0, 0, false
}

// ExpireConversations deletes up to limit of a tenant's conversations closed longer than
// retention ago, oldest first, with everything that hangs off them; it returns how many.
func ExpireConversations(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, retention time.Duration, limit int) (int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM conversations WHERE tenant_id = $1 AND conversation_id IN (
		SELECT conversation_id FROM conversations WHERE tenant_id = $1 AND state = 'closed'
		  AND closed_at < now() - make_interval(secs => $2) ORDER BY closed_at LIMIT $3)`, tenant, retention.Seconds(), limit)
	if err != nil {
		return 0, fmt.Errorf("expiring conversations: %w", err)
	}
	return tag.RowsAffected(), nil
}

// UnitStats are a business unit's live figures, for metrics.
type UnitStats struct {
	Tenant, Unit                   string
	Queued, Open                   int64
	Available, Busy, Away, Offline int64
	UsedSlots, FreeSlots           int64
}

// AllUnitStats reads every unit's live figures across tenants (see sb_unit_stats).
func (db *DB) AllUnitStats(ctx context.Context) ([]UnitStats, error) {
	rows, err := db.Pool.Query(ctx, `SELECT tenant, business_unit, queued, open, available, busy, away, offline, used_slots, free_slots FROM sb_unit_stats()`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UnitStats
	for rows.Next() {
		var s UnitStats
		if err := rows.Scan(&s.Tenant, &s.Unit, &s.Queued, &s.Open, &s.Available, &s.Busy, &s.Away, &s.Offline, &s.UsedSlots, &s.FreeSlots); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// AgentGroupStats are the agents of a tenant that belong to the same set of business
// units, for metrics.
type AgentGroupStats struct {
	Tenant string
	// Units are the units' names, sorted.
	Units                          []string
	Available, Busy, Away, Offline int64
	UsedSlots, FreeSlots           int64
}

// AllAgentGroupStats reads every tenant's agents by set of units (see sb_agent_group_stats).
func (db *DB) AllAgentGroupStats(ctx context.Context) ([]AgentGroupStats, error) {
	rows, err := db.Pool.Query(ctx, `SELECT tenant, units, available, busy, away, offline, used_slots, free_slots FROM sb_agent_group_stats()`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AgentGroupStats, error) {
		var g AgentGroupStats
		err := row.Scan(&g.Tenant, &g.Units, &g.Available, &g.Busy, &g.Away, &g.Offline, &g.UsedSlots, &g.FreeSlots)
		return g, err
	})
}

// UnitRatingsToday are a business unit's ratings since midnight in its time zone.
type UnitRatingsToday struct {
	Tenant, Unit           string
	Satisfied, Unsatisfied int64
	Criteria               map[string][2]int64 // by criterion: good (4–5) and poor scores
}

// AllUnitRatingsToday reads every unit's ratings of the day across tenants (see
// sb_unit_ratings_today).
func (db *DB) AllUnitRatingsToday(ctx context.Context) ([]UnitRatingsToday, error) {
	rows, err := db.Pool.Query(ctx, `SELECT tenant, business_unit, satisfied, unsatisfied, welcome_good, welcome_poor,
		response_time_good, response_time_poor, quality_good, quality_poor FROM sb_unit_ratings_today()`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (UnitRatingsToday, error) {
		var r UnitRatingsToday
		var welcome, responseTime, quality [2]int64
		err := row.Scan(&r.Tenant, &r.Unit, &r.Satisfied, &r.Unsatisfied, &welcome[0], &welcome[1], &responseTime[0], &responseTime[1], &quality[0], &quality[1])
		r.Criteria = map[string][2]int64{"welcome": welcome, "response_time": responseTime, "quality": quality}
		return r, err
	})
}

// TenantNames lists the names of the tenants that exist (see sb_tenant_names).
func (db *DB) TenantNames(ctx context.Context) (map[string]bool, error) {
	rows, err := db.Pool.Query(ctx, `SELECT sb_tenant_names()`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out, nil
}
