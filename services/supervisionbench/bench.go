// Package supervisionbench measures supervision at scale, as `switchboard bench
// supervision` runs it, through the public Connect API of an in-process server on a
// private PostgreSQL:
//
//   - fan-out: agents keep many conversations going, sending messages and draft updates
//     at a steady pace, while supervisors watch some of them live; the figure is the time
//     from the start of each send call to its arrival on every watching supervisor's stream;
//   - search: all-chats search over a large store of conversations, seeded directly into
//     the tables and indexed by the real search indexer, for each kind of query a
//     supervisor makes (full text, filters, both, later pages);
//   - export: the all-chats CSV export at growing row counts, with the server's Go heap
//     sampled during each export, to show memory stays flat in the row count.
package supervisionbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/bench"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Options configures a run.
type Options struct {
	// Conversations is the number of open conversations of the fan-out phase; 0 means 1000.
	Conversations int
	// Supervisors is the number of supervisors watching; 0 means 100.
	Supervisors int
	// WatchesPerSupervisor is how many distinct conversations each supervisor watches,
	// picked at random; 0 means 10.
	WatchesPerSupervisor int
	// Pace is how often the agent of each conversation acts (a draft update or a message);
	// 0 means 2s.
	Pace time.Duration
	// DraftsPerMessage is how many draft updates, the reply growing, precede each message;
	// 0 means 4, so each conversation gets a message every 5 paces.
	DraftsPerMessage int
	// Warmup runs before the fan-out measurement, unmeasured; 0 means 5s.
	Warmup time.Duration
	// Duration is how long the fan-out is measured; 0 means 20s.
	Duration time.Duration
	// Stored is the number of conversations seeded for search and export; 0 means 100000.
	Stored int
	// SearchRuns is how many times each kind of search query is timed; 0 means 50.
	SearchRuns int
	// ExportRows are the sizes of the exports, in matching rows; empty means 10000, 50000
	// and 100000. A size above Stored is cut to Stored.
	ExportRows []int
	// Seed makes the watch choices and the seeded data repeatable; 0 means 1.
	Seed uint64
	// DatabaseURL is a schema owner's connection to a PostgreSQL database to use. Empty
	// starts a private cluster (localpg) in a fresh temp folder, removed at the end.
	DatabaseURL string
	// Keep leaves the bench tenants in the DatabaseURL database, to examine them.
	Keep bool
	// MaxConns is the server's pool size; 0 means 32.
	MaxConns int32
	// HTTPConnections is how many HTTP/2 connections the clients share; 0 means 8.
	HTTPConnections int
	// Command is the command line that repeats the run, quoted in the report.
	Command string
	// Logf, if set, receives progress messages.
	Logf func(format string, args ...any)
}

// Defaults of Options.
const (
	DefaultConversations        = 1000
	DefaultSupervisors          = 100
	DefaultWatchesPerSupervisor = 10
	DefaultPace                 = 2 * time.Second
	DefaultDraftsPerMessage     = 4
	DefaultWarmup               = 5 * time.Second
	DefaultDuration             = 20 * time.Second
	DefaultStored               = 100_000
	DefaultSearchRuns           = 50
	DefaultMaxConns             = 32
	DefaultHTTPConnections      = 8
)

