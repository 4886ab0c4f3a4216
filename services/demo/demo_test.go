package demo_test

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/config/samples"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/demo"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/store"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

const password = "demo-secret"

// The demo runs at 20× a person's pace, a few seconds before the server restarts and a
// few after: over two minutes of a support desk, with an outage.
const (
	speed         = 20
	beforeRestart = 3 * time.Second
	afterRestart  = 4 * time.Second
)

func TestRunMakesTrafficToWatch(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	tenant := loadSamples(t, url)
	addr, stopServer := serve(t, url, "127.0.0.1:0")
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(context.Background())

	log := &demoLog{}
	defer func() {
		if t.Failed() {
			log.dump(t, 300)
		}
	}()
	demoCtx, stopDemo := context.WithCancel(ctx)
	defer stopDemo()
	done := make(chan struct{})
	go func() {
		defer close(done)
		demo.Run(demoCtx, demo.Options{BaseURL: "http://" + addr, Tenant: tenant.Name, WidgetKey: tenant.WidgetKey,
			Password: password, Agents: tenant.Agents, Units: tenant.Units, Speed: speed, Seed: 7,
			Logger: slog.New(log)})
	}()
	cameOnline := waitOnline(t, owner, len(tenant.Agents))
	before := watch(t, owner, beforeRestart)
	stopServer()
	serve(t, url, addr)
	restarted := time.Now()
	cameBack := waitOnline(t, owner, len(tenant.Agents))
	after := watch(t, owner, afterRestart)
	stopDemo()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s after its context ended")
	}

	t.Run("visitors chatted with agents", func(t *testing.T) {
		var started, answered, visitorLines, agentLines int
		if err := owner.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM conversations),
			(SELECT count(*) FROM conversations c WHERE
				EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.conversation_id AND e.kind = 'message' AND e.author_kind = 'visitor') AND
				EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.conversation_id AND e.kind = 'message' AND e.author_kind = 'agent')),
			(SELECT count(*) FROM events WHERE kind = 'message' AND author_kind = 'visitor'),
			(SELECT count(*) FROM events WHERE kind = 'message' AND author_kind = 'agent')`,
		).Scan(&started, &answered, &visitorLines, &agentLines); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d conversations, %d answered, %d visitor and %d agent messages; busiest load per agent %v before the restart, %v after",
			started, answered, visitorLines, agentLines, before.busiest, after.busiest)
		if started < 5 || answered < 3 {
			t.Errorf("%d conversations started and %d got an agent's answer; want at least 5 and 3", started, answered)
		}
		if visitorLines <= started || agentLines < answered {
			t.Errorf("%d visitor and %d agent messages in %d conversations: visitors should write more than one line", visitorLines, agentLines, started)
		}
	})

	t.Run("visitors browsed before they chatted", func(t *testing.T) {
		var linked, browsed, parsed int
		if err := owner.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM conversations WHERE session_id IS NOT NULL),
			(SELECT count(*) FROM visitor_sessions WHERE page_views >= 2),
			(SELECT count(*) FROM visitor_sessions WHERE os <> '' AND browser <> '')`,
		).Scan(&linked, &browsed, &parsed); err != nil {
			t.Fatal(err)
		}
		if linked == 0 || browsed == 0 || parsed == 0 {
			t.Errorf("conversations with a visit %d, visits of two pages or more %d, with OS and browser read %d: want some of each", linked, browsed, parsed)
		}
	})

	t.Run("conversations were closed and rated", func(t *testing.T) {
		var byVisitor, byAgent, rated, ratedClosed int
		if err := owner.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM events WHERE system_kind = 'closed' AND author_kind = 'visitor'),
			(SELECT count(*) FROM events WHERE system_kind = 'closed' AND author_kind = 'agent'),
			(SELECT count(*) FROM ratings WHERE csat BETWEEN 1 AND 5 AND thumb IS NOT NULL),
			(SELECT count(*) FROM ratings r JOIN conversations c USING (tenant_id, conversation_id) WHERE c.state = 'closed')`,
		).Scan(&byVisitor, &byAgent, &rated, &ratedClosed); err != nil {
			t.Fatal(err)
		}
		t.Logf("closed: %d by visitors, %d by agents; %d rated", byVisitor, byAgent, rated)
		if byVisitor == 0 || byAgent == 0 || rated == 0 || ratedClosed == 0 {
			t.Errorf("closed by visitors %d, by agents %d; rated %d (%d of them closed): want some of each", byVisitor, byAgent, rated, ratedClosed)
		}
	})

	t.Run("agents came back after the server restarted", func(t *testing.T) {
		if !cameOnline || !cameBack {
			t.Errorf("every agent online within %s: when the demo started %v, after the restart %v", onlineWithin, cameOnline, cameBack)
		}
		for _, name := range tenant.Agents {
			if !log.has(slog.LevelInfo, "agent stream ended; reconnecting", "agent", name) {
				t.Errorf("agent %s logged no reconnection at Info", name)
			}
		}
		// A conversation under way when the server went down goes on: its agent
		// resumed it on the new stream and answered.
		var resumed int
		if err := owner.QueryRow(ctx, `SELECT count(*) FROM conversations c WHERE c.created_at < $1 AND EXISTS (
			SELECT 1 FROM events e WHERE e.conversation_id = c.conversation_id AND e.kind = 'message'
			  AND e.author_kind = 'agent' AND e.created_at > $1)`, restarted).Scan(&resumed); err != nil {
			t.Fatal(err)
		}
		if resumed == 0 {
			t.Error("no conversation started before the restart got an agent's answer after it")
		}
	})

	t.Run("agents went offline when the demo stopped", func(t *testing.T) {
		var online []string
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			rows, err := owner.Query(ctx, `SELECT name FROM agents WHERE status <> 'offline' ORDER BY name`)
			if err != nil {
				t.Fatal(err)
			}
			if online, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				t.Fatal(err)
			}
			if len(online) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("agents %v are still online 5s after the demo stopped: their streams stayed open", online)
			}
		}
	})

	t.Run("the server never rejected what the demo sent", func(t *testing.T) {
		// Conversations closed or transferred meanwhile are part of the game, and so
		// are calls that found the server down; a request the server finds malformed
		// or fails on is not.
		if bad := log.unexpected(); len(bad) > 0 {
			t.Errorf("%d unexpected API errors, for example:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
		}
	})
}

// observed is what watching the agents' loads for a while showed.
type observed struct {
	// busiest is each agent's highest open count.
	busiest map[string]int
}

// onlineWithin bounds the time agents take to sign in and open their streams.
const onlineWithin = 10 * time.Second

// waitOnline waits until the agents are all online, for at most onlineWithin, and
// reports whether they were.
func waitOnline(t *testing.T, conn *pgx.Conn, agents int) bool {
	t.Helper()
	for deadline := time.Now().Add(onlineWithin); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var online int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM agents WHERE status <> 'offline'`).Scan(&online); err != nil {
			t.Fatal(err)
		}
		if online == agents {
			return true
		}
	}
	return false
}

