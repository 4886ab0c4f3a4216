// Package floodbench measures tenant isolation under a flood, as `switchboard bench flood`
// runs it: a victim tenant chats at a steady pace (its visitors send, its agents receive
// on their AgentStream) while its send-to-delivery latency is measured, first alone, then
// while another tenant floods the same server with conversations and messages far above
// its limits, then alone again. Each tenant's clients run in a process of their own, as
// they would on machines of their own: the flooding clients niced and at a fixed
// attempted rate, so that what is measured is what the server pays for the flood
// (refusing it, and serving what the flooder's limits let through), not the clients' own
// CPU taken from the two; the victim's apart from the server's process, so that its
// clients do not wait in the server's scheduler behind the flood's calls.
package floodbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/bench"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/server"
)

// Options configures a run.
type Options struct {
	// Conversations are the victim tenant's, each sending a message every Interval.
	Conversations int
	Interval      time.Duration
	// Warmup runs before each phase's measurement; Duration is each phase's measurement.
	Warmup   time.Duration
	Duration time.Duration
	// Rounds is how many floods there are, each between two phases alone.
	Rounds int
	// FloodRate is the flood's calls attempted per second; 0 means as fast as it can.
	FloodRate int
	// FloodClients are the flooding clients, each from an address of its own.
	FloodClients int
	// FlooderLimits are the flooding tenant's own limits (spec.limits); nil keeps the
	// server's defaults.
	FlooderLimits *v1alpha1.TenantLimits
	// FloodStartShare is the share of the flood's calls that start conversations.
	FloodStartShare float64
	// FloodCommand runs a flood worker (`switchboard bench flood-worker`), which reads a
	// FloodConfig on its standard input and prints FloodStats when it closes; nil floods
	// from this process.
	FloodCommand []string
	// Nice is the flood worker's niceness (0–19).
	Nice int
	// Idle runs the flood worker under SCHED_IDLE instead (chrt --idle 0): it then gets a
	// CPU only when nothing else wants one, the nearest this machine comes to the
	// attacker's machines of their own.
	Idle bool
	// Floor floods, instead of the server, a bare net/http server in its process that
	// answers every call with one recorded refusal: the victim's latency and the CPU per
	// flood call then show what the flood costs in net/http alone.
	Floor bool
	// VictimCommand runs a victim worker (`switchboard bench victim-worker`), which reads a
	// VictimConfig on its standard input, prints a line once it is sending, and prints
	// its samples when its standard input closes; nil runs the victim's clients in this
	// process.
	VictimCommand []string
	// DatabaseURL is a schema owner's connection to use; empty starts a private cluster.
	DatabaseURL string
	// MaxConns is the server's pool size; 0 means 32.
	MaxConns int32
	// Command is the command line that repeats the run, quoted in the report.
	Command string
	// Logf receives progress messages.
	Logf func(format string, args ...any)
}

// Defaults of Options.
const (
	DefaultConversations   = 50
	DefaultInterval        = time.Second
	DefaultWarmup          = 5 * time.Second
	DefaultDuration        = 20 * time.Second
	DefaultRounds          = 3
	DefaultFloodRate       = 2000
	DefaultFloodClients    = 200
	DefaultFloodStartShare = 0.25
	DefaultNice            = 19
	// Target is the most the victim's latency may rise under the flood.
	Target = 0.20
)

