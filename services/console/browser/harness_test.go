package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/services/console"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

// Sales has two agents (the chat goes to Ann, the supervisor transfers it to Bob); support
// has Cat, who the harness drives through the API to leave a finished chat behind; billing
// has nobody, so its widget offers the offline form. Sam supervises everything.
const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec: {displayName: Acme Outdoor}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  displayName: Sales
  supervisors:
    - {name: sam, displayName: Sam Super, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec:
  displayName: Support
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: billing, namespace: acme}
spec:
  displayName: Billing
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, displayName: Ann Archer, businessUnits: [sales], maxConversations: 5}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: bob, namespace: acme}
spec: {agent: bob, displayName: Bob Baker, businessUnits: [sales], maxConversations: 5}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, displayName: Cat Carter, businessUnits: [support], maxConversations: 5}
`

// scenario is what a script is told, as a JSON file named by its only argument.
type scenario struct {
	// Console is serve's base URL; the tenant's console is Console + "/t/" + Tenant + "/".
	Console string `json:"console"`
	Tenant  string `json:"tenant"`
	// Site is the customer's site, on another origin; ?unit=<name> picks the widget's unit.
	Site     string `json:"site"`
	Password string `json:"password"`
	// People are the display names by username.
	People map[string]string `json:"people"`
	// Output is the folder for screenshots.
	Output string `json:"output"`

	// WrongPasswordError is the server's message for a wrong password.
	WrongPasswordError string `json:"wrongPasswordError,omitempty"`
	// FinishedConversation is a closed conversation to open the transcript of, with
	// FinishedVisitor.
	FinishedConversation string `json:"finishedConversation,omitempty"`
	FinishedVisitor      string `json:"finishedVisitor,omitempty"`

	// The latency benchmark's conversation, watched by Sam, and what to send in it.
	ConversationID string `json:"conversationId,omitempty"`
	VisitorName    string `json:"visitorName,omitempty"`
	VisitorToken   string `json:"visitorToken,omitempty"`
	Messages       int    `json:"messages,omitempty"`
	PerSecond      int    `json:"perSecond,omitempty"`

	// Framing is the framing scenario's pages.
	Framing *framing `json:"framing,omitempty"`
}

// framing names the customer's pages of the framing scenario.
type framing struct {
	// Allowed and Wildcard embed the widget of a tenant that allows their origins (the
	// second by a *. wildcard); Refused embeds the widget of a tenant that does not.
	Allowed  string `json:"allowed"`
	Wildcard string `json:"wildcard"`
	Refused  string `json:"refused"`
	// FramesConsole puts the tenant's console in an iframe.
	FramesConsole string `json:"framesConsole"`
}

const chromiumPath = "/usr/bin/chromium"

// requireBrowser skips when what the scenarios need is missing, except under CI, where
// `make test` has installed Chromium and built the console, so a gap is a failure.
func requireBrowser(tb testing.TB) string {
	tb.Helper()
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is missing (make test installs and builds it)", what)
		}
		tb.Skipf("%s is missing: run `make chromium console` to run the browser tests", what)
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing("Chromium (" + chromiumPath + ")")
	}
	if !console.Built() {
		missing("the built console")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("Node.js")
	}
	if _, err := os.Stat(filepath.Join(consoleDir(tb), "node_modules", "playwright-core")); err != nil {
		missing("playwright-core (services/console/node_modules)")
	}
	return node
}

// consoleDir is services/console, where the scenarios and their node_modules are.
func consoleDir(tb testing.TB) string {
	dir, err := filepath.Abs("..")
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// outputDir is where a scenario's screenshots go: $SWITCHBOARD_TEST_OUTPUT or
// services/console/test-output (git-ignored), in a folder of the scenario's name.
func outputDir(tb testing.TB, name string) string {
	tb.Helper()
	root := os.Getenv("SWITCHBOARD_TEST_OUTPUT")
	if root == "" {
		root = filepath.Join(consoleDir(tb), "test-output")
	}
	dir, err := filepath.Abs(filepath.Join(root, name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("screenshots of %s: %s", name, dir)
	return dir
}

// newScenario starts the database and serve for a script, with the tenant above.
func newScenario(tb testing.TB, name string) (*testenv.Env, scenario) {
	tb.Helper()
	env := testenv.Start(tb, cluster, config)
	acme := env.Tenants["acme"]
	return env, scenario{
		Console:  env.Base,
		Tenant:   "acme",
		Site:     startSite(tb, env.Base, acme.WidgetKey),
		Password: testenv.Password,
		People:   acme.DisplayNames,
		Output:   outputDir(tb, name),
	}
}

// site is a customer's page that embeds the widget from Switchboard's origin.
var site = template.Must(template.New("site").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Outdoor — tents and stoves</title>
<style>body { font-family: sans-serif; margin: 2rem; max-width: 40rem; }</style>
</head>
<body>
<h1>Acme Outdoor</h1>
<p>Tents, stoves and everything for a night outside. Questions? Chat with us.</p>
<script src="{{.Console}}/widget.js" data-widget-key="{{.Key}}" data-business-unit="{{.Unit}}" async></script>
</body>
</html>
`))

// startSite serves the customer's page on its own loopback port (another origin than
// serve's, as a real site is); ?unit= names the widget's business unit (sales by default).
func startSite(tb testing.TB, consoleBase, widgetKey string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		unit := r.URL.Query().Get("unit")
		if unit == "" {
			unit = "sales"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		site.Execute(w, map[string]string{"Console": consoleBase, "Key": widgetKey, "Unit": unit}) //nolint:errcheck
	})
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

// runScript runs a scenario of ../e2e with Node.js and returns its output; a failed
// script fails the test with everything it printed.
func runScript(tb testing.TB, node, script string, s scenario, timeout time.Duration) string {
	tb.Helper()
	cfg, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	cfgPath := filepath.Join(tb.TempDir(), "scenario.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", script), cfgPath)
	cmd.Dir = consoleDir(tb)
	// Its own process group, so that a timeout also ends the Chromium it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	var w io.Writer = &out
	if testing.Verbose() {
		w = io.MultiWriter(&out, os.Stdout)
	}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		tb.Fatalf("%s failed after %s: %v\n%s", script, time.Since(start).Round(time.Second), err, out.String())
	}
	return out.String()
}