// DefaultExportRows are the export sizes when Options.ExportRows is empty.
var DefaultExportRows = []int{10_000, 50_000, 100_000}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Conversations, DefaultConversations)
	def(&o.Supervisors, DefaultSupervisors)
	def(&o.WatchesPerSupervisor, DefaultWatchesPerSupervisor)
	def(&o.DraftsPerMessage, DefaultDraftsPerMessage)
	def(&o.Stored, DefaultStored)
	def(&o.SearchRuns, DefaultSearchRuns)
	def(&o.HTTPConnections, DefaultHTTPConnections)
	if o.Pace == 0 {
		o.Pace = DefaultPace
	}
	if o.Warmup == 0 {
		o.Warmup = DefaultWarmup
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if len(o.ExportRows) == 0 {
		o.ExportRows = DefaultExportRows
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

func (o Options) validate() error {
	switch {
	case o.Conversations < 1:
		return fmt.Errorf("conversations: %d is not a positive number", o.Conversations)
	case o.Supervisors < 1:
		return fmt.Errorf("supervisors: %d is not a positive number", o.Supervisors)
	case o.WatchesPerSupervisor < 1 || o.WatchesPerSupervisor > o.Conversations:
		return fmt.Errorf("watched per supervisor: %d is not between 1 and the %d conversations", o.WatchesPerSupervisor, o.Conversations)
	case o.Pace <= 0:
		return fmt.Errorf("pace: %s is not positive", o.Pace)
	case o.DraftsPerMessage < 0:
		return fmt.Errorf("drafts per message: %d is negative", o.DraftsPerMessage)
	case o.Warmup < 0 || o.Duration <= 0:
		return fmt.Errorf("warmup %s and duration %s: the warmup may not be negative, the duration must be positive", o.Warmup, o.Duration)
	case o.Stored < 100:
		return fmt.Errorf("stored: %d is below 100 conversations", o.Stored)
	case o.SearchRuns < 1:
		return fmt.Errorf("search runs: %d is not a positive number", o.SearchRuns)
	case o.MaxConns < 1 || o.HTTPConnections < 1:
		return fmt.Errorf("max-conns %d and HTTP connections %d must be positive", o.MaxConns, o.HTTPConnections)
	}
	for _, n := range o.ExportRows {
		if n < 1 {
			return fmt.Errorf("export rows: %d is not a positive number", n)
		}
	}
	return nil
}

// benchPassword is the password of every bench account.
const benchPassword = "switchboard-bench"

// environment is what the phases of a run share.
type environment struct {
	o            Options
	url          string
	postmaster   int // pid of the private cluster's postmaster, 0 for --database-url
	owner        *pgx.Conn
	srv          *server.Server
	clients      []*apiClient
	passwordHash string
	epoch        time.Time
}

// now is the run's clock, in nanoseconds since it started.
func (e *environment) now() int64 { return int64(time.Since(e.epoch)) }

// Run measures fan-out, search and export in turn. It returns the report, with what was
// measured, even when a phase failed, together with an error.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	rep := &Report{
		Command:         o.Command,
		StartedAt:       time.Now().UTC().Truncate(time.Second),
		Machine:         readMachine(),
		MaxConns:        o.MaxConns,
		HTTPConnections: o.HTTPConnections,
		Seed:            o.Seed,
	}

	db, err := bench.OpenDatabase(ctx, o.DatabaseURL, "", "supervision bench", o.Logf)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	url, postmaster := db.URL, db.Postmaster
	rep.Database = db.Description

	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connecting as the schema owner: %w", err)
	}
	defer owner.Close(context.WithoutCancel(ctx))
	if err := readPostgres(ctx, owner, &rep.Machine); err != nil {
		return nil, err
	}

	// A thousand conversations start at once from one address, on purpose: nothing is limited.
	srv, err := server.New(ctx, server.Config{DatabaseURL: url, MaxConns: o.MaxConns, SkipMigrate: true, Limits: &limits.Config{}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Pool.Close()
		return nil, fmt.Errorf("listening on loopback: %w", err)
	}
	serveCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()
	defer func() {
		stopServer()
		if err := <-served; err != nil {
			o.Logf("supervision bench: server: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	clients := newClients(base, o.HTTPConnections)
	defer closeClients(clients)
	if rep.Protocol, err = checkProtocol(ctx, clients[0].http, base); err != nil {
		return nil, err
	}
	if rep.Protocol != "HTTP/2.0" {
		return nil, fmt.Errorf("the clients talk %s to the server, not HTTP/2 without TLS", rep.Protocol)
	}

	o.Logf("supervision bench: hashing the accounts' password")
	hash, err := auth.HashPassword(benchPassword)
	if err != nil {
		return nil, err
	}
	e := &environment{o: o, url: url, postmaster: postmaster, owner: owner, srv: srv, clients: clients, passwordHash: hash, epoch: time.Now()}

	var failed []string
	fail := func(phase string, err error) {
		rep.Errors = append(rep.Errors, phase+": "+err.Error())
		failed = append(failed, phase)
		o.Logf("supervision bench: %s failed: %v", phase, err)
	}
	fo, err := e.fanOut(ctx)
	rep.FanOut = fo
	if err != nil {
		fail("fan-out", err)
	}
	if ctx.Err() == nil {
		if err := e.stored(ctx, rep); err != nil {
			fail("search and export", err)
		}
	}
	rep.Targets = evaluate(rep)
	if ctx.Err() != nil {
		return rep, fmt.Errorf("benchmark interrupted: %w", ctx.Err())
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("benchmark phases failed: %s", strings.Join(failed, ", "))
	}
	return rep, nil
}

// deleteTenant removes a bench tenant with everything it holds.
func (e *environment) deleteTenant(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if err := pgx.BeginFunc(ctx, e.owner, func(tx pgx.Tx) error { return store.DeleteTenant(ctx, tx, name) }); err != nil {
		return fmt.Errorf("removing tenant %s: %w", name, err)
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkProtocol asks the server's health endpoint through a client and returns the HTTP
// version the answer came in.
func checkProtocol(ctx context.Context, hc *http.Client, base string) (string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return "", err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return resp.Proto, nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("the in-process server does not answer: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
