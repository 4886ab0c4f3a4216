package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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

// Listen calls notified with the payload of every notification on channel until ctx ends,
// on a connection of its own taken from the pool. listening is called each time it starts
// listening, the first time and after every reconnection, when notifications may have been
// missed.
func (db *DB) Listen(ctx context.Context, channel string, listening func(), notified func(payload string)) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		listened, err := db.listenOnce(ctx, channel, listening, notified)
		if ctx.Err() != nil {
			return
		}
		if listened {
			wait = 100 * time.Millisecond
		}
		slog.Warn("notification listener lost, reconnecting", "channel", channel, "err", err, "wait", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, listening func(), notified func(payload string)) (bool, error) {
	pc, err := db.Pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		notified(n.Payload)
	}
}
