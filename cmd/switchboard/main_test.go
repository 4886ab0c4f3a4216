package main

import (
	"os"
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
		return m.Run()
	})
}
