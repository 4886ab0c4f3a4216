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

func TestMain(m *testing.M) {
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
