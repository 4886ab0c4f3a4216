package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SetTenantLimits records the rate limits a tenant sets for itself (Tenant spec.limits, as
// its JSON object; nil for none). Replicas hear of a change on ConfigChannel.
func SetTenantLimits(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, limits json.RawMessage) error {
	if len(limits) == 0 || string(limits) == "null" {
		limits = json.RawMessage(`{}`)
	}
	if _, err := tx.Exec(ctx, `UPDATE tenants SET limits = $2 WHERE tenant_id = $1 AND limits IS DISTINCT FROM $2::jsonb`, tenant, string(limits)); err != nil {
		return fmt.Errorf("storing the tenant's limits: %w", err)
	}
	return nil
}

// TenantLimits are a tenant's own rate limits.
type TenantLimits struct {
	Tenant uuid.UUID
	Name   string
	// Limits is the JSON object of Tenant spec.limits.
	Limits json.RawMessage
}

// AllTenantLimits reads every tenant's own limits (see sb_tenant_limits).
func (db *DB) AllTenantLimits(ctx context.Context) ([]TenantLimits, error) {
	rows, err := db.Pool.Query(ctx, `SELECT tenant_id, name, limits FROM sb_tenant_limits()`)
	if err != nil {
		return nil, fmt.Errorf("reading the tenants' limits: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (TenantLimits, error) {
		var t TenantLimits
		return t, row.Scan(&t.Tenant, &t.Name, &t.Limits)
	})
}
