package supervisionbench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/bench"
	"github.com/switchboard-chat/switchboard/services/provision"
)

const (
	// fanOutUnit is the fan-out tenant's one business unit.
	fanOutUnit = "support"
	// agentCapacity is each agent's maxConversations, the most an AgentCapacity allows;
	// the tenant gets one agent per agentLoad conversations, so routing never runs out.
	agentCapacity = 50
	agentLoad     = 40
	// setupParallelism bounds the concurrent calls that set the phase up.
	setupParallelism = 32
	// assignTimeout bounds the wait for every conversation to be assigned and accepted,
	// and for every watch to start.
	assignTimeout = 2 * time.Minute
	// sendGrace is how long sends may take to finish after the measurement ends before
	// they are cancelled; drainTimeout how long acknowledged events may take to arrive.
	sendGrace    = 30 * time.Second
	drainTimeout = 10 * time.Second
)

// replies are what the agents type and send, a draft at a time.
var replies = []string{
	"Thanks for waiting, I have checked your order and it leaves our warehouse tomorrow morning.",
	"I am sorry the jacket arrived damaged, I have arranged a free replacement in the same size.",
	"Your refund was issued today; it usually shows on the card statement within three to five days.",
	"You can change the delivery address from the order page until the parcel is handed to the courier.",
	"The discount code expired last week, but I have applied the same reduction to your basket by hand.",
	"I can see two payments on the account; the second one is a pre-authorisation and will drop off.",
}

// fanOut is the fan-out phase's tenant, people, conversations and measurements.
type fanOut struct {
	e           *environment
	o           Options
	tenant      provision.Applied
	agents      []*agent
	supervisors []*supervisor
	convs       []*conversation
	watches     []*watch

	acceptMu  sync.Mutex
	accepted  map[string]*agent // conversation id → the agent that accepted it
	acceptWG  sync.WaitGroup
	acceptSem chan struct{}

	watchRestarts, duplicates atomic.Int64
	problems                  problems
}

// agent is one agent account with its AgentStream.
type agent struct {
	username string
	api      *apiClient
	token    string
	online   chan struct{}
	once     sync.Once
	done     chan struct{}
	// lastSeq is the last event seen per conversation, to resume a broken stream.
	lastSeq  map[string]int64
	restarts atomic.Int64
	lastErr  atomic.Value
}

// supervisor is one supervisor account.
type supervisor struct {
	username string
	api      *apiClient
	token    string
}

// conversation is one open conversation and what its agent sent in it.
type conversation struct {
	idx      int
	api      *apiClient // the visitor's
	id       string
	agent    *agent
	watchers int // watch streams on it

	mu     sync.Mutex
	events []sentEvent // indexed by the number in the message id or draft tag
}

// sentEvent is the life of one message or draft update, in nanoseconds of the run's
// clock (0: not yet).
type sentEvent struct {
	draft           bool
	due, start, ack int64
	failed          bool
	// received is when each watch stream of the conversation got it.
	received []int64
}

// watch is one supervisor's watch stream on one conversation.
type watch struct {
	sup   *supervisor
	conv  *conversation
	pos   int // in the conversation's watchers
	ready chan struct{}
	once  sync.Once
	last  int64 // last stored event's seq, to resume
}

func (e *environment) newFanOut() *fanOut {
	o := e.o
	f := &fanOut{e: e, o: o, accepted: map[string]*agent{}, acceptSem: make(chan struct{}, setupParallelism)}
	for i := range (o.Conversations + agentLoad - 1) / agentLoad {
		f.agents = append(f.agents, &agent{username: fmt.Sprintf("agent-%03d", i+1), api: e.clients[i%len(e.clients)],
			online: make(chan struct{}), done: make(chan struct{}), lastSeq: map[string]int64{}})
	}
	for i := range o.Supervisors {
		f.supervisors = append(f.supervisors, &supervisor{username: fmt.Sprintf("supervisor-%03d", i+1), api: e.clients[(i+1)%len(e.clients)]})
	}
	for i := range o.Conversations {
		f.convs = append(f.convs, &conversation{idx: i, api: e.clients[i%len(e.clients)]})
	}
	// Each supervisor watches distinct conversations at random, so some conversations are
	// watched by several supervisors and others by none.
	rng := rand.New(rand.NewPCG(o.Seed, 1))
	for _, s := range f.supervisors {
		for _, i := range rng.Perm(o.Conversations)[:o.WatchesPerSupervisor] {
			c := f.convs[i]
			f.watches = append(f.watches, &watch{sup: s, conv: c, pos: c.watchers, ready: make(chan struct{})})
			c.watchers++
		}
	}
	return f
}

