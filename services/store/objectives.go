package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListObjectives lists the current tenant's productivity objectives, by name.
func ListObjectives(ctx context.Context, tx pgx.Tx) ([]ObjectiveConfig, error) {
	rows, err := tx.Query(ctx, `SELECT o.name, coalesce(u.name, ''), o.agent_selector, o.metric, o.target, o.warning, o.critical,
		o.percent, o.window_seconds
		FROM objectives o LEFT JOIN business_units u ON u.tenant_id = o.tenant_id AND u.unit_id = o.unit_id
		WHERE o.tenant_id = sb_current_tenant() ORDER BY o.name`)
	if err != nil {
		return nil, fmt.Errorf("listing objectives: %w", err)
	}
	defer rows.Close()
	var out []ObjectiveConfig
	for rows.Next() {
		var o ObjectiveConfig
		var window int
		if err := rows.Scan(&o.Name, &o.Unit, &o.AgentSelector, &o.Metric, &o.Target, &o.Warning, &o.Critical, &o.Percent, &window); err != nil {
			return nil, err
		}
		o.Window = time.Duration(window) * time.Second
		out = append(out, o)
	}
	return out, rows.Err()
}

// AgentLabels reads the labels of the current tenant's agents by agent name, which
// objectives' agent selectors match.
func AgentLabels(ctx context.Context, tx pgx.Tx) (map[string]map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT name, labels FROM agents WHERE tenant_id = sb_current_tenant()`)
	if err != nil {
		return nil, fmt.Errorf("reading agents' labels: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var name string
		var labels map[string]string
		if err := rows.Scan(&name, &labels); err != nil {
			return nil, err
		}
		out[name] = labels
	}
	return out, rows.Err()
}