// watch samples the agents' loads for d. No agent may ever hold more conversations
// than its capacity, and its open count must be the number of conversations it holds.
func watch(t *testing.T, conn *pgx.Conn, d time.Duration) observed {
	t.Helper()
	o := observed{busiest: map[string]int{}}
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for _, l := range agentLoads(t, conn) {
			if l.open > l.capacity || l.open != l.holding {
				t.Errorf("agent %s: open_count %d, capacity %d, holding %d conversations", l.name, l.open, l.capacity, l.holding)
			}
			o.busiest[l.name] = max(o.busiest[l.name], l.open)
		}
	}
	return o
}

// loadSamples applies the embedded sample configuration with demo accounts, as
// `switchboard dev` does, and returns the sample tenant.
func loadSamples(t *testing.T, url string) provision.Applied {
	t.Helper()
	ctx := t.Context()
	cfg := &provision.Config{}
	entries, err := fs.ReadDir(samples.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(samples.FS, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Parse("config/samples/"+e.Name(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	applied, err := provision.Apply(ctx, conn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if err := provision.DemoAccounts(ctx, conn, applied, hash); err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || len(applied[0].Agents) == 0 || len(applied[0].Units) < 2 {
		t.Fatalf("samples applied %+v; want one tenant with agents and two units", applied)
	}
	return applied[0]
}

// serve runs a server on addr until stop is called or the test ends, and returns the
// address it listens on.
func serve(t *testing.T, url, addr string) (string, func()) {
	t.Helper()
	// Every simulated visitor calls from loopback, as in `switchboard dev`: the limits per
	// client address are shared by all of them.
	return serveWith(t, url, addr, limits.Defaults().SharedAddress(100))
}

// serveWith is serve with the given limits.
func serveWith(t *testing.T, url, addr string, lc limits.Config) (string, func()) {
	t.Helper()
	srv, err := server.New(t.Context(), server.Config{DatabaseURL: url, SkipMigrate: true, ShutdownTimeout: 5 * time.Second, Limits: &lc})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

type agentLoad struct {
	name                    string
	capacity, open, holding int
}

// agentLoads reads every agent's capacity, open count and the conversations assigned
// to it, in one snapshot.
func agentLoads(t *testing.T, conn *pgx.Conn) []agentLoad {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT a.name, a.capacity, a.open_count,
		(SELECT count(*) FROM conversations c WHERE c.tenant_id = a.tenant_id AND c.agent_id = a.agent_id
		   AND c.state IN ('assigned', 'active'))
		FROM agents a ORDER BY a.name`)
	if err != nil {
		t.Fatal(err)
	}
	loads, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (agentLoad, error) {
		var l agentLoad
		return l, r.Scan(&l.name, &l.capacity, &l.open, &l.holding)
	})
	if err != nil {
		t.Fatal(err)
	}
	return loads
}

// demoLog is a slog handler that keeps what the demo logged.
type demoLog struct {
	mu      sync.Mutex
	records []logged
}

type logged struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (h *demoLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *demoLog) Handle(_ context.Context, r slog.Record) error {
	l := logged{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		l.attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, l)
	h.mu.Unlock()
	return nil
}

// WithAttrs keeps the attributes of the demo's loggers (agent, visitor, conversation).
func (h *demoLog) WithAttrs(as []slog.Attr) slog.Handler { return &withAttrs{h, as} }
func (h *demoLog) WithGroup(string) slog.Handler         { return h }

type withAttrs struct {
	h  *demoLog
	as []slog.Attr
}

func (w *withAttrs) Enabled(context.Context, slog.Level) bool { return true }
func (w *withAttrs) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(w.as...)
	return w.h.Handle(ctx, r)
}
func (w *withAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &withAttrs{w.h, append(slices.Clip(w.as), as...)}
}
func (w *withAttrs) WithGroup(string) slog.Handler { return w }

// has reports whether a record of the level and message with the attribute was logged.
func (h *demoLog) has(level slog.Level, msg, key, value string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.records, func(l logged) bool {
		return l.level == level && l.msg == msg && l.attrs[key] == value
	})
}

// expectedCodes are the answers of a busy desk: a conversation closed or transferred by
// the other side meanwhile, a call cut short as the demo stops, a server restarting.
var expectedCodes = []string{
	connect.CodeFailedPrecondition.String(),
	connect.CodePermissionDenied.String(),
	connect.CodeCanceled.String(),
	connect.CodeUnavailable.String(),
}

// unexpected lists the API errors the demo logged with other codes.
func (h *demoLog) unexpected() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.records {
		if code, ok := l.attrs["code"]; ok && !slices.Contains(expectedCodes, code) {
			out = append(out, fmt.Sprintf("%s %s: %s", l.msg, l.attrs["conversation"], l.attrs["err"]))
		}
	}
	return out
}

// dump logs the last n records, to see what the demo did before a failure.
func (h *demoLog) dump(t *testing.T, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, l := range h.records[max(len(h.records)-n, 0):] {
		fmt.Fprintf(&b, "%s %s", l.level, l.msg)
		for _, k := range slices.Sorted(maps.Keys(l.attrs)) {
			fmt.Fprintf(&b, " %s=%s", k, l.attrs[k])
		}
		b.WriteByte('\n')
	}
	t.Logf("the demo's last %d log records:\n%s", n, b.String())
}

// Agents working short shifts sign out and back in, on connections of their own, and
// close what they hold before they leave.
func TestShiftsSignAgentsOutAndBackIn(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	tenant := loadSamples(t, url)
	addr, _ := serve(t, url, "127.0.0.1:0")
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(context.Background())

	log := &demoLog{}
	defer func() {
		if t.Failed() {
			log.dump(t, 300)
		}
	}()
	var calls atomic.Int64
	counter := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			calls.Add(1)
			return next(ctx, req)
		}
	})
	demoCtx, stopDemo := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// At 20× a person's pace, shifts of 1–3s and breaks of 0.5–1.5s.
		demo.Run(demoCtx, demo.Options{BaseURL: "http://" + addr, Tenant: tenant.Name, WidgetKey: tenant.WidgetKey,
			Password: password, Agents: tenant.Agents, Units: tenant.Units, Speed: speed, Seed: 11,
			Shift: 40 * time.Second, Break: 20 * time.Second, OwnConnections: true,
			ClientOptions: []connect.ClientOption{connect.WithInterceptors(counter)}, Logger: slog.New(log)})
	}()
	time.Sleep(8 * time.Second)
	stopDemo()
	<-done

	var signIns, signOuts, closedAtShiftEnd int
	if err := owner.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM sessions s JOIN accounts a USING (tenant_id, account_id) WHERE a.agent_id IS NOT NULL),
		(SELECT count(*) FROM sessions s JOIN accounts a USING (tenant_id, account_id) WHERE a.agent_id IS NOT NULL AND s.revoked_at IS NOT NULL),
		(SELECT count(*) FROM events WHERE system_kind = 'closed' AND body = 'end of the agent''s shift')`,
	).Scan(&signIns, &signOuts, &closedAtShiftEnd); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d sign-ins, %d sign-outs, %d conversations closed at a shift's end, %d calls", signIns, signOuts, closedAtShiftEnd, calls.Load())
	if signOuts < len(tenant.Agents) || signIns <= signOuts {
		t.Errorf("%d agents signed in %d times and out %d times: each should have ended a shift and come back", len(tenant.Agents), signIns, signOuts)
	}
	if closedAtShiftEnd == 0 {
		t.Error("no conversation was closed at the end of a shift")
	}
	if calls.Load() == 0 {
		t.Error("the interceptor given in ClientOptions saw no call")
	}
	if bad := log.unexpected(); len(bad) > 0 {
		t.Errorf("%d unexpected API errors, for example:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}
}

// TestDemoWaitsOutTheServersLimits runs the demo against a server whose limit on draft
// updates it outruns: the demo waits as each refusal's retry hint says and tries again,
// so none of its calls ends refused.
func TestDemoWaitsOutTheServersLimits(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	tenant := loadSamples(t, url)
	lc := limits.Defaults().SharedAddress(100)
	lc.WriterDraftsPerSecond = 1
	addr, _ := serveWith(t, url, "127.0.0.1:0", lc)

	log := &demoLog{}
	defer func() {
		if t.Failed() {
			log.dump(t, 300)
		}
	}()
	var refused, drafts atomic.Int64
	counter := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			res, err := next(ctx, req)
			if _, ok := limits.RetryDelay(err); ok {
				refused.Add(1)
			} else if err == nil && strings.HasSuffix(req.Spec().Procedure, "/UpdateDraft") {
				drafts.Add(1)
			}
			return res, err
		}
	})
	demoCtx, stopDemo := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		demo.Run(demoCtx, demo.Options{BaseURL: "http://" + addr, Tenant: tenant.Name, WidgetKey: tenant.WidgetKey,
			Password: password, Agents: tenant.Agents, Units: tenant.Units, Speed: speed, Seed: 13,
			ClientOptions: []connect.ClientOption{connect.WithInterceptors(counter)}, Logger: slog.New(log)})
	}()
	time.Sleep(8 * time.Second)
	stopDemo()
	<-done

	t.Logf("%d calls refused with a retry hint, %d draft updates taken", refused.Load(), drafts.Load())
	if refused.Load() == 0 {
		t.Fatal("the server refused no call: a draft update a second should be too few for the demo at 20× pace")
	}
	if drafts.Load() == 0 {
		t.Error("no draft update was taken: the demo gave up on its drafts")
	}
	if bad := log.unexpected(); len(bad) > 0 {
		t.Errorf("%d unexpected API errors, for example:\n%s", len(bad), strings.Join(bad[:min(len(bad), 10)], "\n"))
	}
}
