package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// APIKey is an API key of a tenant's backend, without its secret.
type APIKey struct {
	ID         uuid.UUID
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// ErrAPIKeyExists is returned when a live key already has the name.
var ErrAPIKeyExists = errors.New("an API key with this name exists")

// CreateAPIKey stores the hash of a new key of the tenant under name.
func CreateAPIKey(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, name string, secretHash []byte) (*APIKey, error) {
	k := &APIKey{Name: name}
	err := tx.QueryRow(ctx, `INSERT INTO api_keys (tenant_id, name, secret_hash) VALUES ($1, $2, $3)
		RETURNING key_id, created_at`, tenant, name, secretHash).Scan(&k.ID, &k.CreatedAt)
	if hasCode(err, codeUniqueViolation) {
		return nil, ErrAPIKeyExists
	}
	if err != nil {
		return nil, fmt.Errorf("storing API key %q: %w", name, err)
	}
	return k, nil
}

// ReplaceAPIKey revokes the tenant's live key named name, if any, and stores a new one in
// its place. The operator and `switchboard dev` use it for the key they hand out.
func ReplaceAPIKey(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, name string, secretHash []byte) (*APIKey, error) {
	if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND name = $2 AND revoked_at IS NULL`, tenant, name); err != nil {
		return nil, fmt.Errorf("revoking API key %q: %w", name, err)
	}
	return CreateAPIKey(ctx, tx, tenant, name, secretHash)
}

// APIKeyLive reports whether the tenant has a live key with this secret hash.
func APIKeyLive(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, secretHash []byte) (bool, error) {
	var live bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = $1 AND secret_hash = $2 AND revoked_at IS NULL)`,
		tenant, secretHash).Scan(&live)
	return live, err
}

// ListAPIKeys lists the transaction tenant's live keys by name.
func ListAPIKeys(ctx context.Context, tx pgx.Tx) ([]*APIKey, error) {
	rows, err := tx.Query(ctx, `SELECT key_id, name, created_at, last_used_at FROM api_keys
		WHERE tenant_id = sb_current_tenant() AND revoked_at IS NULL ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing API keys: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*APIKey, error) {
		k := &APIKey{}
		return k, row.Scan(&k.ID, &k.Name, &k.CreatedAt, &k.LastUsedAt)
	})
}

// RevokeAPIKey revokes the transaction tenant's live key named name and returns its id;
// ErrNotFound when there is none.
func RevokeAPIKey(ctx context.Context, tx pgx.Tx, name string) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `UPDATE api_keys SET revoked_at = now()
		WHERE tenant_id = sb_current_tenant() AND name = $1 AND revoked_at IS NULL RETURNING key_id`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, ErrNotFound
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("revoking API key %q: %w", name, err)
	}
	return id, nil
}

// APIKeyBySecret finds the live key with this secret hash in one round trip (see
// sb_api_key), noting its use at most once a minute.
func (db *DB) APIKeyBySecret(ctx context.Context, tenant uuid.UUID, secretHash []byte) (id uuid.UUID, name string, err error) {
	err = db.Pool.QueryRow(ctx, `SELECT key_id, name FROM sb_api_key($1, $2)`,
		pgtype.UUID{Bytes: tenant, Valid: true}, secretHash).Scan(&id, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, "", ErrNotFound
	}
	return id, name, err
}
