package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The configuration writes below run as the schema owner (the operator, `switchboard dev`,
// tests' setup), not as the application role: they create tenants, which traffic never does.

// TenantConfig is a tenant's configuration row.
type TenantConfig struct {
	Name        string
	DisplayName string
	Suspended   bool
	// ConsoleHost is the host name the tenant's console answers on; empty for none.
	ConsoleHost string
}

// UpsertTenant creates or updates a tenant and returns its id and widget key; the widget
// key is made once and kept.
func UpsertTenant(ctx context.Context, tx pgx.Tx, t TenantConfig) (uuid.UUID, string, error) {
	key, err := newWidgetKey()
	if err != nil {
		return uuid.Nil, "", err
	}
	var id uuid.UUID
	var widgetKey string
	err = tx.QueryRow(ctx, `INSERT INTO tenants (tenant_id, name, display_name, widget_key, suspended, console_host)
		VALUES (gen_random_uuid(), $1, $2, $3, $4, nullif(lower($5), ''))
		ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, suspended = excluded.suspended,
			console_host = excluded.console_host
		RETURNING tenant_id, widget_key`, t.Name, t.DisplayName, key, t.Suspended, t.ConsoleHost).Scan(&id, &widgetKey)
	if hasCode(err, codeUniqueViolation) {
		return uuid.Nil, "", fmt.Errorf("storing tenant %q: console host %q is already another tenant's", t.Name, t.ConsoleHost)
	}
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("storing tenant %q: %w", t.Name, err)
	}
	return id, widgetKey, nil
}

func newWidgetKey() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "wk_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// DeleteTenant removes a tenant and, through the foreign keys, all of its data.
func DeleteTenant(ctx context.Context, tx pgx.Tx, name string) error {
	_, err := tx.Exec(ctx, `DELETE FROM tenants WHERE name = $1`, name)
	return err
}

// UnitConfig is a business unit's configuration row.
type UnitConfig struct {
	Name                   string
	DisplayName            string
	AcceptsOfflineMessages bool
	InactivitySeconds      int
	// Hours are the opening hours; nil means always open.
	Hours *BusinessHours
}

// UpsertUnit creates or updates a business unit of a tenant.
func UpsertUnit(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, u UnitConfig) (uuid.UUID, error) {
	if u.InactivitySeconds == 0 {
		u.InactivitySeconds = 300
	}
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO business_units (tenant_id, name, display_name, accepts_offline_messages, inactivity_seconds, business_hours)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, name) DO UPDATE SET display_name = excluded.display_name,
		  accepts_offline_messages = excluded.accepts_offline_messages, inactivity_seconds = excluded.inactivity_seconds,
		  business_hours = excluded.business_hours
		RETURNING unit_id`, tenant, u.Name, u.DisplayName, u.AcceptsOfflineMessages, u.InactivitySeconds, u.Hours).Scan(&id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("storing business unit %q: %w", u.Name, err)
	}
	return id, nil
}

// AgentConfig is an agent's capacity and units.
type AgentConfig struct {
	Name          string
	DisplayName   string
	Capacity      int
	BusinessUnits []string
	// Labels are the AgentCapacity's labels, which objectives' agent selectors match.
	Labels map[string]string
}

// ErrUnknownUnit is returned when an agent names a unit the tenant does not have.
var ErrUnknownUnit = errors.New("unknown business unit")

// UpsertAgent creates or updates an agent and sets its units to exactly those named.
func UpsertAgent(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, a AgentConfig) (uuid.UUID, error) {
	var id uuid.UUID
	labels := a.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	err := tx.QueryRow(ctx, `INSERT INTO agents (tenant_id, name, display_name, capacity, labels) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, name) DO UPDATE SET display_name = excluded.display_name, capacity = excluded.capacity, labels = excluded.labels
		RETURNING agent_id`, tenant, a.Name, a.DisplayName, a.Capacity, labels).Scan(&id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("storing agent %q: %w", a.Name, err)
	}
	var found []string
	rows, err := tx.Query(ctx, `SELECT name FROM business_units WHERE tenant_id = $1 AND name = ANY($2)`, tenant, a.BusinessUnits)
	if err != nil {
		return uuid.Nil, err
	}
	if found, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return uuid.Nil, err
	}
	if len(found) != len(uniq(a.BusinessUnits)) {
		return uuid.Nil, fmt.Errorf("agent %q names business units %v, the tenant has only %v of them: %w", a.Name, a.BusinessUnits, found, ErrUnknownUnit)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM agent_units au USING business_units u
		WHERE au.tenant_id = $1 AND au.agent_id = $2 AND u.tenant_id = au.tenant_id AND u.unit_id = au.unit_id AND u.name <> ALL($3)`,
		tenant, id, a.BusinessUnits); err != nil {
		return uuid.Nil, fmt.Errorf("updating units of agent %q: %w", a.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO agent_units (tenant_id, unit_id, agent_id)
		SELECT $1, unit_id, $2 FROM business_units WHERE tenant_id = $1 AND name = ANY($3)
		ON CONFLICT DO NOTHING`, tenant, id, a.BusinessUnits); err != nil {
		return uuid.Nil, fmt.Errorf("updating units of agent %q: %w", a.Name, err)
	}
	return id, nil
}

func uniq(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// AccountConfig is a local account to create.
type AccountConfig struct {
	Username     string
	PasswordHash string
	DisplayName  string
	Role         string
	// AgentName links an agent account to its agent.
	AgentName string
}

// UpsertAccount creates an account, or updates its name, role and agent; an existing
// account keeps its password unless keepPassword is false.
func UpsertAccount(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, a AccountConfig, keepPassword bool) error {
	_, err := tx.Exec(ctx, `INSERT INTO accounts (tenant_id, username, password_hash, display_name, role, agent_id)
		VALUES ($1, $2, $3, $4, $5, (SELECT agent_id FROM agents WHERE tenant_id = $1 AND name = nullif($6, '')))
		ON CONFLICT (tenant_id, username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role,
		  agent_id = excluded.agent_id,
		  password_hash = CASE WHEN $7 THEN accounts.password_hash ELSE excluded.password_hash END`,
		tenant, a.Username, a.PasswordHash, a.DisplayName, a.Role, a.AgentName, keepPassword)
	if err != nil {
		return fmt.Errorf("storing account %q: %w", a.Username, err)
	}
	return nil
}

// SMTPConfig is a tenant's outgoing mail relay.
type SMTPConfig struct {
	Host     string
	Port     int
	From     string
	Username string
	Password string
}

// SetSMTP stores a tenant's relay, or removes it when c is nil.
func SetSMTP(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, c *SMTPConfig) error {
	if c == nil {
		_, err := tx.Exec(ctx, `DELETE FROM tenant_smtp WHERE tenant_id = $1`, tenant)
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO tenant_smtp (tenant_id, host, port, from_address, username, password) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id) DO UPDATE SET host = excluded.host, port = excluded.port, from_address = excluded.from_address,
		  username = excluded.username, password = excluded.password`, tenant, c.Host, c.Port, c.From, c.Username, c.Password)
	if err != nil {
		return fmt.Errorf("storing the mail relay: %w", err)
	}
	return nil
}

// GetSMTP reads the transaction's tenant's relay; ErrNotFound when none is configured.
func GetSMTP(ctx context.Context, tx pgx.Tx) (*SMTPConfig, error) {
	var c SMTPConfig
	err := tx.QueryRow(ctx, `SELECT host, port, from_address, username, password FROM tenant_smtp WHERE tenant_id = sb_current_tenant()`).
		Scan(&c.Host, &c.Port, &c.From, &c.Username, &c.Password)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &c, err
}
