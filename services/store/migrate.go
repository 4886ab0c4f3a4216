package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key that serialises migrators of one database.
const migrationLock = 0x5377_6974_6368 // "Switch"

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q: name must start with a number and an underscore", e.Name())
		}
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// Migrate brings the database at url to the latest schema: it creates the application
// role if missing, applies each embedded migration not yet applied in its own
// transaction, and grants the application role what traffic needs. The connection must be
// the schema owner's. Concurrent migrators of one database wait for each other.
func Migrate(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to migrate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if err := ensureAppRole(ctx, conn); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return grantApp(ctx, conn)
}

func apply(ctx context.Context, conn *pgx.Conn, m migration) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var done bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", m.version).Scan(&done); err != nil {
			return fmt.Errorf("reading schema_migrations: %w", err)
		}
		if done {
			return nil
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("applying migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("recording migration %s: %w", m.name, err)
		}
		slog.Info("applied migration", "migration", m.name)
		return nil
	})
}

// ensureAppRole creates the application role once per cluster. Roles are cluster-wide, so
// migrators of two databases may race; the loser sees duplicate_object and goes on.
func ensureAppRole(ctx context.Context, conn *pgx.Conn) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", AppRole).Scan(&exists); err != nil {
		return fmt.Errorf("looking up role %s: %w", AppRole, err)
	}
	if !exists {
		_, err := conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{AppRole}.Sanitize()+" NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
		if err != nil && !hasCode(err, codeDuplicateObject) && !hasCode(err, codeUniqueViolation) {
			return fmt.Errorf("creating role %s: %w", AppRole, err)
		}
	}
	// The owner switches to the role with SET ROLE, which needs membership (superusers
	// have it anyway).
	var member bool
	if err := conn.QueryRow(ctx, "SELECT pg_has_role(current_user, $1, 'MEMBER')", AppRole).Scan(&member); err != nil {
		return fmt.Errorf("checking membership of %s: %w", AppRole, err)
	}
	if !member {
		if _, err := conn.Exec(ctx, "GRANT "+pgx.Identifier{AppRole}.Sanitize()+" TO CURRENT_USER"); err != nil {
			return fmt.Errorf("granting %s to the owner: %w", AppRole, err)
		}
	}
	return nil
}

// definerFunctions run as the owner; only the application role may call them.
const definerFunctions = "sb_tenant_by_widget_key(text), sb_tenant_by_name(text), sb_tenant_ids(), sb_visitor_token(uuid, uuid), sb_session(uuid, bytea), sb_unit_stats(), sb_tenant_names(), sb_tenant_by_console_host(text), sb_widget_origins(text)"

func grantApp(ctx context.Context, conn *pgx.Conn) error {
	role := pgx.Identifier{AppRole}.Sanitize()
	stmts := []string{
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role,
		"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO " + role,
		"REVOKE INSERT, UPDATE, DELETE ON tenants, schema_migrations FROM " + role,
		// Reached through tenant_conversation_search only (migration 0006).
		"REVOKE ALL ON conversation_search FROM " + role,
		"REVOKE ALL ON FUNCTION " + definerFunctions + " FROM PUBLIC",
		"GRANT EXECUTE ON FUNCTION " + definerFunctions + " TO " + role,
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("granting the application role (%s): %w", s, err)
		}
	}
	return nil
}