// fanOut runs the fan-out phase; failures are returned with what was measured.
func (e *environment) fanOut(ctx context.Context) (*FanOut, error) {
	f := e.newFanOut()
	res := &FanOut{Conversations: f.o.Conversations, Agents: len(f.agents), AgentCapacity: agentCapacity, Supervisors: len(f.supervisors),
		WatchStreams: len(f.watches), PaceMs: float64(f.o.Pace) / 1e6, DraftsPerMessage: f.o.DraftsPerMessage,
		Warmup: f.o.Warmup.String(), Duration: f.o.Duration.String()}
	res.WatchedBy = map[int]int{}
	for _, c := range f.convs {
		if c.watchers > 0 {
			res.WatchedConversations++
			res.WatchedBy[c.watchers]++
			res.MaxWatchers = max(res.MaxWatchers, c.watchers)
		}
	}
	logf := func(format string, args ...any) { e.o.Logf("supervision bench: fan-out: "+format, args...) }

	agentCtx, stopAgents := context.WithCancel(context.WithoutCancel(ctx))
	watchCtx, stopWatches := context.WithCancel(context.WithoutCancel(ctx))
	var watchWG sync.WaitGroup
	defer func() {
		logf("ending the streams")
		stopWatches()
		watchWG.Wait()
		stopAgents()
		for _, a := range f.agents {
			<-a.done
		}
		f.acceptWG.Wait()
		for _, a := range f.agents {
			res.AgentStreamRestarts += int(a.restarts.Load())
		}
		res.WatchRestarts = int(f.watchRestarts.Load())
		res.DuplicateDeliveries = int(f.duplicates.Load())
		res.Problems = append(res.Problems, f.problems.list()...)
		if f.tenant.Name != "" && !f.o.Keep {
			f.waitAgentsOffline(ctx)
			if err := e.deleteTenant(ctx, f.tenant.Name); err != nil {
				res.Problems = append(res.Problems, err.Error())
			}
		}
	}()

	logf("setting up %d agents, %d conversations, %d supervisors watching %d each (%d streams on %d conversations)",
		len(f.agents), len(f.convs), len(f.supervisors), f.o.WatchesPerSupervisor, len(f.watches), res.WatchedConversations)
	start := time.Now()
	if err := f.setup(ctx, agentCtx); err != nil {
		return res, err
	}
	for _, w := range f.watches {
		watchWG.Add(1)
		go func() {
			defer watchWG.Done()
			f.runWatch(watchCtx, w)
		}()
	}
	deadline := time.After(assignTimeout)
	for _, w := range f.watches {
		select {
		case <-w.ready:
		case <-deadline:
			return res, fmt.Errorf("supervisor %s's watch of conversation %d did not start within %s (%s)", w.sup.username, w.conv.idx, assignTimeout, f.problems.summary())
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	res.SetupSeconds = time.Since(start).Seconds()

	signals, err := f.startSignals(ctx, watchCtx, &watchWG)
	if err != nil {
		return res, err
	}
	logf("agents send a message or a draft update every %s per conversation (%.0f actions/s); warmup %s, measured %s; every conversation crosses a handling-time warning after %s",
		f.o.Pace, float64(len(f.convs))/f.o.Pace.Seconds(), f.o.Warmup, f.o.Duration, signals.warning)
	err = f.measure(ctx, res)
	logf("waiting for the last signals")
	res.Signals = signals.finish(ctx)
	return res, err
}

// setup provisions the tenant, brings the agents online, starts the conversations, waits
// until every one is assigned and accepted, and signs the supervisors in.
func (f *fanOut) setup(ctx, agentCtx context.Context) error {
	e := f.e
	name := "supbench-fanout-" + randomSuffix()
	unit := v1alpha1.BusinessUnit{ObjectMeta: metav1.ObjectMeta{Name: fanOutUnit, Namespace: name},
		Spec: v1alpha1.BusinessUnitSpec{DisplayName: "Support", OfflineMessages: new(bool)}}
	for _, s := range f.supervisors {
		unit.Spec.Supervisors = append(unit.Spec.Supervisors, v1alpha1.Supervisor{Name: s.username, Permissions: []v1alpha1.Permission{v1alpha1.PermissionSupervise, v1alpha1.PermissionSuperviseOpenChats}})
	}
	cfg := &provision.Config{
		Tenants:       []v1alpha1.Tenant{{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.TenantSpec{DisplayName: "Switchboard supervision bench"}}},
		BusinessUnits: []v1alpha1.BusinessUnit{unit},
	}
	for _, a := range f.agents {
		cfg.AgentCapacities = append(cfg.AgentCapacities, v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Name: a.username, Namespace: name},
			Spec: v1alpha1.AgentCapacitySpec{Agent: a.username, BusinessUnits: []string{fanOutUnit}, MaxConversations: agentCapacity}})
	}
	applied, err := provision.Apply(ctx, e.owner, cfg)
	if err != nil {
		return fmt.Errorf("provisioning tenant %s: %w", name, err)
	}
	f.tenant = applied[0]
	if err := provision.DemoAccounts(ctx, e.owner, applied, e.passwordHash); err != nil {
		return fmt.Errorf("creating the accounts: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(setupParallelism)
	for _, a := range f.agents {
		g.Go(func() (err error) {
			if a.token, err = a.api.login(gctx, name, a.username); err != nil {
				return fmt.Errorf("agent %s signing in: %w", a.username, err)
			}
			return nil
		})
	}
	for _, s := range f.supervisors {
		g.Go(func() (err error) {
			if s.token, err = s.api.login(gctx, name, s.username); err != nil {
				return fmt.Errorf("supervisor %s signing in: %w", s.username, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, a := range f.agents {
		go f.runAgent(agentCtx, a)
	}
	onlineBy := time.After(30 * time.Second)
	for _, a := range f.agents {
		select {
		case <-a.online:
		case <-onlineBy:
			return fmt.Errorf("agent %s did not come online within 30s (last stream error: %v)", a.username, a.lastErr.Load())
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(setupParallelism)
	for _, c := range f.convs {
		g.Go(func() error {
			resp, err := c.api.chat.StartConversation(gctx, connect.NewRequest(&chatv1.StartConversationRequest{
				WidgetKey: f.tenant.WidgetKey, BusinessUnit: fanOutUnit, VisitorName: fmt.Sprintf("Visitor %d", c.idx+1)}))
			if err != nil {
				return fmt.Errorf("visitor %d starting a conversation: %w", c.idx+1, err)
			}
			c.id = resp.Msg.Conversation.GetId()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	deadline := time.Now().Add(assignTimeout)
	for {
		f.acceptMu.Lock()
		done := len(f.accepted)
		f.acceptMu.Unlock()
		if done >= len(f.convs) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d conversations were assigned and accepted within %s (%s)", done, len(f.convs), assignTimeout, f.problems.summary())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	f.acceptMu.Lock()
	defer f.acceptMu.Unlock()
	for _, c := range f.convs {
		if c.agent = f.accepted[c.id]; c.agent == nil {
			return fmt.Errorf("conversation %d was accepted by no bench agent", c.idx)
		}
	}
	return nil
}

// runAgent keeps the agent's stream open until ctx ends, resuming it after a break.
func (f *fanOut) runAgent(ctx context.Context, a *agent) {
	defer close(a.done)
	for {
		req := authorized(a.token, &chatv1.AgentStreamRequest{})
		for id, seq := range a.lastSeq {
			req.Msg.Resume = append(req.Msg.Resume, &chatv1.ConversationCursor{ConversationId: id, AfterSeq: seq})
		}
		stream, err := a.api.chat.AgentStream(ctx, req)
		if err == nil {
			for stream.Receive() {
				f.onAgentUpdate(ctx, a, stream.Msg())
			}
			err = stream.Err()
			stream.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("the server ended the stream")
		}
		f.problems.add("agent stream broke (resumed)", err)
		a.restarts.Add(1)
		a.lastErr.Store(err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// onAgentUpdate accepts new assignments and notes that the agent is online.
func (f *fanOut) onAgentUpdate(ctx context.Context, a *agent, m *chatv1.AgentStreamResponse) {
	switch u := m.Update.(type) {
	case *chatv1.AgentStreamResponse_Event:
		if ev := u.Event; ev.Seq > a.lastSeq[ev.ConversationId] && ev.GetDraft() == nil {
			a.lastSeq[ev.ConversationId] = ev.Seq
		}
	case *chatv1.AgentStreamResponse_Status:
		if u.Status == chatv1.AgentStatus_AGENT_STATUS_AVAILABLE {
			a.once.Do(func() { close(a.online) })
		}
	case *chatv1.AgentStreamResponse_Assignment:
		c := u.Assignment.GetConversation()
		switch u.Assignment.Change {
		case chatv1.AssignmentChange_ASSIGNMENT_CHANGE_OPEN:
			if c.GetState() == chatv1.ConversationState_CONVERSATION_STATE_ASSIGNED {
				f.accept(ctx, a, c.GetId())
			}
		case chatv1.AssignmentChange_ASSIGNMENT_CHANGE_ACCEPTED:
			f.markAccepted(a, c.GetId())
		}
	}
}

// accept takes a conversation up, off the stream's goroutine so that the stream keeps
// being read.
func (f *fanOut) accept(ctx context.Context, a *agent, conv string) {
	f.acceptWG.Add(1)
	go func() {
		defer f.acceptWG.Done()
		select {
		case f.acceptSem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-f.acceptSem }()
		if _, err := a.api.chat.AcceptConversation(ctx, authorized(a.token, &chatv1.AcceptConversationRequest{ConversationId: conv})); err != nil {
			if ctx.Err() == nil {
				f.problems.add("accepting a conversation", err)
			}
			return
		}
		f.markAccepted(a, conv)
	}()
}

func (f *fanOut) markAccepted(a *agent, conv string) {
	f.acceptMu.Lock()
	f.accepted[conv] = a
	f.acceptMu.Unlock()
}

// runWatch keeps one supervisor's watch of one conversation open until ctx ends,
// resuming after the last stored event it got if the stream breaks.
func (f *fanOut) runWatch(ctx context.Context, w *watch) {
	for {
		stream, err := w.sup.api.supervision.WatchConversation(ctx, authorized(w.sup.token,
			&supervisionv1.WatchConversationRequest{ConversationId: w.conv.id, AfterSeq: w.last}))
		if err == nil {
			for stream.Receive() {
				f.onWatched(w, stream.Msg().GetEvent())
			}
			err = stream.Err()
			stream.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("the server ended the stream")
		}
		f.problems.add("watch stream broke (resumed)", err)
		f.watchRestarts.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// onWatched records the arrival of a bench message or draft on a watch stream. The first
// event of a stream (the conversation's history) says the watch has started.
func (f *fanOut) onWatched(w *watch, ev *chatv1.Event) {
	now := f.e.now()
	w.once.Do(func() { close(w.ready) })
	n := -1
	switch {
	case ev.GetMessage() != nil:
		w.last = max(w.last, ev.Seq)
		if id, ok := strings.CutPrefix(ev.GetMessage().ClientMessageId, "m"); ok {
			n = atoiOr(id, -1)
		}
	case ev.GetDraft() != nil:
		if rest, ok := strings.CutPrefix(ev.GetDraft().Text, "[d"); ok {
			tag, _, _ := strings.Cut(rest, "]")
			n = atoiOr(tag, -1)
		}
	default:
		w.last = max(w.last, ev.Seq)
	}
	if n < 0 {
		return
	}
	c := w.conv
	c.mu.Lock()
	defer c.mu.Unlock()
	if n >= len(c.events) {
		return
	}
	if r := &c.events[n].received[w.pos]; *r == 0 {
		*r = now
	} else {
		f.duplicates.Add(1)
	}
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// act has the agent of c take its step-th action: a draft update with more of the reply,
// or, every DraftsPerMessage+1 steps, the reply itself.
func (f *fanOut) act(ctx context.Context, c *conversation, step int, due int64) error {
	cycle := f.o.DraftsPerMessage + 1
	k := step % cycle
	reply := replies[(c.idx+step/cycle)%len(replies)]
	draft := k < cycle-1

	c.mu.Lock()
	n := len(c.events)
	c.events = append(c.events, sentEvent{draft: draft, due: due, start: f.e.now(), received: make([]int64, c.watchers)})
	c.mu.Unlock()
	a := c.agent
	var err error
	if draft {
		text := fmt.Sprintf("[d%d] %s", n, reply[:len(reply)*(k+1)/cycle])
		_, err = a.api.chat.UpdateDraft(ctx, authorized(a.token, &chatv1.UpdateDraftRequest{ConversationId: c.id, Text: text}))
	} else {
		_, err = a.api.chat.SendMessage(ctx, authorized(a.token, &chatv1.SendMessageRequest{ConversationId: c.id, ClientMessageId: "m" + strconv.Itoa(n), Text: reply}))
	}
	now := f.e.now()
	c.mu.Lock()
	if err != nil {
		c.events[n].failed = true
	} else {
		c.events[n].ack = now
	}
	c.mu.Unlock()
	return err
}

// measure runs the agents' actions open loop, each conversation every Pace from a random
// phase, whether or not its previous action was answered, then waits for acknowledged
// events to reach every watch and computes the results.
func (f *fanOut) measure(ctx context.Context, res *FanOut) error {
	e := f.e
	sendCtx, cancelSends := context.WithCancel(ctx)
	defer cancelSends()
	var loops, inflight sync.WaitGroup
	var errs problems
	pace := int64(f.o.Pace)
	rng := rand.New(rand.NewPCG(f.o.Seed, 2))
	start := e.now()
	from := start + int64(f.o.Warmup)
	to := from + int64(f.o.Duration)
	for _, c := range f.convs {
		offset := rng.Int64N(pace)
		loops.Add(1)
		go func() {
			defer loops.Done()
			step := 0
			for due := start + offset; due < to; due += pace {
				if !sleepUntil(sendCtx, e, due) {
					return
				}
				inflight.Add(1)
				go func(step int) {
					defer inflight.Done()
					if err := f.act(sendCtx, c, step, due); err != nil && sendCtx.Err() == nil {
						errs.add("sending a message or draft", err)
					}
				}(step)
				step++
			}
		}()
	}
	if !sleepUntil(ctx, e, from) {
		return ctx.Err()
	}
	before := bench.SampleCPU(e.postmaster)
	if !sleepUntil(ctx, e, to) {
		return ctx.Err()
	}
	res.CPU = before.Until(bench.SampleCPU(e.postmaster))
	loops.Wait()

	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(sendGrace):
		res.Problems = append(res.Problems, fmt.Sprintf("sends still unanswered %s after the measurement ended were cancelled", sendGrace))
		cancelSends()
		<-done
	}
	drainStart := time.Now()
	for f.undelivered() > 0 && time.Since(drainStart) < drainTimeout {
		if !sleepUntil(ctx, e, e.now()+int64(10*time.Millisecond)) {
			return ctx.Err()
		}
	}
	res.DrainMs = float64(time.Since(drainStart)) / 1e6
	res.Problems = append(res.Problems, errs.list()...)

	var lat [2][]int64 // messages, drafts
	var ackLat [2][]int64
	stats := [2]*EventStats{{}, {}}
	var maxLag int64
	for _, c := range f.convs {
		c.mu.Lock()
		for _, ev := range c.events {
			kind := 0
			if ev.draft {
				kind = 1
			}
			s := stats[kind]
			measured := ev.start >= from && ev.start < to
			if measured {
				s.Sent++
				maxLag = max(maxLag, ev.start-ev.due)
				if ev.failed {
					s.SendErrors++
				} else if ev.ack != 0 {
					ackLat[kind] = append(ackLat[kind], ev.ack-ev.start)
				}
			}
			if ev.ack == 0 {
				continue
			}
			for _, r := range ev.received {
				switch {
				case r == 0:
					s.Undelivered++
				case measured:
					lat[kind] = append(lat[kind], r-ev.start)
				}
			}
			if measured && len(ev.received) > 0 {
				s.Watched++
			}
		}
		c.mu.Unlock()
	}
	for kind, s := range stats {
		s.Deliveries = len(lat[kind])
		s.Latency = bench.LatencyOf(lat[kind])
		s.AckLatency = bench.LatencyOf(ackLat[kind])
		s.Rate = float64(s.Sent) / f.o.Duration.Seconds()
	}
	res.Messages, res.Drafts = *stats[0], *stats[1]
	res.MaxClientLagMs = float64(maxLag) / 1e6
	if res.Messages.Deliveries == 0 || res.Drafts.Deliveries == 0 {
		return fmt.Errorf("no message or no draft reached a watching supervisor in the measured window (%s)", errs.summary())
	}
	return nil
}

// undelivered counts acknowledged events not yet received by one of their watches.
func (f *fanOut) undelivered() int {
	n := 0
	for _, c := range f.convs {
		if c.watchers == 0 {
			continue
		}
		c.mu.Lock()
		for _, ev := range c.events {
			if ev.ack == 0 {
				continue
			}
			for _, r := range ev.received {
				if r == 0 {
					n++
				}
			}
		}
		c.mu.Unlock()
	}
	return n
}

// waitAgentsOffline waits for the server to take the agents offline, so nothing is left
// writing when the tenant is removed.
func (f *fanOut) waitAgentsOffline(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		var online int
		if err := f.e.owner.QueryRow(ctx, `SELECT count(*) FROM agents WHERE tenant_id = $1 AND status <> 'offline'`, f.tenant.ID).Scan(&online); err != nil || online == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sleepUntil sleeps until the run's clock reads t; it reports false if ctx ended first.
func sleepUntil(ctx context.Context, e *environment, t int64) bool {
	d := time.Duration(t - e.now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