func (o Options) withDefaults() Options {
	if o.Conversations == 0 {
		o.Conversations = DefaultConversations
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Warmup == 0 {
		o.Warmup = DefaultWarmup
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Rounds == 0 {
		o.Rounds = DefaultRounds
	}
	if o.FloodClients == 0 {
		o.FloodClients = DefaultFloodClients
	}
	if o.MaxConns == 0 {
		o.MaxConns = 32
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// Report is what a run measured.
type Report struct {
	Command   string    `json:"command,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	NumCPU    int       `json:"numCPU"`
	Database  string    `json:"database"`
	// Limits are the flooding tenant's limits.
	Limits string `json:"limits"`
	// Floor is a run whose flood went to a bare server (Options.Floor).
	Floor         bool    `json:"floor,omitempty"`
	Conversations int     `json:"conversations"`
	Interval      string  `json:"interval"`
	Phases        []Phase `json:"phases"`
	// Alone and Flooded pool the phases of each kind.
	Alone        Phase      `json:"alone"`
	Flooded      Phase      `json:"flooded"`
	Flood        FloodStats `json:"flood"`
	FloodRate    int        `json:"floodRate"`
	FloodClients int        `json:"floodClients"`
	// P50Rise and P99Rise are the latency under the flood over the latency alone, less one.
	// ServerMicrosPerFloodCall is the server's CPU under the flood over its CPU alone,
	// per call of the flood: what each costs it, to hold against the floor (Options.Floor).
	ServerMicrosPerFloodCall float64  `json:"serverMicrosPerFloodCall"`
	P50Rise                  float64  `json:"p50Rise"`
	P99Rise                  float64  `json:"p99Rise"`
	Verdict                  string   `json:"verdict"`
	Detail                   string   `json:"detail"`
	Errors                   []string `json:"errors,omitempty"`
}

// Phase is one measured window of the victim's chat.
type Phase struct {
	Name string `json:"name"`
	// Sent counts the victim's messages due in the window; Delivered those that reached
	// their agent; SendErrors the sends that failed.
	Sent        int           `json:"sent"`
	Delivered   int           `json:"delivered"`
	Undelivered int           `json:"undelivered"`
	SendErrors  int           `json:"sendErrors"`
	Latency     bench.Latency `json:"latency"`
	Ack         bench.Latency `json:"ack"`
	// CPU is the server's process (the victim's clients included when they run in it)
	// and PostgreSQL; VictimCores and FloodCores the victim and flood workers', when apart.
	CPU         bench.CPU `json:"cpu"`
	VictimCores float64   `json:"victimCores,omitempty"`
	FloodCores  float64   `json:"floodCores,omitempty"`
	// LoadAverage is the machine's one-minute load average at the phase's end.
	LoadAverage float64 `json:"loadAverage"`
}

const (
	victimTenant = "victim"
	floodTenant  = "flooder"
	unitName     = "support"
	password     = "switchboard-bench"
	// victimCapacity is each victim agent's capacity.
	victimCapacity = 10
	// floodVisitors are the flooder's conversations started before the flood.
	floodVisitors = 20
	// drainTimeout bounds the wait for the last deliveries.
	drainTimeout = 10 * time.Second
)

// Run measures the victim alone and under the flood, in turns.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if o.Conversations < 1 || o.Interval <= 0 || o.Duration <= 0 || o.Warmup < 0 || o.FloodRate < 0 || o.FloodClients < 1 || o.FloodStartShare < 0 || o.FloodStartShare > 1 {
		return nil, fmt.Errorf("bad options: %+v", o)
	}
	rep := &Report{Command: o.Command, StartedAt: time.Now().UTC().Truncate(time.Second), NumCPU: runtime.NumCPU(),
		Limits: limits.Defaults().Tenant.String(), Conversations: o.Conversations, Interval: o.Interval.String(),
		FloodRate: o.FloodRate, FloodClients: o.FloodClients}
	if o.FlooderLimits != nil {
		b, _ := json.Marshal(o.FlooderLimits)
		rep.Limits = "the server's defaults (" + rep.Limits + ") under its own " + string(b)
	}
	db, err := bench.OpenDatabase(ctx, o.DatabaseURL, "", "flood bench", o.Logf)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rep.Database = db.Description

	// The server believes the loopback proxy about client addresses, as behind a load
	// balancer: every visitor, victim or flooder, has an address of its own, so that
	// what holds the flood back is its tenant's limits, not one address's.
	lc := limits.Defaults()
	srv, err := server.New(ctx, server.Config{DatabaseURL: db.URL, MaxConns: o.MaxConns, SkipMigrate: true, Limits: &lc,
		Proxies: chat.Proxies{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Pool.Close()
		return nil, err
	}
	serveCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()
	defer func() {
		stopServer()
		<-served
	}()
	base := "http://" + ln.Addr().String()

	r := &run{o: o, reload: srv.Limits.Reload, base: base, postmaster: db.Postmaster}
	r.http = h2c()
	defer r.http.CloseIdleConnections()
	o.Logf("flood bench: setting up the victim (%d conversations) and the flooder", o.Conversations)
	s, err := r.setup(ctx, db.URL)
	if err != nil {
		return rep, err
	}
	defer s.conn.Close(context.WithoutCancel(ctx))
	vic, err := r.startVictim(ctx, s.victim)
	if err != nil {
		return rep, err
	}
	r.victim = vic
	floodCfg, err := r.setupFlooder(ctx, s)
	if err != nil {
		vic.stop() //nolint:errcheck // the setup's error is the one to tell
		return rep, err
	}
	if o.Floor {
		bare, url, err := bareServer()
		if err != nil {
			vic.stop() //nolint:errcheck // the bare server's error is the one to tell
			return rep, err
		}
		defer bare.Close()
		floodCfg.Base, rep.Floor = url, true
	}

	// Phases alone and under the flood take turns, so that what else the machine does
	// weighs on both alike.
	alone := func(i int) {
		name := fmt.Sprintf("alone %d", i)
		o.Logf("flood bench: %s: %s warmup, %s measured", name, o.Warmup, o.Duration)
		rep.Phases = append(rep.Phases, r.phase(ctx, name, nil))
	}
	for i := 1; i <= o.Rounds && ctx.Err() == nil; i++ {
		alone(i)
		name := fmt.Sprintf("flood %d", i)
		o.Logf("flood bench: %s: %d clients at %s attempted calls/s, %.0f%% starting conversations", name, o.FloodClients, rateText(o.FloodRate), o.FloodStartShare*100)
		fl, err := r.startFlood(ctx, floodCfg)
		if err != nil {
			vic.stop() //nolint:errcheck // the flood's error is the one to tell
			return rep, err
		}
		rep.Phases = append(rep.Phases, r.phase(ctx, name, fl))
		st, err := fl.stop()
		if err != nil {
			rep.Errors = append(rep.Errors, err.Error())
		}
		rep.Flood.add(st)
	}
	alone(o.Rounds + 1)
	samples, err := vic.stop()
	if err != nil {
		return rep, fmt.Errorf("the victim's clients: %w", err)
	}
	for i := range rep.Phases {
		r.finish(&rep.Phases[i], rep.Phases[i].Name, samples)
	}
	rep.Alone, rep.Flooded = Phase{Name: "alone, pooled"}, Phase{Name: "flood, pooled"}
	r.finish(&rep.Alone, "alone ", samples)
	r.finish(&rep.Flooded, "flood ", samples)
	meanOf(&rep.Alone, rep.Phases, "alone ")
	meanOf(&rep.Flooded, rep.Phases, "flood ")
	if rep.Flood.Rate > 0 {
		rep.ServerMicrosPerFloodCall = (rep.Flooded.CPU.ProcessCores - rep.Alone.CPU.ProcessCores) / rep.Flood.Rate * 1e6
	}
	judge(rep)
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	return rep, nil
}

// run is one run's state.
type run struct {
	o          Options
	reload     func(context.Context) error
	base       string
	postmaster int
	http       *http.Client
	victim     *victimClients
	windows    []window
}

// window is a phase's measured time, in Unix nanoseconds.
type window struct {
	name     string
	from, to int64
}

func h2c() *http.Client {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: p}}
}

// forwarded is a client whose calls come through the loopback proxy from addr.
func (r *run) chatFrom(addr, token string) chatv1connect.ChatServiceClient {
	return chatv1connect.NewChatServiceClient(r.http, r.base, connect.WithInterceptors(headers{"X-Forwarded-For": addr, "Authorization": bearer(token)}))
}

func bearer(token string) string {
	if token == "" {
		return ""
	}
	return "Bearer " + token
}

// headers sets request headers on every call of a client.
type headers map[string]string

func (h headers) set(hd http.Header) {
	for k, v := range h {
		if v != "" {
			hd.Set(k, v)
		}
	}
}

func (h headers) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		h.set(req.Header())
		return next(ctx, req)
	}
}

func (h headers) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		h.set(conn.RequestHeader())
		return conn
	}
}

func (h headers) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// setting is what the setup made: the victim's clients' configuration, and what the
// flooder's setup goes on from.
type setting struct {
	conn     *pgx.Conn
	cfg      *provision.Config
	victim   VictimConfig
	floodKey string
}

// setup provisions both tenants and signs their agents in.
func (r *run) setup(ctx context.Context, url string) (*setting, error) {
	nAgents := (r.o.Conversations + victimCapacity - 1) / victimCapacity
	cfg := &provision.Config{Tenants: []v1alpha1.Tenant{
		{ObjectMeta: metav1.ObjectMeta{Name: victimTenant}},
		{ObjectMeta: metav1.ObjectMeta{Name: floodTenant}},
	}}
	for _, t := range []string{victimTenant, floodTenant} {
		cfg.BusinessUnits = append(cfg.BusinessUnits, v1alpha1.BusinessUnit{ObjectMeta: metav1.ObjectMeta{Name: unitName, Namespace: t},
			Spec: v1alpha1.BusinessUnitSpec{OfflineMessages: new(bool)}})
	}
	var agents []string
	for i := range nAgents {
		name := fmt.Sprintf("agent%d", i+1)
		agents = append(agents, name)
		cfg.AgentCapacities = append(cfg.AgentCapacities, v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: victimTenant},
			Spec: v1alpha1.AgentCapacitySpec{Agent: name, BusinessUnits: []string{unitName}, MaxConversations: victimCapacity}})
	}
	cfg.AgentCapacities = append(cfg.AgentCapacities, v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Name: "flood-agent", Namespace: floodTenant},
		Spec: v1alpha1.AgentCapacitySpec{Agent: "flood-agent", BusinessUnits: []string{unitName}, MaxConversations: 50}})
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	s := &setting{conn: conn, cfg: cfg}
	fail := func(err error) (*setting, error) {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	applied, err := provision.Apply(ctx, conn, cfg)
	if err != nil {
		return fail(fmt.Errorf("provisioning: %w", err))
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return fail(err)
	}
	if err := provision.DemoAccounts(ctx, conn, applied, hash); err != nil {
		return fail(err)
	}
	keys := map[string]string{}
	for _, a := range applied {
		keys[a.Name] = a.WidgetKey
	}
	s.floodKey = keys[floodTenant]

	authc := authv1connect.NewAuthServiceClient(r.http, r.base, connect.WithInterceptors(headers{"X-Forwarded-For": "192.0.2.1"}))
	login := func(tenant, username string) (string, error) {
		res, err := authc.Login(ctx, connect.NewRequest(&authv1.LoginRequest{Tenant: tenant, Username: username, Password: password}))
		if err != nil {
			return "", fmt.Errorf("signing %s/%s in: %w", tenant, username, err)
		}
		return res.Msg.Token, nil
	}
	s.victim = VictimConfig{Base: r.base, WidgetKey: keys[victimTenant], Unit: unitName, Conversations: r.o.Conversations, Interval: r.o.Interval}
	for _, a := range agents {
		token, err := login(victimTenant, a)
		if err != nil {
			return fail(err)
		}
		s.victim.Agents = append(s.victim.Agents, token)
	}
	// The flooder's agent is kept online by the victim's clients: its conversations
	// need one to start.
	floodAgent, err := login(floodTenant, "flood-agent")
	if err != nil {
		return fail(err)
	}
	s.victim.Bystanders = []string{floodAgent}
	return s, nil
}

// setupFlooder starts the flooder's first conversations, once its agent is online, and
// gives it its own limits if it has any.
func (r *run) setupFlooder(ctx context.Context, s *setting) (FloodConfig, error) {
	fc := FloodConfig{Base: r.base, WidgetKey: s.floodKey, Unit: unitName, Rate: r.o.FloodRate, Clients: r.o.FloodClients,
		StartShare: r.o.FloodStartShare, HTTPConnections: 4}
	for i := range floodVisitors {
		c := r.chatFrom(visitorAddress(10_000+i), "")
		res, err := c.StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: s.floodKey, BusinessUnit: unitName, VisitorName: fmt.Sprintf("Visitor %d", 10_001+i)}))
		if err != nil {
			return fc, fmt.Errorf("starting a conversation of %s: %w", floodTenant, err)
		}
		fc.Visitors = append(fc.Visitors, Visitor{Conversation: res.Msg.Conversation.Id, Token: res.Msg.VisitorToken})
	}
	if r.o.FlooderLimits != nil {
		// Set once the flooder's first conversations are there, and read at once.
		s.cfg.Tenants[1].Spec.Limits = r.o.FlooderLimits
		if _, err := provision.Apply(ctx, s.conn, s.cfg); err != nil {
			return fc, fmt.Errorf("setting the flooder's limits: %w", err)
		}
		if err := r.reload(ctx); err != nil {
			return fc, err
		}
	}
	return fc, nil
}

// phase waits out a warmup, then measures for the duration.
func (r *run) phase(ctx context.Context, name string, fl *flood) Phase {
	select {
	case <-ctx.Done():
	case <-time.After(r.o.Warmup):
	}
	before := bench.SampleCPU(r.postmaster)
	victimBefore := r.victim.cpu()
	var floodBefore time.Duration
	if fl != nil {
		floodBefore = fl.cpu()
	}
	started := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(r.o.Duration):
	}
	took := time.Since(started)
	r.windows = append(r.windows, window{name: name, from: started.UnixNano(), to: started.UnixNano() + int64(took)})
	p := Phase{Name: name, CPU: before.Until(bench.SampleCPU(r.postmaster)), LoadAverage: loadAverage(),
		VictimCores: (r.victim.cpu() - victimBefore).Seconds() / took.Seconds()}
	if fl != nil {
		p.FloodCores = (fl.cpu() - floodBefore).Seconds() / took.Seconds()
	}
	return p
}

// finish computes a phase's figures from the messages sent in its window.
// The windows are those whose name is, or starts with, name.
func (r *run) finish(p *Phase, name string, samples []Sample) {
	var ws []window
	for _, x := range r.windows {
		if x.name == name || strings.HasPrefix(x.name, name) {
			ws = append(ws, x)
		}
	}
	in := func(t int64) bool {
		for _, w := range ws {
			if t >= w.from && t < w.to {
				return true
			}
		}
		return false
	}
	var lat, ack []int64
	for _, s := range samples {
		if !in(s.Sent) || s.Canceled {
			continue
		}
		p.Sent++
		switch {
		case s.Failed:
			p.SendErrors++
		case s.Delivered != 0:
			p.Delivered++
			lat = append(lat, s.Delivered-s.Sent)
			if s.Ack != 0 {
				ack = append(ack, s.Ack-s.Sent)
			}
		case s.Ack != 0:
			p.Undelivered++
		}
	}
	p.Latency, p.Ack = bench.LatencyOf(lat), bench.LatencyOf(ack)
}

// meanOf gives a pooled phase the means of its phases' cores and load averages (the
// phases are equally long).
func meanOf(p *Phase, phases []Phase, prefix string) {
	var n float64
	for _, x := range phases {
		if !strings.HasPrefix(x.Name, prefix) {
			continue
		}
		n++
		p.CPU.ProcessCores += x.CPU.ProcessCores
		p.VictimCores += x.VictimCores
		p.FloodCores += x.FloodCores
		p.LoadAverage += x.LoadAverage
		if x.CPU.PostgresCores < 0 || p.CPU.PostgresCores < 0 {
			p.CPU.PostgresCores = -1
		} else {
			p.CPU.PostgresCores += x.CPU.PostgresCores
		}
	}
	if n == 0 {
		return
	}
	p.CPU.ProcessCores /= n
	p.VictimCores /= n
	p.FloodCores /= n
	p.LoadAverage /= n
	if p.CPU.PostgresCores > 0 {
		p.CPU.PostgresCores /= n
	}
}

// judge compares the victim's latency under the flood with its latency alone, each
// pooled over its phases.
func judge(rep *Report) {
	a, f := rep.Alone.Latency, rep.Flooded.Latency
	if a.Samples == 0 || f.Samples == 0 {
		rep.Verdict, rep.Detail = bench.NotMeasured, "the run did not measure the victim both alone and under the flood"
		return
	}
	if a.P50Ms > 0 && a.P99Ms > 0 {
		rep.P50Rise, rep.P99Rise = f.P50Ms/a.P50Ms-1, f.P99Ms/a.P99Ms-1
	}
	var problems []string
	for _, p := range rep.Phases {
		if p.Undelivered > 0 || p.SendErrors > 0 || p.Delivered == 0 {
			problems = append(problems, fmt.Sprintf("%s: %d sent, %d delivered, %d undelivered, %d send errors", p.Name, p.Sent, p.Delivered, p.Undelivered, p.SendErrors))
		}
	}
	if rep.Flood.Refused == 0 {
		problems = append(problems, "the flood was never refused")
	}
	if rep.Flood.RefusedWithoutHint > 0 {
		problems = append(problems, fmt.Sprintf("%d refusals carried no retry hint", rep.Flood.RefusedWithoutHint))
	}
	rep.Detail = fmt.Sprintf("victim p50 %.2f -> %.2f ms (%+.0f%%), p99 %.2f -> %.2f ms (%+.0f%%) under the flood, phases pooled",
		a.P50Ms, f.P50Ms, rep.P50Rise*100, a.P99Ms, f.P99Ms, rep.P99Rise*100)
	switch {
	case len(problems) > 0:
		rep.Verdict = bench.Miss
		rep.Detail += "; " + strings.Join(problems, "; ")
	case rep.P50Rise <= Target && rep.P99Rise <= Target:
		rep.Verdict = bench.Pass
	default:
		rep.Verdict = bench.Miss
	}
}

// flood is a running flood: a worker process, or goroutines of this one.
type flood struct {
	stop func() (FloodStats, error)
	cpu  func() time.Duration
}

func (r *run) startFlood(ctx context.Context, cfg FloodConfig) (*flood, error) {
	if len(r.o.FloodCommand) == 0 {
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan FloodStats, 1)
		go func() { done <- Flood(fctx, cfg) }()
		return &flood{
			stop: func() (FloodStats, error) { cancel(); return <-done, nil },
			cpu:  func() time.Duration { return 0 },
		}, nil
	}
	args, priority := lowered(r.o.FloodCommand, r.o.Nice, r.o.Idle, r.o.Logf)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the flood worker: %w", err)
	}
	if err := json.NewEncoder(stdin).Encode(cfg); err != nil {
		cmd.Process.Kill() //nolint:errcheck
		return nil, fmt.Errorf("configuring the flood worker: %w", err)
	}
	pid := cmd.Process.Pid
	return &flood{
		stop: func() (FloodStats, error) {
			stdin.Close()
			err := cmd.Wait()
			var st FloodStats
			if jerr := json.Unmarshal(out.Bytes(), &st); jerr != nil {
				return st, fmt.Errorf("the flood worker's report (%v): %w", err, jerr)
			}
			st.Separate = true
			st.Priority = priority
			st.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
			return st, err
		},
		cpu: func() time.Duration { return processCPU(pid) },
	}, nil
}

// lowered is the command run at the flood worker's priority, and that priority in words:
// under SCHED_IDLE when idle, else at niceness nice (0 for as is). Without the program
// that lowers it, the command runs as is and logf says so.
func lowered(command []string, nice int, idle bool, logf func(string, ...any)) ([]string, string) {
	args := append([]string(nil), command...)
	prefix, priority := []string{"nice", "-n", strconv.Itoa(nice)}, "nice "+strconv.Itoa(nice)
	switch {
	case idle:
		prefix, priority = []string{"chrt", "--idle", "0"}, "SCHED_IDLE"
	case nice <= 0:
		return args, ""
	}
	path, err := exec.LookPath(prefix[0])
	if err != nil {
		logf("flood bench: no %s command; the flood runs at normal priority", prefix[0])
		return args, ""
	}
	return append(append([]string{path}, prefix[1:]...), args...), priority
}

// processCPU is the CPU time of a process (its threads; children it waited for).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, j := range []int{11, 12, 13, 14} {
		v, _ := strconv.ParseInt(f[j], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / 100
}

// loadAverage is the machine's one-minute load average.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func rateText(n int) string {
	if n == 0 {
		return "unbounded"
	}
	return strconv.Itoa(n)
}
