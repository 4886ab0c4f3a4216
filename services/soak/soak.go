// Package soak runs Switchboard for a long time at a steady, realistic load and watches
// whether the server's resources stay flat, as `switchboard bench soak` runs it.
//
// It starts a private PostgreSQL (or uses a given one) and `switchboard serve` as a child
// process of its own, so that what is measured is the server alone, not the clients.
// It provisions a tenant through the operator's code (units, agents, supervisors,
// objectives) and drives it through the public API over HTTP for the whole run:
// visitors browsing, chatting and rating, leaving offline messages; agents working
// shifts, signing in and out; supervisors watching the board, the open chats and single
// chats, whispering, searching and exporting; a tenant admin reading reports. Streams
// are opened and closed all the time, which is where leaks hide.
//
// Every interval it samples the server from its own /metrics (live heap, heap in use,
// goroutines, pool, streams) and from /proc (resident memory, open files, TCP
// connections), and PostgreSQL's backends, with the load achieved. It then judges, per
// metric, whether the level at the end of the run is the level at its start and whether
// it still climbs (see verdict.go), and whether the server came back to its idle level
// once the load stopped.
package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/bench"
	"github.com/switchboard-chat/switchboard/services/demo"
)

// Options configures a run.
type Options struct {
	// Serve is the command that runs `switchboard serve`, without the flags the soak
	// adds (--database-url, --listen, --max-conns): the switchboard binary and "serve".
	Serve []string
	// Duration is how long the load runs; 0 means 30 minutes.
	Duration time.Duration
	// SampleEvery is the time between samples; 0 means 10s.
	SampleEvery time.Duration
	// Warmup is the start of the run left out of the verdict, while caches, the pool and
	// the heap grow to their working size; 0 means a sixth of Duration, at most 5 minutes.
	Warmup time.Duration
	// Settle is how long the server is left alone after the load stops before its idle
	// level is read again; 0 means 20s.
	Settle time.Duration
	// Speed multiplies people's pace (see demo.Options.Speed); 0 means 4.
	Speed float64
	// Agents is the number of agents, spread over the staffed units; 0 means 20.
	Agents int
	// Supervisors is the number of supervisors, each with other permissions; 0 means 4.
	Supervisors int
	// MaxConns is the server's pool size (serve --max-conns); 0 means 32.
	MaxConns int32
	// Seed makes the people's choices repeatable (their timing is not); 0 means 1.
	Seed uint64
	// DatabaseURL is a schema owner's connection to a PostgreSQL database to use. Empty
	// starts a private cluster (localpg) in a fresh temp folder, removed at the end.
	DatabaseURL string
	// ServeLog receives the server's log (its standard error); nil discards it, but for
	// the last lines, quoted when the server fails.
	ServeLog io.Writer
	// Command is the command line that repeats the run, quoted in the report.
	Command string
	// Logf, if set, receives progress messages.
	Logf func(format string, args ...any)
}

// Defaults of Options.
const (
	DefaultDuration    = 30 * time.Minute
	DefaultSampleEvery = 10 * time.Second
	DefaultSettle      = 20 * time.Second
	DefaultSpeed       = 4
	DefaultAgents      = 20
	DefaultSupervisors = 4
	DefaultMaxConns    = 32
	// maxWarmup caps the default warm-up.
	maxWarmup = 5 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.SampleEvery == 0 {
		o.SampleEvery = DefaultSampleEvery
	}
	if o.Warmup == 0 {
		o.Warmup = min(o.Duration/6, maxWarmup)
	}
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.Speed == 0 {
		o.Speed = DefaultSpeed
	}
	if o.Agents == 0 {
		o.Agents = DefaultAgents
	}
	if o.Supervisors == 0 {
		o.Supervisors = DefaultSupervisors
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// minSamples is the fewest samples after the warm-up a verdict is drawn from: a fifth of
// them at each end, and a fit over half of them.
const minSamples = 10

func (o Options) validate() error {
	switch {
	case len(o.Serve) == 0:
		return errors.New("serve: name the command that runs `switchboard serve`")
	case o.Duration <= 0 || o.SampleEvery <= 0:
		return fmt.Errorf("duration %s and sample interval %s must be positive", o.Duration, o.SampleEvery)
	case o.Warmup < 0 || o.Warmup >= o.Duration:
		return fmt.Errorf("warm-up %s: it must be shorter than the duration %s", o.Warmup, o.Duration)
	case (o.Duration-o.Warmup)/o.SampleEvery < minSamples:
		return fmt.Errorf("duration %s after a warm-up of %s, sampled every %s, gives fewer than %d samples to judge: sample more often or run longer",
			o.Duration, o.Warmup, o.SampleEvery, minSamples)
	case o.Settle < 0:
		return fmt.Errorf("settle %s is negative", o.Settle)
	case o.Speed <= 0:
		return fmt.Errorf("speed %g is not positive", o.Speed)
	case o.Agents < len(staffedUnits):
		return fmt.Errorf("agents: %d is fewer than the %d staffed units", o.Agents, len(staffedUnits))
	case o.Supervisors < 1:
		return fmt.Errorf("supervisors: %d is not a positive number", o.Supervisors)
	case o.MaxConns < 2:
		return fmt.Errorf("max-conns: %d is fewer than 2", o.MaxConns)
	}
	return nil
}

// Run soaks the server and returns the report, with what was measured, even when the
// run failed part way, together with an error. A run that completes but finds a metric
// not flat returns the report and ErrNotFlat.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	rep := &Report{
		Command:     o.Command,
		Serve:       strings.Join(o.Serve, " "),
		StartedAt:   time.Now().UTC().Truncate(time.Second),
		Machine:     bench.ReadMachine(),
		Duration:    o.Duration.String(),
		Warmup:      o.Warmup.String(),
		SampleEvery: o.SampleEvery.String(),
		Speed:       o.Speed,
		MaxConns:    o.MaxConns,
	}

	db, err := bench.OpenDatabase(ctx, o.DatabaseURL, "", "soak", o.Logf)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rep.Database = db.Description

	cfg, err := pgx.ParseConfig(db.URL)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = samplerApplication
	owner, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting as the schema owner: %w", err)
	}
	defer owner.Close(context.WithoutCancel(ctx))
	if err := bench.ReadPostgres(ctx, owner, &rep.Machine); err != nil {
		return nil, err
	}

	o.Logf("soak: provisioning the tenant")
	t, err := provision(ctx, owner, o)
	if err != nil {
		return nil, err
	}
	rep.Tenant = t.summary()

	o.Logf("soak: starting %s", rep.Serve)
	srv, err := startServe(ctx, o, db.URL)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := srv.stop(); err != nil {
			rep.Problems = append(rep.Problems, "stopping serve: "+err.Error())
		}
	}()
	rep.ServePID = srv.pid

	smp := newSampler(srv, owner, cfg.Port)
	calls := newCalls()
	load := &load{o: o, base: srv.base, tenant: t, calls: calls}
	if err := soak(ctx, o, rep, smp, load); err != nil {
		return rep, err
	}
	if ctx.Err() != nil {
		return rep, fmt.Errorf("soak interrupted: %w", ctx.Err())
	}
	if err := stored(ctx, owner, t, &rep.Stored); err != nil {
		rep.Problems = append(rep.Problems, "counting what was stored: "+err.Error())
	}
	judge(rep, o)
	if !rep.Flat {
		return rep, ErrNotFlat
	}
	return rep, nil
}

