package main

// The crash drills prove, from the outside, DESIGN.md's first promise: a message is
// acknowledged only after it is committed, and a client that resumes with after_seq
// misses nothing. They drive steady chat load against the real `switchboard serve`
// (this test binary re-run as the command, see TestMain), inject a fault, and audit the
// database and every client's records. Longer runs take one command, e.g.
//
//	SWITCHBOARD_CRASH_KILLS=50 go test ./cmd/switchboard -run Crash -v
//	SWITCHBOARD_CRASH_OUTAGES=10 go test ./cmd/switchboard -run CrashStoppingPostgres -v
//
// and SWITCHBOARD_CRASH_SEED replays a run's fault schedule (the seed is logged).

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// crashSettings size a drill; the environment overrides each for longer runs.
type crashSettings struct {
	seed     uint64
	kills    int           // SWITCHBOARD_CRASH_KILLS: SIGKILLs of serve
	outages  int           // SWITCHBOARD_CRASH_OUTAGES: PostgreSQL crashes
	outage   time.Duration // SWITCHBOARD_CRASH_OUTAGE: how long PostgreSQL stays down
	visitors int           // SWITCHBOARD_CRASH_VISITORS: conversations under load
}

func readCrashSettings(t *testing.T) crashSettings {
	t.Helper()
	s := crashSettings{seed: uint64(time.Now().UnixNano()), kills: 5, outages: 2, outage: 5 * time.Second, visitors: 20}
	number := func(name string, into *int, least int) {
		if v, ok := os.LookupEnv(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < least {
				t.Fatalf("%s=%q: want a whole number of at least %d", name, v, least)
			}
			*into = n
		}
	}
	number("SWITCHBOARD_CRASH_KILLS", &s.kills, 1)
	number("SWITCHBOARD_CRASH_OUTAGES", &s.outages, 1)
	number("SWITCHBOARD_CRASH_VISITORS", &s.visitors, 1)
	if v, ok := os.LookupEnv("SWITCHBOARD_CRASH_OUTAGE"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			t.Fatalf("SWITCHBOARD_CRASH_OUTAGE=%q: want a duration of at least 1s, like 5s", v)
		}
		s.outage = d
	}
	if v, ok := os.LookupEnv("SWITCHBOARD_CRASH_SEED"); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SWITCHBOARD_CRASH_SEED=%q: want a number", v)
		}
		s.seed = n
	}
	t.Logf("fault schedule seed %d (replay with SWITCHBOARD_CRASH_SEED=%d)", s.seed, s.seed)
	return s
}

// TestCrashKillingServeLosesNothingAcknowledged SIGKILLs `serve` at random moments under
// steady load and starts it again each time: every acknowledged message is stored once, in
// its sender's order, and every stream that resumed with after_seq got each event once.
func TestCrashKillingServeLosesNothingAcknowledged(t *testing.T) {
	settings := readCrashSettings(t)
	env := testenv.Prepare(t, pgtest.NewDatabase(t, cluster), crashConfig(settings))
	serve := startServe(t, "serve", env.DatabaseURL)
	ld := newLoad(t, env, settings, []string{serve.Base}, false)
	ld.start()

	rng := rand.New(rand.NewPCG(settings.seed, 1))
	started := time.Now()
	var restarts []time.Duration
	for i := 1; i <= settings.kills; i++ {
		// A random moment while serving: a few seconds of load between kills.
		wait := 500*time.Millisecond + time.Duration(rng.Int64N(int64(4*time.Second)))
		time.Sleep(wait)
		acked := ld.acked()
		serve.kill()
		t.Logf("kill %d/%d after %s of serving (%d messages acknowledged so far)", i, settings.kills, wait.Round(time.Millisecond), acked)
		killed := time.Now()
		serve.start()
		restarts = append(restarts, time.Since(killed))
	}
	time.Sleep(2 * time.Second) // load on the last start too
	ld.kills = settings.kills
	f := ld.finish()
	t.Logf("crash drill, serve SIGKILLed: %s; ready again after each kill in %s on average, %s at most; %s of faults; this machine at load %s",
		f, mean(restarts).Round(10*time.Millisecond), slowest(restarts).Round(10*time.Millisecond), time.Since(started).Round(time.Second), loadAverage())
}

