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

// Account roles.
const (
	RoleAgent      = "agent"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// TenantRef is what a lookup before the tenant is known may learn.
type TenantRef struct {
	ID        uuid.UUID
	Suspended bool
}

// TenantByWidgetKey finds the tenant of a public widget key.
func (db *DB) TenantByWidgetKey(ctx context.Context, key string) (*TenantRef, error) {
	return db.tenantBy(ctx, `SELECT tenant_id, suspended FROM sb_tenant_by_widget_key($1)`, key)
}

// TenantByName finds a tenant by its name.
func (db *DB) TenantByName(ctx context.Context, name string) (*TenantRef, error) {
	return db.tenantBy(ctx, `SELECT tenant_id, suspended FROM sb_tenant_by_name($1)`, name)
}

// TenantByConsoleHost names the tenant whose console answers on host, if any (suspended
// tenants' consoles answer nowhere).
func (db *DB) TenantByConsoleHost(ctx context.Context, host string) (string, error) {
	var name string
	err := db.Pool.QueryRow(ctx, `SELECT * FROM sb_tenant_by_console_host($1)`, host).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("looking up the tenant of console host %q: %w", host, err)
	}
	return name, nil
}

func (db *DB) tenantBy(ctx context.Context, query, arg string) (*TenantRef, error) {
	var t TenantRef
	err := db.Pool.QueryRow(ctx, query, arg).Scan(&t.ID, &t.Suspended)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("looking up tenant: %w", err)
	}
	return &t, nil
}

// TenantName reads the name of the transaction's tenant.
func TenantName(ctx context.Context, tx pgx.Tx) (string, error) {
	var name string
	err := tx.QueryRow(ctx, `SELECT name FROM tenants WHERE tenant_id = sb_current_tenant()`).Scan(&name)
	return name, err
}

// Account is a local account.
type Account struct {
	ID           uuid.UUID
	Username     string
	PasswordHash string
	DisplayName  string
	Role         string
	AgentID      uuid.NullUUID
	AgentName    string
}

const accountColumns = `ac.account_id, ac.username, ac.password_hash, ac.display_name, ac.role, ac.agent_id, coalesce(ag.name, '')`
const accountFrom = `accounts ac LEFT JOIN agents ag ON ag.tenant_id = ac.tenant_id AND ag.agent_id = ac.agent_id`

func scanAccount(row pgx.Row) (*Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Username, &a.PasswordHash, &a.DisplayName, &a.Role, &a.AgentID, &a.AgentName)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &a, err
}

// AccountByUsername reads an account of the transaction's tenant.
func AccountByUsername(ctx context.Context, tx pgx.Tx, username string) (*Account, error) {
	return scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM `+accountFrom+`
		WHERE ac.tenant_id = sb_current_tenant() AND ac.username = $1`, username))
}

// CreateSession stores the hash of a new bearer token.
func CreateSession(ctx context.Context, tx pgx.Tx, tenant, account uuid.UUID, tokenHash []byte, expires time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO sessions (tenant_id, token_hash, account_id, expires_at) VALUES ($1, $2, $3, $4)`,
		tenant, tokenHash, account, expires)
	if err != nil {
		return fmt.Errorf("storing session: %w", err)
	}
	return nil
}

// SessionAccount reads the account behind a live (unexpired, unrevoked) session, in one
// round trip (see sb_session).
func (db *DB) SessionAccount(ctx context.Context, tenant uuid.UUID, tokenHash []byte) (*Account, time.Time, error) {
	var expires time.Time
	var a Account
	err := db.Pool.QueryRow(ctx, `SELECT account_id, username, display_name, role, agent_id, agent_name, expires_at
		FROM sb_session($1, $2)`, pgtype.UUID{Bytes: tenant, Valid: true}, tokenHash,
	).Scan(&a.ID, &a.Username, &a.DisplayName, &a.Role, &a.AgentID, &a.AgentName, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, ErrNotFound
	}
	return &a, expires, err
}

// RevokeSession revokes a bearer token.
func RevokeSession(ctx context.Context, tx pgx.Tx, tokenHash []byte) error {
	_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE tenant_id = sb_current_tenant() AND token_hash = $1 AND revoked_at IS NULL`, tokenHash)
	return err
}
