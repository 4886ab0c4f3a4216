package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
)

var cluster *localpg.Cluster

// runAsCommandEnv makes the test binary run the switchboard command with its arguments
// instead of the tests. The crash drills start `switchboard serve` that way, as a child
// process they can SIGKILL: the real command, with nothing to build first.
const runAsCommandEnv = "SWITCHBOARD_TEST_RUN_COMMAND"

func TestMain(m *testing.M) {
	// Checked before anything starts: the child must not start a PostgreSQL of its own.
	if os.Getenv(runAsCommandEnv) != "" {
		main()
		os.Exit(0)
	}
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		code := m.Run()
		if built.dir != "" {
			os.RemoveAll(built.dir)
		}
		return code
	})
}

// built is the binary the tests run, built once for all of them.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// binary builds the real binary once and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "switchboard-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "switchboard")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("building: %v\n%s", built.err, built.out)
	}
	return built.path
}
