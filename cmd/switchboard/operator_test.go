package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestTheOperatorBinaryReconcilesAndReportsItsHealth runs the real binary's `operator`
// against a real API server and PostgreSQL, as a Deployment would: probes and metrics
// answer, a Tenant becomes Ready, and SIGTERM stops it cleanly.
func TestTheOperatorBinaryReconcilesAndReportsItsHealth(t *testing.T) {
	kube, err := testenv.StartKube()
	if err != nil {
		t.Fatal(err)
	}
	defer kube.Stop()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kube.Env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := binary(t)
	url := pgtest.NewDatabase(t, cluster)
	probes, metrics := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "operator", "--leader-elect", "--leader-election-namespace=default",
		"--health-probe-bind-address="+probes, "--metrics-bind-address="+metrics)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "SWITCHBOARD_DATABASE_URL="+url)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()

	get := func(addr, path string) (int, string, error) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), nil
	}
	wait := func(what string, ok func() error) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := ok()
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v\n%s", what, err, logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		wait(path, func() error {
			code, body, err := get(probes, path)
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("%d %s", code, body)
			}
			return err
		})
	}

	tenant := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "binary"}}
	ctx := context.Background()
	if err := kube.Client.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	wait("the Tenant Ready", func() error {
		if err := kube.Client.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(tenant.Status.Conditions, v1alpha1.ConditionReady) {
			return fmt.Errorf("conditions %+v", tenant.Status.Conditions)
		}
		return nil
	})
	wait("the manager's metrics", func() error {
		code, body, err := get(metrics, "/metrics")
		if err == nil && (code != http.StatusOK || !strings.Contains(body, `controller_runtime_reconcile_total{controller="tenant"`)) {
			err = fmt.Errorf("%d, no reconcile counts for the tenant controller", code)
		}
		if err == nil && !strings.Contains(body, `switchboard_tenants{isolation="Pooled",ready="True"} 1`) {
			err = fmt.Errorf("no ready Pooled tenant counted in switchboard_tenants")
		}
		return err
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the operator exited with %v after SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the operator did not stop within 20s of SIGTERM\n%s", logs.String())
	}
}
