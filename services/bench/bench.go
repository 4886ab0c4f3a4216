// Package bench measures Switchboard's message path end to end, as `switchboard bench`
// runs it: visitors send messages through the public Connect API (HTTP/2 without TLS,
// protobuf), each message is delivered to the conversation's agent on its AgentStream,
// and the same database's rate of plain single-row INSERT commits by pgx, at the same
// concurrency, is the yardstick the API rate is compared with.
//
// For each concurrency N it provisions a fresh tenant, brings agents online, opens N
// conversations, and runs three phases: a closed-loop throughput phase (every visitor
// sends back to back), the raw INSERT phase, and a paced phase at half the measured
// throughput, whose latency is the honest figure (at saturation latency is only the
// queue, N / throughput by Little's law).
package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/server"
)

// Options configures a run.
type Options struct {
	// Conversations lists the concurrencies to measure, one round each; empty means 100 and 1000.
	Conversations []int
	// Duration is how long each phase is measured; 0 means 15s.
	Duration time.Duration
	// Warmup runs before each phase's measurement, unmeasured; 0 means 3s.
	Warmup time.Duration
	// DatabaseURL is a schema owner's connection to a PostgreSQL database to use. Empty
	// starts a private cluster (localpg) in a fresh temp folder, removed at the end.
	DatabaseURL string
	// MaxConns is the server's pool size, and the raw INSERT pool's; 0 means 32.
	MaxConns int32
	// HTTPConnections is how many HTTP/2 connections (one transport each) the clients
	// share, so that one TCP connection is not the bottleneck; 0 means 4.
	HTTPConnections int
	// Command is the command line that repeats the run, quoted in the report.
	Command string
	// Samples, if set, receives every measured message as CSV: round, phase, conversation,
	// and the times (ms since the round began) it was sent, acknowledged and delivered.
	Samples io.Writer
	// SteadyInterval is how often each conversation sends in the steady phase, the load
	// at which the latency target is judged; 0 means 1s.
	SteadyInterval time.Duration
	// Logf, if set, receives progress messages.
	Logf func(format string, args ...any)
}

// Defaults of Options.
const (
	DefaultDuration        = 15 * time.Second
	DefaultWarmup          = 3 * time.Second
	DefaultMaxConns        = 32
	DefaultHTTPConnections = 4
	DefaultSteadyInterval  = time.Second
)

func (o Options) withDefaults() Options {
	if len(o.Conversations) == 0 {
		o.Conversations = []int{100, 1000}
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Warmup == 0 {
		o.Warmup = DefaultWarmup
	}
	if o.SteadyInterval == 0 {
		o.SteadyInterval = DefaultSteadyInterval
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.HTTPConnections == 0 {
		o.HTTPConnections = DefaultHTTPConnections
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

func (o Options) validate() error {
	for _, n := range o.Conversations {
		if n < 1 {
			return fmt.Errorf("conversations: %d is not a positive number", n)
		}
	}
	switch {
	case o.Duration < 0:
		return fmt.Errorf("duration: %s is negative", o.Duration)
	case o.Warmup < 0:
		return fmt.Errorf("warmup: %s is negative", o.Warmup)
	case o.MaxConns < 1:
		return fmt.Errorf("max-conns: %d is not a positive number", o.MaxConns)
	case o.HTTPConnections < 1:
		return fmt.Errorf("HTTP connections: %d is not a positive number", o.HTTPConnections)
	}
	return nil
}

// benchPassword is the password of the bench tenants' accounts.
const benchPassword = "switchboard-bench"

// Run measures each concurrency of o.Conversations in turn. It returns the report even
// when a round failed (the round then carries its errors) together with an error.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	rep := &Report{
		Command:         o.Command,
		StartedAt:       time.Now().UTC().Truncate(time.Second),
		Warmup:          o.Warmup.String(),
		Duration:        o.Duration.String(),
		MaxConns:        o.MaxConns,
		HTTPConnections: o.HTTPConnections,
		Machine:         readMachine(),
	}

	db, err := OpenDatabase(ctx, o.DatabaseURL, "", "bench", o.Logf)
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

	// The benchmark drives one tenant far past a tenant's limits on purpose: it measures
	// what the message path can carry, so nothing is limited.
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
			o.Logf("bench: server: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()

	clients := newClients(base, o.HTTPConnections)
	defer closeClients(clients)
	proto, err := checkProtocol(ctx, clients[0].http, base)
	if err != nil {
		return nil, err
	}
	rep.Protocol = proto
	if proto != "HTTP/2.0" {
		return nil, fmt.Errorf("the clients talk %s to the server, not HTTP/2 without TLS", proto)
	}

	o.Logf("bench: hashing the agents' password")
	hash, err := auth.HashPassword(benchPassword)
	if err != nil {
		return nil, err
	}
	var samples *bufio.Writer
	if o.Samples != nil {
		samples = bufio.NewWriter(o.Samples)
		fmt.Fprintln(samples, "conversations,phase,conversation,sent_ms,acknowledged_ms,delivered_ms,latency_ms")
		defer samples.Flush()
	}
	env := &environment{samples: samples, o: o, url: url, postmaster: postmaster, owner: owner, clients: clients, passwordHash: hash}
	var failed []string
	for _, n := range o.Conversations {
		if ctx.Err() != nil {
			break
		}
		rd := env.round(ctx, n)
		rep.Rounds = append(rep.Rounds, rd)
		if len(rd.Errors) > 0 {
			failed = append(failed, fmt.Sprintf("N=%d: %s", n, rd.Errors[0]))
		}
	}
	rep.Targets = evaluate(rep)
	if ctx.Err() != nil {
		return rep, fmt.Errorf("benchmark interrupted: %w", ctx.Err())
	}
	if len(failed) > 0 {
		return rep, fmt.Errorf("benchmark rounds failed: %s", strings.Join(failed, "; "))
	}
	return rep, nil
}

// environment is what the rounds of a run share.
type environment struct {
	o            Options
	url          string
	postmaster   int // pid of the private cluster's postmaster, 0 for --database-url
	samples      *bufio.Writer
	owner        *pgx.Conn
	clients      []*apiClient
	passwordHash string
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ReadMachine describes this machine for a benchmark's report.
func ReadMachine() Machine { return readMachine() }

// ReadPostgres adds the PostgreSQL server's version and durability settings to m.
func ReadPostgres(ctx context.Context, conn *pgx.Conn, m *Machine) error {
	return readPostgres(ctx, conn, m)
}

func readMachine() Machine {
	m := Machine{
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS + "/" + runtime.GOARCH,
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func readPostgres(ctx context.Context, conn *pgx.Conn, m *Machine) error {
	for _, s := range []struct {
		name string
		dst  *string
	}{
		{"server_version", &m.PostgresVersion},
		{"fsync", &m.Fsync},
		{"synchronous_commit", &m.SynchronousCommit},
		{"wal_sync_method", &m.WALSyncMethod},
		{"shared_buffers", &m.SharedBuffers},
	} {
		if err := conn.QueryRow(ctx, "SHOW "+s.name).Scan(s.dst); err != nil {
			return fmt.Errorf("reading PostgreSQL setting %s: %w", s.name, err)
		}
	}
	return nil
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
