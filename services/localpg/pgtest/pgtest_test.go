package pgtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/switchboard-chat/switchboard/services/localpg"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	var names []string
	t.Run("sub/Test With Spaces", func(t *testing.T) {
		for range 2 {
			url := NewDatabase(t, cluster)
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			var name string
			err = conn.QueryRow(ctx, "SELECT current_database()").Scan(&name)
			conn.Close(ctx)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
	})
	if len(names) != 2 || names[0] == names[1] || !strings.HasPrefix(names[0], "t_testnewdatabase_sub_test_with_spaces_") {
		t.Fatalf("database names = %q", names)
	}
	// The subtest's cleanup dropped them.
	conn, err := pgx.Connect(ctx, cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = ANY($1)", names).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d test databases left after cleanup", left)
	}
}

func TestDatabaseName(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, tc := range []struct {
		in   string
		n    int64
		want string
	}{
		{"TestFoo", 1, "t_testfoo_1"},
		{"TestFoo/bar_baz-2", 12, "t_testfoo_bar_baz_2_12"},
		{long, 3, "t_" + strings.Repeat("x", 63-2-2) + "_3"},
	} {
		if got := databaseName(tc.in, tc.n); got != tc.want || len(got) > 63 {
			t.Errorf("databaseName(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
