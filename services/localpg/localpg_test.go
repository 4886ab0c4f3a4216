package localpg

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// tempDataDir returns a fresh folder directly under os.TempDir(), removed
// when the test ends. (t.TempDir() sits inside a 0700 folder that the
// postgres user cannot enter when the tests run as root.)
func tempDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "localpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startCluster(t *testing.T, ctx context.Context, dir string) *Cluster {
	t.Helper()
	c, err := Start(ctx, Options{DataDir: dir, Logf: t.Logf})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func connect(t *testing.T, ctx context.Context, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connecting to %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestCluster covers one cluster's life: connect, create databases, stop,
// start again on the same data dir and find the data, stop twice.
func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := tempDataDir(t)

	c := startCluster(t, ctx, dir)
	if c.Port() == 0 {
		t.Fatal("Port() = 0")
	}
	want := fmt.Sprintf("postgres://switchboard@127.0.0.1:%d/app?sslmode=disable", c.Port())
	if got := c.URL("app"); got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}

	conn := connect(t, ctx, c.URL("postgres"))
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	var fsync string
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "on" {
		t.Errorf("fsync = %q, %v; want on", fsync, err)
	}
	var maxConns string
	if err := conn.QueryRow(ctx, "SHOW max_connections").Scan(&maxConns); err != nil || maxConns != "300" {
		t.Errorf("max_connections = %q, %v; want 300", maxConns, err)
	}
	conn.Close(ctx)

	// CreateDatabase twice is fine; a name that needs quoting works.
	for _, name := range []string{"app", "app", `Odd "name"`} {
		if err := c.CreateDatabase(ctx, name); err != nil {
			t.Fatalf("CreateDatabase(%q): %v", name, err)
		}
	}

	app := connect(t, ctx, c.URL("app"))
	if _, err := app.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')"); err != nil {
		t.Fatal(err)
	}
	app.Close(ctx)

	// A second Start on a running data dir is refused clearly.
	if c2, err := Start(ctx, Options{DataDir: dir}); err == nil {
		c2.Stop()
		t.Fatal("second Start on a running data dir succeeded")
	} else if !strings.Contains(err.Error(), "still running") {
		t.Errorf("second Start error = %v, want one saying a server is still running", err)
	}

	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	// Pretend an earlier run was killed: leave a stale postmaster.pid.
	stale := fmt.Sprintf("%d\n%s\n", 1<<22+12345, dir)
	pidFile := filepath.Join(dir, "postmaster.pid")
	if err := os.WriteFile(pidFile, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	} else if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		// As postgres left it: owned by the data dir's owner.
		if err := os.Chown(pidFile, int(sys.Uid), int(sys.Gid)); err != nil {
			t.Fatal(err)
		}
	}

	c = startCluster(t, ctx, dir)
	app = connect(t, ctx, c.URL("app"))
	var v string
	if err := app.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "hello" {
		t.Fatalf("after restart: SELECT v FROM kept = %q, %v; want hello", v, err)
	}
	app.Close(ctx)
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// TestKillAndRestart crashes a server mid-work and brings it back: what was committed
// before the kill is there after recovery on the same port, what was not is gone, and
// nothing answers in between.
func TestKillAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startCluster(t, ctx, tempDataDir(t))
	port := c.Port()
	conn := connect(t, ctx, c.URL("postgres"))
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('committed')"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO kept VALUES ('in flight')"); err != nil {
		t.Fatal(err)
	}

	if err := c.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("a transaction committed on a killed server")
	}
	if other, err := pgx.Connect(ctx, c.URL("postgres")); err == nil {
		other.Close(ctx)
		t.Fatal("a killed server accepted a connection")
	}
	if err := c.Kill(); err != nil {
		t.Fatalf("second Kill: %v", err)
	}

	if err := c.Restart(ctx); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if c.Port() != port {
		t.Errorf("restarted on port %d, was %d", c.Port(), port)
	}
	if err := c.Restart(ctx); err != nil {
		t.Fatalf("Restart of a running server: %v", err)
	}
	again := connect(t, ctx, c.URL("postgres"))
	var got []string
	rows, err := again.Query(ctx, "SELECT v FROM kept ORDER BY v")
	if err == nil {
		got, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || strings.Join(got, ",") != "committed" {
		t.Fatalf("after the crash and recovery kept holds %q (%v); want only the committed row", got, err)
	}
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Start(ctx, Options{}); err == nil || !strings.Contains(err.Error(), "DataDir is required") {
		t.Errorf("Start without DataDir: %v", err)
	}
	if os.Geteuid() != 0 {
		return
	}
	// As root, a data dir inside a folder the postgres user cannot enter
	// is refused with an error naming that folder.
	closed := tempDataDir(t) // 0700, owned by root
	_, err := Start(ctx, Options{DataDir: filepath.Join(closed, "sub", "data")})
	if err == nil || !strings.Contains(err.Error(), closed) || !strings.Contains(err.Error(), "cannot be traversed") {
		t.Errorf("Start under a closed folder: %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(closed, "sub")); statErr == nil {
		t.Errorf("Start created folders before refusing")
	}
}

func TestFindBinDir(t *testing.T) {
	dir, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
