// Package store is Switchboard's PostgreSQL storage: the connection pool, the embedded
// migrations, and the queries of each repository type. PostgreSQL is the source of truth:
// a write is acknowledged only after its transaction commits.
//
// Every query that touches tenant data runs in a tenant-scoped transaction (InTenant), and
// row-level security enforces the scope again underneath for the application role.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AppRole is the role traffic runs as. It owns no table, so row-level security always
// applies to it.
const AppRole = "switchboard_app"

// SQLSTATE codes the store reacts to.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeDuplicateObject      = "42710"
	codeDuplicateDatabase    = "42P04"
)

// PoolOptions bounds a connection pool.
type PoolOptions struct {
	// MaxConns caps open connections; 0 means 32.
	MaxConns int32
	// MinConns keeps this many connections open; 0 means 2.
	MinConns int32
	// AsApp switches each connection to AppRole, so row-level security applies.
	AsApp bool
	// ConnectTimeout bounds the backoff ping at start; 0 means 30s.
	ConnectTimeout time.Duration
}

// Open builds a pool from a database URL with explicit limits and waits, with backoff,
// until PostgreSQL answers.
func Open(ctx context.Context, url string, o PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing database URL: %w", err)
	}
	cfg.MaxConns = orDefault(o.MaxConns, 32)
	cfg.MinConns = orDefault(o.MinConns, 2)
	cfg.MaxConnLifetime = time.Hour
	cfg.MaxConnIdleTime = 10 * time.Minute
	cfg.HealthCheckPeriod = 15 * time.Second
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "switchboard"
	if o.AsApp {
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "SET ROLE "+pgx.Identifier{AppRole}.Sanitize())
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating pool: %w", err)
	}
	timeout := o.ConnectTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if err := pingWithBackoff(ctx, pool, timeout); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func orDefault(v, d int32) int32 {
	if v == 0 {
		return d
	}
	return v
}

func pingWithBackoff(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	wait := 100 * time.Millisecond
	for {
		err := pool.Ping(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("database not reachable after %s: %w", timeout, err)
		}
		slog.Warn("database not reachable yet, retrying", "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 3*time.Second)
	}
}

// DB is the storage of the chat services: a pool of application-role connections.
type DB struct {
	Pool  *pgxpool.Pool
	batch atomic.Pointer[batcher]
	// inTenant holds, by tenant, one token for each of its transactions in InTenant.
	inTenantMu sync.Mutex
	inTenant   map[uuid.UUID]chan struct{}
}

// A tenant's transactions in InTenant hold at most half the pool's connections at once
// (a bulkhead): a tenant whose calls pile up, a flood within its limits or a slow search,
// then waits behind its own transactions, and the other half stays for every other
// tenant.
func (db *DB) tenantSlots(tenant uuid.UUID) chan struct{} {
	db.inTenantMu.Lock()
	defer db.inTenantMu.Unlock()
	slots := db.inTenant[tenant]
	if slots == nil {
		if db.inTenant == nil {
			db.inTenant = map[uuid.UUID]chan struct{}{}
		}
		slots = make(chan struct{}, max(1, db.Pool.Stat().MaxConns()/2))
		db.inTenant[tenant] = slots
	}
	return slots
}

// InTenant runs fn in one transaction scoped to tenant: row-level security shows fn the
// tenant's rows and no others. It waits while the tenant holds half the pool. A
// transaction that hit a deadlock or a serialization failure is retried a few times; fn
// must be safe to run again.
func (db *DB) InTenant(ctx context.Context, tenant uuid.UUID, fn func(pgx.Tx) error) error {
	slots := db.tenantSlots(tenant)
	select {
	case slots <- struct{}{}:
		defer func() { <-slots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT set_config('switchboard.tenant_id', $1, true)", tenant.String()); err != nil {
				return fmt.Errorf("scoping transaction to tenant: %w", err)
			}
			return fn(tx)
		})
		if !retryable(err) {
			return err
		}
	}
	return err
}

func retryable(err error) bool {
	return hasCode(err, codeDeadlockDetected) || hasCode(err, codeSerializationFailure)
}

func hasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// ErrNotFound is returned when a row the caller named does not exist in its tenant.
var ErrNotFound = errors.New("not found")
