package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SetPerAgentMetrics records a tenant's opt-in to per-agent metrics (Tenant
// spec.perAgentMetrics).
func SetPerAgentMetrics(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, on bool) error {
	if _, err := tx.Exec(ctx, `UPDATE tenants SET per_agent_metrics = $2 WHERE tenant_id = $1 AND per_agent_metrics <> $2`, tenant, on); err != nil {
		return fmt.Errorf("storing the per-agent metrics opt-in: %w", err)
	}
	return nil
}

// AgentStats is an agent's live figures, for per-agent metrics.
type AgentStats struct {
	Tenant, Agent, Status string
	Open                  int64
}

// AllAgentStats reads the agents of the tenants that opted in to per-agent metrics, and
// the names of those tenants (see sb_agent_stats and sb_per_agent_tenants).
func (db *DB) AllAgentStats(ctx context.Context) ([]AgentStats, map[string]bool, error) {
	rows, err := db.Pool.Query(ctx, `SELECT tenant, agent, status, open FROM sb_agent_stats()`)
	if err != nil {
		return nil, nil, err
	}
	stats, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AgentStats, error) {
		var s AgentStats
		return s, row.Scan(&s.Tenant, &s.Agent, &s.Status, &s.Open)
	})
	if err != nil {
		return nil, nil, err
	}
	rows, err = db.Pool.Query(ctx, `SELECT name FROM sb_per_agent_tenants()`)
	if err != nil {
		return nil, nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, err
	}
	tenants := make(map[string]bool, len(names))
	for _, n := range names {
		tenants[n] = true
	}
	return stats, tenants, nil
}

// PerAgentTenantIDs lists the ids of the tenants that opted in to per-agent metrics.
func (db *DB) PerAgentTenantIDs(ctx context.Context) (map[uuid.UUID]bool, error) {
	rows, err := db.Pool.Query(ctx, `SELECT tenant_id FROM sb_per_agent_tenants()`)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
