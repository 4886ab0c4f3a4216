package localpg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestManualKill(t *testing.T) {
	ctx := context.Background()
	root := "/tmp/zzlocalpg-created-parent"
	os.RemoveAll(root)
	defer os.RemoveAll(root)
	dir := filepath.Join(root, strings.Repeat("long-segment-", 8), "data")
	c, err := Start(ctx, Options{DataDir: dir, Logf: t.Logf, Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("ls", "-la", root, c.sockDir).CombinedOutput()
	t.Logf("%s", out)
	b, _ := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	exec.Command("kill", "-9", strconv.Itoa(pid)).Run()
	time.Sleep(300 * time.Millisecond)
	out, _ = exec.Command("sh", "-c", "ps -ef | grep [p]ostgres").CombinedOutput()
	t.Logf("after kill:\n%s", out)
	c2, err := Start(ctx, Options{DataDir: dir, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.CreateDatabase(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	c2.Stop()
	c.Stop()
}
