package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// WidgetChannel is where a change of a tenant's widget origins (or the tenant's removal) is
// announced (see migration 0020); the payload is the tenant's id.
const WidgetChannel = "switchboard_widget"

// SetWidgetOrigins stores the origins whose pages may show a tenant's widget (Tenant
// spec.widget.allowedOrigins); none lets every site show it.
func SetWidgetOrigins(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, origins []string) error {
	if origins == nil {
		origins = []string{}
	}
	if _, err := tx.Exec(ctx, `UPDATE tenants SET widget_origins = $2 WHERE tenant_id = $1 AND widget_origins <> $2`, tenant, origins); err != nil {
		return fmt.Errorf("storing the widget's allowed origins: %w", err)
	}
	return nil
}

// WidgetOrigins finds the tenant of a public widget key and the origins whose pages may show
// its widget (none: every site); ErrNotFound for a key no tenant has.
func (db *DB) WidgetOrigins(ctx context.Context, key string) (uuid.UUID, []string, error) {
	var tenant uuid.UUID
	var origins []string
	err := db.Pool.QueryRow(ctx, `SELECT tenant_id, origins FROM sb_widget_origins($1)`, key).Scan(&tenant, &origins)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, nil, ErrNotFound
	}
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("looking up the widget's allowed origins: %w", err)
	}
	return tenant, origins, nil
}