// TestCrashStoppingPostgresLosesNothingAcknowledged crashes PostgreSQL (pg_ctl stop -m
// immediate) under load with two `serve` replicas, keeps it down, and starts it again:
// meanwhile every client gets Unavailable with a hint to retry (never another code, never
// a hang), /readyz and gRPC health say not ready and /healthz stays up; after, the same
// processes are ready again, streams resume, and the audit finds nothing lost.
func TestCrashStoppingPostgresLosesNothingAcknowledged(t *testing.T) {
	settings := readCrashSettings(t)
	pg := startPrivateCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pg.CreateDatabase(ctx, "switchboard"); err != nil {
		t.Fatal(err)
	}
	env := testenv.Prepare(t, pg.URL("switchboard"), crashConfig(settings))
	replicas := []*serveProcess{startServe(t, "serve-1", env.DatabaseURL), startServe(t, "serve-2", env.DatabaseURL)}
	ld := newLoad(t, env, settings, []string{replicas[0].Base, replicas[1].Base}, true)
	ld.start()

	rng := rand.New(rand.NewPCG(settings.seed, 2))
	// A few conversations go quiet at each outage, their last messages sent as PostgreSQL
	// comes back: a replica that missed those notices has no later message to notice the
	// gap by, so its streams keep them only if it reads again what it missed.
	quietPerOutage := max(1, settings.visitors/(2*settings.outages))
	var readyAfter, recovered []time.Duration
	var notReadyAfter time.Duration
	for i := 1; i <= settings.outages; i++ {
		time.Sleep(2*time.Second + time.Duration(rng.Int64N(int64(3*time.Second))))
		probes := make([]*readinessProbe, len(replicas))
		for j, r := range replicas {
			probes[j] = probeReadiness(r)
		}
		quiet, quietNow := ld.quieten(quietPerOutage)
		stoppedAt := time.Now()
		if err := pg.Kill(); err != nil {
			t.Fatal(err)
		}
		t.Logf("outage %d/%d: PostgreSQL stopped (immediate) with %d messages acknowledged; %v go quiet after it", i, settings.outages, ld.acked(), quiet)
		time.Sleep(settings.outage)
		quietNow()
		restartedAt := time.Now()
		restartCtx, cancelRestart := context.WithTimeout(context.Background(), 2*time.Minute)
		err := pg.Restart(restartCtx)
		cancelRestart()
		if err != nil {
			t.Fatal(err)
		}
		recovered = append(recovered, time.Since(restartedAt))
		for j, p := range probes {
			got := p.stop()
			switch {
			case got.healthzFailures > 0:
				t.Errorf("%s: /healthz failed %d times while PostgreSQL was down; it must stay 200 (the process is alive)", replicas[j].name, got.healthzFailures)
			case got.notReadyAt.IsZero() || got.notReadyAt.After(restartedAt):
				t.Errorf("%s: /readyz and gRPC health never both said not ready in the %s PostgreSQL was down", replicas[j].name, settings.outage)
			case got.readyAt.IsZero():
				t.Errorf("%s: not ready %s after PostgreSQL came back", replicas[j].name, readinessWait)
			default:
				t.Logf("outage %d: %s not ready %s after the crash, ready %s after PostgreSQL was started again", i, replicas[j].name,
					got.notReadyAt.Sub(stoppedAt).Round(10*time.Millisecond), got.readyAt.Sub(restartedAt).Round(10*time.Millisecond))
				notReadyAfter = max(notReadyAfter, got.notReadyAt.Sub(stoppedAt))
				readyAfter = append(readyAfter, got.readyAt.Sub(restartedAt))
			}
		}
	}
	time.Sleep(3 * time.Second) // load after the last outage too
	ld.outages = settings.outages
	f := ld.finish()
	t.Logf("crash drill, PostgreSQL crashed %d times for %s each: %s; not ready within %s of the crash; PostgreSQL restarted (pg_ctl start -w, crash recovery included) in %s on average, serve ready again within %s of its start (slowest of %d); this machine at load %s",
		settings.outages, settings.outage, f, notReadyAfter.Round(10*time.Millisecond), mean(recovered).Round(10*time.Millisecond), slowest(readyAfter).Round(10*time.Millisecond), len(readyAfter), loadAverage())
}

// startPrivateCluster starts a PostgreSQL of the drill's own, which it may crash without
// disturbing the other tests' cluster.
func startPrivateCluster(t *testing.T) *localpg.Cluster {
	t.Helper()
	// Directly under the temp folder: t.TempDir() is closed to the postgres user when root.
	dir, err := os.MkdirTemp("", "crash-drill-pg-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localpg.Start(ctx, localpg.Options{DataDir: dir})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the drill's PostgreSQL: %v", err)
		}
		os.RemoveAll(dir)
	})
	return c
}

