package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestDevRunsWithNothingToSetUp runs the real binary's `dev` twice on one data folder, as
// a person would with `make run`: it serves the sample tenant, stops cleanly on Ctrl-C
// with its PostgreSQL, and the second run finds the first run's data.
func TestDevRunsWithNothingToSetUp(t *testing.T) {
	bin := binary(t)
	// The data folder must be reachable by the unprivileged user PostgreSQL runs as.
	data, err := os.MkdirTemp("", "switchboard-dev-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}

	first := startAndStopDev(t, bin, data)
	second := startAndStopDev(t, bin, data)
	if first != second {
		t.Fatalf("the second run has widget key %q, the first had %q: the data was not reused", second, first)
	}
}

// startAndStopDev starts `dev`, uses it, interrupts it and returns the widget key it printed.
func startAndStopDev(t *testing.T, bin, data string) string {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--data-dir", filepath.Join(data, "postgres"), "--listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck

	var base, key, apiKey, demoPage string
	lines := bufio.NewScanner(stdout)
	apiLine := regexp.MustCompile(`API \(Connect, gRPC, gRPC-Web\)\s+(http://\S+)`)
	keyLine := regexp.MustCompile(`widget key\s+(wk_\S+)`)
	apiKeyLine := regexp.MustCompile(`API key \(ConversionService\)\s+(sbi\.\S+)`)
	demoLine := regexp.MustCompile(`Demo page\s+(http://\S+)`)
	found := make(chan struct{})
	go func() {
		for lines.Scan() {
			if m := apiLine.FindStringSubmatch(lines.Text()); m != nil {
				base = m[1]
			}
			if m := keyLine.FindStringSubmatch(lines.Text()); m != nil {
				key = m[1]
			}
			if m := apiKeyLine.FindStringSubmatch(lines.Text()); m != nil {
				apiKey = m[1]
			}
			if m := demoLine.FindStringSubmatch(lines.Text()); m != nil {
				demoPage = m[1]
			}
			if strings.HasPrefix(lines.Text(), "Ctrl-C stops") {
				close(found)
			}
		}
	}()
	select {
	case <-found:
	case <-time.After(60 * time.Second):
		t.Fatalf("dev printed no banner in 60s; stderr:\n%s", stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Wait for it to serve, then sign in with the demo credentials and reach the widget API.
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev at %s never ready: %v", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	login, err := authv1connect.NewAuthServiceClient(http.DefaultClient, base).Login(ctx,
		connect.NewRequest(&authv1.LoginRequest{Tenant: "acme", Username: "sam", Password: "switchboard"}))
	if err != nil || login.Msg.Account.Role != authv1.Role_ROLE_SUPERVISOR {
		t.Fatalf("signing in as the sample supervisor: %v %v", login, err)
	}
	avail, err := chatv1connect.NewChatServiceClient(http.DefaultClient, base).GetAvailability(ctx,
		connect.NewRequest(&chatv1.GetAvailabilityRequest{WidgetKey: key, BusinessUnit: "sales"}))
	if err != nil || avail.Msg.DisplayName != "Sales" {
		t.Fatalf("the sample tenant's sales unit: %v %v", avail, err)
	}

	// The printed demo page embeds the sample tenant's widget.
	resp, err := http.Get(demoPage)
	if err != nil {
		t.Fatalf("the demo page %q: %v", demoPage, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `data-widget-key="`+key+`"`) {
		t.Fatalf("the demo page %q (status %d) does not embed widget key %s:\n%s", demoPage, resp.StatusCode, key, page)
	}

	// The printed API key records sales (NotFound: accepted, and no such conversation).
	_, err = conversionv1connect.NewConversionServiceClient(http.DefaultClient, base, connect.WithInterceptors(testenv.Bearer(apiKey))).RecordConversion(ctx,
		connect.NewRequest(&conversionv1.RecordConversionRequest{OrderId: "1", Amount: "1", Currency: "EUR", ConversationId: "00000000-0000-0000-0000-000000000001"}))
	if testenv.Code(err) != connect.CodeNotFound {
		t.Fatalf("recording a sale with the printed API key %q: %v; want NotFound", apiKey, err)
	}

	// Ctrl-C stops it and its PostgreSQL.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after Ctrl-C; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not stop within 30s of Ctrl-C")
	}
	if _, err := os.Stat(filepath.Join(data, "postgres", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("PostgreSQL still running after dev stopped (postmaster.pid: %v)", err)
	}
	if !strings.Contains(stderr.String(), "PostgreSQL stopped") {
		t.Fatalf("no clean PostgreSQL stop in the log:\n%s", stderr.String())
	}
	return key
}
