package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Monitoring binaries of Debian's prometheus and prometheus-alertmanager packages, which
// `make test` installs.
const (
	PrometheusBinary   = "prometheus"
	AlertmanagerBinary = "prometheus-alertmanager"
)

// RequireBinary finds a program on PATH. Without it the test is skipped, except in CI
// (CI=true), where its absence fails the test.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; `make test` installs it (Debian packages prometheus and prometheus-alertmanager)", name)
	}
	t.Skipf("%s is not installed (run `make test`, which installs it)", name)
	return ""
}

// Process is a program a test started; it is stopped when the test ends.
type Process struct {
	// URL is where it serves HTTP on loopback.
	URL string
	mu  sync.Mutex
	out bytes.Buffer
}

func (p *Process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// Output is what the process wrote so far.
func (p *Process) Output() string { p.mu.Lock(); defer p.mu.Unlock(); return p.out.String() }

// freePort returns a loopback port nobody listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startProcess runs a program until the test ends and waits until GET ready answers 200.
func startProcess(t testing.TB, p *Process, ready string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = p, p
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() //nolint:errcheck // the exit is read through exited
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("%s's output:\n%s", filepath.Base(name), p.Output())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(p.URL + ready)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("%s exited at start:\n%s", name, p.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not ready after 30s:\n%s", name, p.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PrometheusOptions configures a test's Prometheus.
type PrometheusOptions struct {
	// Targets are host:port addresses scraped at /metrics every second.
	Targets []string
	// RuleFiles are rule files' contents, evaluated every second.
	RuleFiles []string
	// Alertmanager is the URL of an Alertmanager to send alerts to, if any.
	Alertmanager string
}

// StartPrometheus runs the real Prometheus on loopback, in a temporary folder.
func StartPrometheus(t testing.TB, o PrometheusOptions) *Process {
	t.Helper()
	bin := RequireBinary(t, PrometheusBinary)
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global: {scrape_interval: 1s, evaluation_interval: 1s}\n")
	if len(o.RuleFiles) > 0 {
		cfg.WriteString("rule_files:\n")
		for i, rules := range o.RuleFiles {
			path := filepath.Join(dir, fmt.Sprintf("rules-%d.yaml", i))
			if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&cfg, "  - %q\n", path)
		}
	}
	if o.Alertmanager != "" {
		host := strings.TrimPrefix(o.Alertmanager, "http://")
		fmt.Fprintf(&cfg, "alerting:\n  alertmanagers:\n    - static_configs: [{targets: [%q]}]\n", host)
	}
	cfg.WriteString("scrape_configs:\n  - job_name: switchboard\n    static_configs:\n      - targets: [")
	for i, target := range o.Targets {
		if i > 0 {
			cfg.WriteString(", ")
		}
		fmt.Fprintf(&cfg, "%q", target)
	}
	cfg.WriteString("]\n")
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Process{URL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	startProcess(t, p, "/-/ready", bin, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+strings.TrimPrefix(p.URL, "http://"))
	return p
}

// StartAlertmanager runs the real Alertmanager on loopback, sending every alert at once
// to a webhook with a bearer token.
func StartAlertmanager(t testing.TB, webhook, token string) *Process {
	t.Helper()
	bin := RequireBinary(t, AlertmanagerBinary)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: switchboard
  group_by: [tenant, objective]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: switchboard
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config:
          authorization: {credentials: %q}
`, webhook, token)
	config := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Process{URL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	startProcess(t, p, "/-/ready", bin, "--config.file="+config, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+strings.TrimPrefix(p.URL, "http://"), "--cluster.listen-address=")
	return p
}
