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

// StaffSession is a signed-in staff account's session, without its token.
type StaffSession struct {
	ID        uuid.UUID
	CreatedAt time.Time
	// LastUsedAt is noted at most once a minute; nil until the first call after sign-in.
	LastUsedAt *time.Time
	ExpiresAt  time.Time
	// UserAgent is the client that signed in, as it named itself.
	UserAgent string
}

// CreateSession stores the hash of a new bearer token, with the client that asked for it.
func CreateSession(ctx context.Context, tx pgx.Tx, tenant, account uuid.UUID, tokenHash []byte, expires time.Time, userAgent string) error {
	_, err := tx.Exec(ctx, `INSERT INTO sessions (tenant_id, token_hash, account_id, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5)`,
		tenant, tokenHash, account, expires, userAgent)
	if err != nil {
		return fmt.Errorf("storing session: %w", err)
	}
	return nil
}

// SessionAccount reads the account behind a live (unexpired, unrevoked) session, the
// session's id and its expiry, in one round trip (see sb_session).
func (db *DB) SessionAccount(ctx context.Context, tenant uuid.UUID, tokenHash []byte) (*Account, uuid.UUID, time.Time, error) {
	var session uuid.UUID
	var expires time.Time
	var a Account
	err := db.Pool.QueryRow(ctx, `SELECT session_id, account_id, username, display_name, role, agent_id, agent_name, expires_at
		FROM sb_session($1, $2)`, pgtype.UUID{Bytes: tenant, Valid: true}, tokenHash,
	).Scan(&session, &a.ID, &a.Username, &a.DisplayName, &a.Role, &a.AgentID, &a.AgentName, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, uuid.Nil, time.Time{}, ErrNotFound
	}
	return &a, session, expires, err
}

// RevokeSession revokes a bearer token.
func RevokeSession(ctx context.Context, tx pgx.Tx, tokenHash []byte) error {
	_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now() WHERE tenant_id = sb_current_tenant() AND token_hash = $1 AND revoked_at IS NULL`, tokenHash)
	return err
}

// ForgetEndedSessions deletes the sessions of every tenant that ended (expired or were
// revoked) more than a month ago, and returns how many (see sb_forget_sessions).
func (db *DB) ForgetEndedSessions(ctx context.Context) (int64, error) {
	var n int64
	if err := db.Pool.QueryRow(ctx, `SELECT sb_forget_sessions()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("deleting ended sessions: %w", err)
	}
	return n, nil
}

// ListStaffSessions lists an account's live sessions, newest first.
func ListStaffSessions(ctx context.Context, tx pgx.Tx, account uuid.UUID) ([]*StaffSession, error) {
	rows, err := tx.Query(ctx, `SELECT session_id, created_at, last_used_at, expires_at, user_agent FROM sessions
		WHERE tenant_id = sb_current_tenant() AND account_id = $1 AND revoked_at IS NULL AND expires_at > now()
		ORDER BY created_at DESC, session_id`, account)
	if err != nil {
		return nil, fmt.Errorf("listing sessions: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*StaffSession, error) {
		s := &StaffSession{}
		return s, row.Scan(&s.ID, &s.CreatedAt, &s.LastUsedAt, &s.ExpiresAt, &s.UserAgent)
	})
}

// ErrSessionNotFound names a session that is not a live session of the account.
type ErrSessionNotFound struct{ ID uuid.UUID }

func (e ErrSessionNotFound) Error() string { return fmt.Sprintf("session %s not found", e.ID) }

// Is makes errors.Is(err, ErrNotFound) hold.
func (e ErrSessionNotFound) Is(target error) bool { return target == ErrNotFound }

// RevokeStaffSessions revokes the named live sessions of an account, or all of them when ids
// is empty, and returns how many it revoked. A named session that is not a live session
// of the account is an ErrSessionNotFound, and then nothing is revoked once the
// transaction rolls back.
func RevokeStaffSessions(ctx context.Context, tx pgx.Tx, account uuid.UUID, ids []uuid.UUID) (int, error) {
	rows, err := tx.Query(ctx, `UPDATE sessions SET revoked_at = now()
		WHERE tenant_id = sb_current_tenant() AND account_id = $1 AND revoked_at IS NULL AND expires_at > now()
		  AND (cardinality($2::uuid[]) = 0 OR session_id = ANY($2))
		RETURNING session_id`, account, ids)
	if err != nil {
		return 0, fmt.Errorf("revoking sessions: %w", err)
	}
	revoked, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("revoking sessions: %w", err)
	}
	done := map[uuid.UUID]bool{}
	for _, id := range revoked {
		done[id] = true
	}
	for _, id := range ids {
		if !done[id] {
			return 0, ErrSessionNotFound{ID: id}
		}
	}
	return len(revoked), nil
}