// ErrNotFlat says the run completed and some resource did not stay flat, or the load
// was not what a verdict can be drawn from; the report says which.
var ErrNotFlat = errors.New("the server's resources did not stay flat, or the load was not steady: see the verdict")

// samplerApplication is the application_name of the soak's own connection, told apart
// from the server's backends.
const samplerApplication = "switchboard-soak"

// soak reads the idle server, runs the load for the duration while sampling, stops it,
// lets the server settle and reads its idle level again.
func soak(ctx context.Context, o Options, rep *Report, smp *sampler, l *load) error {
	idle, err := smp.sample(ctx, phaseIdleBefore, 0, l.calls)
	if err != nil {
		return fmt.Errorf("sampling the idle server: %w", err)
	}
	rep.Samples = append(rep.Samples, idle)

	o.Logf("soak: load for %s (warm-up %s), sampling every %s", o.Duration, o.Warmup, o.SampleEvery)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var people sync.WaitGroup
	people.Go(func() { l.run(loadCtx) })

	start := time.Now()
	tick := time.NewTicker(o.SampleEvery)
	defer tick.Stop()
	var failures int
	for ctx.Err() == nil {
		elapsed := time.Since(start)
		phase := phaseMeasured
		if elapsed < o.Warmup {
			phase = phaseWarmup
		}
		s, err := smp.sample(ctx, phase, elapsed, l.calls)
		if err != nil {
			// One sample lost is a gap in a curve; the server gone is the end of the run.
			failures++
			rep.Problems = append(rep.Problems, fmt.Sprintf("sample at %s: %v", elapsed.Round(time.Second), err))
			if !smp.srv.alive() {
				stopLoad()
				people.Wait()
				return fmt.Errorf("serve exited during the load: %w%s", smp.srv.exitErr(), smp.srv.tail())
			}
		} else {
			rep.Samples = append(rep.Samples, s)
			if len(rep.Samples)%30 == 0 {
				o.Logf("soak: %s of %s: live heap %s, goroutines %.0f, fds %.0f, streams %.0f, %d calls (%d unexpected errors)",
					elapsed.Round(time.Second), o.Duration, bytesText(s.HeapLive), s.Goroutines, s.OpenFDs, s.Streams, s.Calls, s.Unexpected)
			}
		}
		if elapsed >= o.Duration {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	stopLoad()
	people.Wait()
	if ctx.Err() != nil {
		return nil
	}
	rep.Load = l.summary(rep.Samples)

	o.Logf("soak: load stopped; letting the server settle for %s", o.Settle)
	if !sleep(ctx, o.Settle) {
		return nil
	}
	after, err := smp.sample(ctx, phaseIdleAfter, time.Since(start), l.calls)
	if err != nil {
		return fmt.Errorf("sampling the server after the load: %w", err)
	}
	rep.Samples = append(rep.Samples, after)
	return nil
}

// demoOptions are the visitors and agents of the load. The demo logs warnings only: a
// soak runs long, and its calls are counted, not logged.
func demoOptions(o Options, base string, t *tenant, c *calls) demo.Options {
	return demo.Options{
		BaseURL: base, Tenant: t.name, WidgetKey: t.widgetKey, Password: password,
		Agents: t.agents, Units: t.visitorUnits(), Speed: o.Speed, Seed: o.Seed,
		MaxVisitors: visitorsPerAgent * len(t.agents),
		Shift:       agentShift, Break: agentBreak,
		OwnConnections: true,
		ClientOptions:  c.clientOptions(),
		Logger:         slog.New(slog.NewTextHandler(logWriter{o.Logf}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// logWriter passes a log's lines to Logf.
type logWriter struct{ logf func(string, ...any) }

func (w logWriter) Write(p []byte) (int, error) {
	w.logf("soak: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sleep waits d; false means ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