// serveProcess is `switchboard serve` as a child process on a fixed loopback port, which
// a drill kills and starts again.
type serveProcess struct {
	t       *testing.T
	name    string
	Base    string
	args    []string
	env     []string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// serveStartTimeout bounds a start: migrations, the pool, the board engine, on a loaded
// machine.
const serveStartTimeout = 90 * time.Second

func startServe(t *testing.T, name, databaseURL string) *serveProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	p := &serveProcess{
		t: t, name: name, Base: "http://" + addr, logPath: filepath.Join(dir, "serve.log"),
		args: []string{"serve", "--database-url", databaseURL, "--listen", addr},
		// The board engine's temporary folder, which a killed process leaves behind,
		// lands in the test's folder.
		env: append(os.Environ(), runAsCommandEnv+"=1", "TMPDIR="+dir),
	}
	p.start()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s", p.logTail())
		}
	})
	return p
}

// start starts the process and waits until /readyz answers 200.
func (p *serveProcess) start() {
	p.t.Helper()
	log, err := os.OpenFile(p.logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	defer log.Close() // the child has its own descriptor
	cmd := exec.Command(os.Args[0], p.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, log, log
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("starting %s: %v", p.name, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		cmd.Wait() //nolint:errcheck // the drill reads how it ended from ProcessState
		close(exited)
	}(p.exited)
	deadline := time.Now().Add(serveStartTimeout)
	for {
		select {
		case <-p.exited:
			p.t.Fatalf("%s exited while starting (%s):%s", p.name, cmd.ProcessState, p.logTail())
		default:
		}
		if resp, err := http.Get(p.Base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready within %s:%s", p.name, serveStartTimeout, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill SIGKILLs the process and waits until it is gone.
func (p *serveProcess) kill() {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("killing %s: %v", p.name, err)
	}
	<-p.exited
}

// stop ends the process as an orchestrator would (SIGTERM, then SIGKILL after a grace
// period); a process that does not drain cleanly fails the test.
func (p *serveProcess) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	select {
	case <-p.exited:
		if !p.cmd.ProcessState.Success() {
			p.t.Errorf("%s ended with %s after SIGTERM:%s", p.name, p.cmd.ProcessState, p.logTail())
		}
	case <-time.After(40 * time.Second):
		p.t.Errorf("%s did not stop within 40s of SIGTERM:%s", p.name, p.logTail())
		p.kill()
	}
}

// logTail is the end of the process's log, to append to a failure.
func (p *serveProcess) logTail() string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 32<<10 {
		f.Seek(st.Size()-32<<10, io.SeekStart) //nolint:errcheck
	}
	b, _ := io.ReadAll(f)
	return "\n--- tail of " + p.name + "'s log ---\n" + string(b)
}

// readinessWait bounds how long a replica may take to be ready again after PostgreSQL
// is back.
const readinessWait = 30 * time.Second

// readinessProbe polls a replica's /healthz, /readyz and gRPC health during an outage.
type readinessProbe struct {
	done   chan struct{}
	result chan readiness
}

type readiness struct {
	healthzFailures int
	// notReadyAt is when /readyz first answered 503 with gRPC health NOT_SERVING; readyAt
	// when both said ready again after that.
	notReadyAt, readyAt time.Time
}

func probeReadiness(p *serveProcess) *readinessProbe {
	pr := &readinessProbe{done: make(chan struct{}), result: make(chan readiness, 1)}
	client := &http.Client{Timeout: 5 * time.Second}
	health := grpchealth.NewClient(client, p.Base, connect.WithGRPC())
	state := func() (healthz bool, ready, serving bool) {
		if resp, err := client.Get(p.Base + "/healthz"); err == nil {
			resp.Body.Close()
			healthz = resp.StatusCode == http.StatusOK
		}
		if resp, err := client.Get(p.Base + "/readyz"); err == nil {
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if res, err := health.Check(ctx, &grpchealth.CheckRequest{}); err == nil {
			serving = res.Status == grpchealth.StatusServing
		}
		return healthz, ready, serving
	}
	go func() {
		var r readiness
		var stopping <-chan time.Time
		for {
			healthz, ready, serving := state()
			now := time.Now()
			if !healthz {
				r.healthzFailures++
			}
			if r.notReadyAt.IsZero() && !ready && !serving {
				r.notReadyAt = now
			}
			if !r.notReadyAt.IsZero() && ready && serving {
				r.readyAt = now
				<-pr.done
				pr.result <- r
				return
			}
			select {
			case <-pr.done:
				if stopping == nil {
					stopping = time.After(readinessWait)
				}
			default:
			}
			select {
			case <-stopping:
				pr.result <- r
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return pr
}

// stop says PostgreSQL is back: the probe waits (up to readinessWait) for the replica to
// be ready and returns what it saw.
func (pr *readinessProbe) stop() readiness {
	close(pr.done)
	return <-pr.result
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(max(len(ds), 1))
}

func slowest(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// loadAverage is the machine's 1, 5 and 15-minute load, quoted with the figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return fmt.Sprintf("%s %s %s on %d cores", f[0], f[1], f[2], runtime.NumCPU())
}
