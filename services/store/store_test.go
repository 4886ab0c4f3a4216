package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/store"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

// seed makes two tenants with one unit, agent, visitor and conversation each, as the owner.
func seed(t *testing.T, url string) (a, b uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ids := map[string]uuid.UUID{}
	for _, name := range []string{"alpha", "beta"} {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			id, _, err := store.UpsertTenant(ctx, tx, store.TenantConfig{Name: name})
			if err != nil {
				return err
			}
			ids[name] = id
			unit, err := store.UpsertUnit(ctx, tx, id, store.UnitConfig{Name: "sales"})
			if err != nil {
				return err
			}
			if _, err := store.UpsertAgent(ctx, tx, id, store.AgentConfig{Name: "agent-" + name, Capacity: 3, BusinessUnits: []string{"sales"}}); err != nil {
				return err
			}
			var visitor uuid.UUID
			if err := tx.QueryRow(ctx, `INSERT INTO visitors (tenant_id, name) VALUES ($1, $2) RETURNING visitor_id`, id, "visitor of "+name).Scan(&visitor); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO conversations (tenant_id, unit_id, visitor_id, state, visitor_token_hash) VALUES ($1, $2, $3, 'queued', '\x00')`, id, unit, visitor)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids["alpha"], ids["beta"]
}

var tenantTables = []string{"tenants", "business_units", "agents", "agent_units", "visitors", "conversations"}

func count(t *testing.T, tx pgx.Tx, table string) int {
	t.Helper()
	var n int
	if err := tx.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

func TestRowLevelSecurity(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	alpha, beta := seed(t, url)
	pool, err := store.Open(ctx, url, store.PoolOptions{MaxConns: 4, AsApp: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &store.DB{Pool: pool}

	t.Run("the application role owns no table and cannot bypass row-level security", func(t *testing.T) {
		var owned int
		var bypass, super bool
		err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_tables WHERE tableowner = current_user),
			rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&owned, &bypass, &super)
		if err != nil {
			t.Fatal(err)
		}
		if owned != 0 || bypass || super {
			t.Fatalf("application role owns %d tables, bypassrls=%v, superuser=%v", owned, bypass, super)
		}
	})

	t.Run("a session without a tenant sees no rows", func(t *testing.T) {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for _, table := range tenantTables {
				if n := count(t, tx, table); n != 0 {
					t.Errorf("%s: %d rows visible without a tenant", table, n)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a session of tenant A sees only A's rows", func(t *testing.T) {
		for _, tenant := range []uuid.UUID{alpha, beta} {
			err := db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
				for _, table := range tenantTables {
					if n := count(t, tx, table); n != 1 {
						t.Errorf("%s: %d rows visible to one tenant, want its own 1", table, n)
					}
				}
				var other int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE tenant_id <> $1`, tenant).Scan(&other); err != nil {
					return err
				}
				if other != 0 {
					t.Errorf("tenant sees %d conversations of another tenant", other)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("a session of tenant A cannot write rows of tenant B", func(t *testing.T) {
		err := db.InTenant(ctx, alpha, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO visitors (tenant_id, name) VALUES ($1, 'intruder')`, beta)
			return err
		})
		if err == nil {
			t.Fatal("inserting a row of another tenant succeeded")
		}
		err = db.InTenant(ctx, alpha, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `UPDATE visitors SET name = 'renamed' WHERE tenant_id = $1`, beta)
			if err == nil && tag.RowsAffected() != 0 {
				t.Errorf("updated %d rows of another tenant", tag.RowsAffected())
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		conn, _ := pgx.Connect(ctx, url)
		defer conn.Close(ctx)
		rows, _ := conn.Query(ctx, `SELECT name FROM visitors WHERE tenant_id = $1`, beta)
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(names) != 1 || names[0] != "visitor of beta" {
			t.Fatalf("tenant B's visitors after the attempts: %v, %v", names, err)
		}
	})

	t.Run("every table with tenant rows is behind row-level security or a tenant view", func(t *testing.T) {
		var open []string
		rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
			WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND NOT c.relrowsecurity
			  AND has_table_privilege(current_user, c.oid, 'SELECT')`)
		if err == nil {
			open, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil || len(open) != 0 {
			t.Fatalf("tables the application role reads without row-level security: %v, %v", open, err)
		}
	})

	t.Run("search documents are reached through the tenant's view only", func(t *testing.T) {
		owner, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer owner.Close(ctx)
		if _, err := owner.Exec(ctx, `INSERT INTO conversation_search (tenant_id, conversation_id, document)
			SELECT tenant_id, conversation_id, to_tsvector('simple', 'secret words') FROM conversations`); err != nil {
			t.Fatal(err)
		}
		err = db.InTenant(ctx, alpha, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT count(*) FROM conversation_search`)
			return err
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Fatalf("the application role reading the search table directly: %v; want insufficient privilege", err)
		}
		err = db.InTenant(ctx, alpha, func(tx pgx.Tx) error {
			if n := count(t, tx, "tenant_conversation_search"); n != 1 {
				t.Errorf("tenant A's view shows %d documents; want its own 1", n)
			}
			var found int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM tenant_conversation_search WHERE document @@ plainto_tsquery('simple', 'secret')`).Scan(&found); err != nil {
				return err
			}
			if found != 1 {
				t.Errorf("a text search in tenant A found %d documents; want its own 1", found)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.InTenant(ctx, alpha, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO tenant_conversation_search (tenant_id, conversation_id)
				SELECT $1, gen_random_uuid()`, beta)
			return err
		})
		if !errors.As(err, &pgErr) || pgErr.Code != "44000" {
			t.Fatalf("tenant A writing a search document of tenant B: %v; want a check option violation", err)
		}
	})

	t.Run("the application role cannot create or change tenants", func(t *testing.T) {
		err := db.InTenant(ctx, alpha, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE tenants SET suspended = true`)
			return err
		})
		if err == nil {
			t.Fatal("the application role changed a tenant row")
		}
	})
}

// TestTextSearchUsesItsIndex checks that a rare word is found through the GIN index by
// the application role, whose queries run under row-level security.
func TestTextSearchUsesItsIndex(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	alpha, _ := seed(t, url)
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	for _, stmt := range []string{
		`INSERT INTO conversations (tenant_id, unit_id, visitor_id, state, visitor_token_hash)
		SELECT tenant_id, unit_id, visitor_id, 'closed', '\x00' FROM conversations, generate_series(1, 20000) WHERE tenant_id = '` + alpha.String() + `'`,
		`INSERT INTO conversation_search (tenant_id, conversation_id, document)
		SELECT tenant_id, conversation_id, to_tsvector('simple', 'my order did not arrive, where is my delivery') FROM conversations`,
		`UPDATE conversation_search SET document = to_tsvector('simple', 'a chargeback')
		WHERE conversation_id = (SELECT conversation_id FROM conversation_search LIMIT 1)`,
		`ANALYZE conversations`, `VACUUM ANALYZE conversation_search`,
	} {
		if _, err := owner.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := store.Open(ctx, url, store.PoolOptions{MaxConns: 2, AsApp: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	err = (&store.DB{Pool: pool}).InTenant(ctx, alpha, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `EXPLAIN SELECT c.conversation_id FROM conversations c
			JOIN tenant_conversation_search s ON s.conversation_id = c.conversation_id
			WHERE c.tenant_id = sb_current_tenant() AND s.document @@ plainto_tsquery('simple', 'chargeback')`)
		if err != nil {
			return err
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if !strings.Contains(strings.Join(plan, "\n"), "conversation_search_document") {
			t.Errorf("a rare word searched by the application role does not use the GIN index:\n%s", strings.Join(plan, "\n"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, cluster)
	for i := 0; i < 2; i++ {
		if err := store.Migrate(ctx, url); err != nil {
			t.Fatalf("migration run %d: %v", i+1, err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no migration recorded")
	}
}
