// Package pgtest gives a test binary one private PostgreSQL cluster (see
// package localpg) and a fresh database per test.
//
// Use it from TestMain:
//
//	var cluster *localpg.Cluster
//
//	func TestMain(m *testing.M) {
//		pgtest.Main(m, func(c *localpg.Cluster) int {
//			cluster = c
//			return m.Run()
//		})
//	}
//
// and in a test: url := pgtest.NewDatabase(t, cluster).
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/switchboard-chat/switchboard/services/localpg"
)

// Main starts a private cluster in a fresh temp folder, calls run with it
// (run nil means m.Run), then stops the cluster, removes the folder and
// exits the process with run's code. If the PostgreSQL binaries are missing
// or the cluster does not start, it prints why and exits 1: it never skips.
// An interrupt (SIGINT, SIGTERM) also stops the cluster before exiting.
func Main(m *testing.M, run func(c *localpg.Cluster) int) {
	if run == nil {
		run = func(*localpg.Cluster) int { return m.Run() }
	}
	if fuzzWorker() {
		// `go test -fuzz` runs its inputs in worker processes of the test binary, which
		// run the fuzz target alone: fuzz targets need no database, so none is started.
		os.Exit(run(nil))
	}
	os.Exit(mainCode(run))
}

// fuzzWorker reports whether this process is one of `go test -fuzz`'s workers.
func fuzzWorker() bool {
	for _, a := range os.Args[1:] {
		if a == "-test.fuzzworker" || strings.HasPrefix(a, "-test.fuzzworker=") {
			return true
		}
	}
	return false
}

func mainCode(run func(c *localpg.Cluster) int) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "pgtest: "+format+"\n", args...)
		return 1
	}
	if _, err := localpg.FindBinDir(); err != nil {
		return fail("these tests need a PostgreSQL server: %v", err)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return fail("creating a temp folder for the cluster: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	c, err := localpg.Start(ctx, localpg.Options{DataDir: dir})
	cancel()
	if err != nil {
		os.RemoveAll(dir)
		return fail("%v", err)
	}
	var once atomic.Bool
	cleanup := func() {
		if !once.CompareAndSwap(false, true) {
			return
		}
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
		os.RemoveAll(dir)
	}
	defer cleanup()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			cleanup()
			os.Exit(1)
		}
	}()
	return run(c)
}

var dbCounter atomic.Int64

// NewDatabase creates a fresh, uniquely named database on c for the test
// ("t_" + the sanitized test name + a counter), returns its URL, and drops
// it (WITH (FORCE)) when the test ends.
func NewDatabase(t testing.TB, c *localpg.Cluster) string {
	t.Helper()
	name := databaseName(t.Name(), dbCounter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err != nil {
			t.Errorf("pgtest: dropping database %q: connecting: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping database %q: %v", name, err)
		}
	})
	return c.URL(name)
}

// databaseName builds "t_<test name>_<n>" from lower-case letters, digits
// and underscores, within PostgreSQL's 63-byte identifier limit.
func databaseName(testName string, n int64) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if s := b.String(); s != "" && !strings.HasSuffix(s, "_") {
			b.WriteByte('_')
		}
	}
	suffix := fmt.Sprintf("_%d", n)
	base := strings.TrimSuffix(b.String(), "_")
	if max := 63 - len("t_") - len(suffix); len(base) > max {
		base = strings.TrimSuffix(base[:max], "_")
	}
	return "t_" + base + suffix
}
