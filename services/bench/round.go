package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/store"
)

// agentCapacity is each bench agent's maxConversations, the most an AgentCapacity allows.
const agentCapacity = 50

// setupParallelism bounds the concurrent calls that set a round up and tear it down.
const setupParallelism = 32

// assignTimeout bounds the wait for every conversation to be assigned and accepted.
const assignTimeout = 2 * time.Minute

// unitName is the bench tenant's one business unit.
const unitName = "support"

// round is one concurrency's tenant, agents, conversations and measurements.
type round struct {
	env    *environment
	o      Options
	n      int
	epoch  time.Time
	tenant provision.Applied
	agents []*agent
	convs  []*conversation

	// acked counts messages whose send was acknowledged; ackedDelivered those of them
	// that an agent stream delivered too. They are equal once everything arrived.
	acked, ackedDelivered, duplicates atomic.Int64

	acceptMu  sync.Mutex
	accepted  map[string]bool
	acceptWG  sync.WaitGroup
	acceptSem chan struct{}
	problems  problems
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
	restarts int
	lastErr  error
}

// conversation is one visitor's conversation and the messages it sent.
type conversation struct {
	idx    int
	prefix string // of client message ids: "<idx>-"
	api    *apiClient
	id     string
	token  string

	mu   sync.Mutex
	msgs []message // indexed by the number in the client message id
}

// message is the life of one sent message, in nanoseconds since the round's epoch
// (0: not yet).
type message struct {
	start, ack, delivered int64
	phase                 uint8
	failed                bool
}

func (e *environment) newRound(n int) *round {
	r := &round{env: e, o: e.o, n: n, epoch: time.Now(), accepted: map[string]bool{}, acceptSem: make(chan struct{}, setupParallelism)}
	for i := range (n + agentCapacity - 1) / agentCapacity {
		r.agents = append(r.agents, &agent{
			username: fmt.Sprintf("agent-%03d", i+1),
			api:      e.clients[i%len(e.clients)],
			online:   make(chan struct{}),
			done:     make(chan struct{}),
			lastSeq:  map[string]int64{},
		})
	}
	for i := range n {
		r.convs = append(r.convs, &conversation{idx: i, prefix: strconv.Itoa(i) + "-", api: e.clients[i%len(e.clients)]})
	}
	return r
}

func (r *round) now() int64 { return int64(time.Since(r.epoch)) }

// round measures one concurrency; failures are written into the result.
func (e *environment) round(ctx context.Context, n int) (res Round) {
	r := e.newRound(n)
	res = Round{Conversations: n, Agents: len(r.agents)}
	logf := func(format string, args ...any) { e.o.Logf("bench: N=%d: "+format, append([]any{n}, args...)...) }
	fail := func(what string, err error) {
		res.Errors = append(res.Errors, what+": "+err.Error())
		logf("%s failed: %v", what, err)
	}

	agentCtx, stopAgents := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		logf("closing conversations and streams, removing the tenant")
		r.teardown(ctx, stopAgents, &res)
	}()

	logf("setting up a tenant with %d agents and %d conversations", len(r.agents), n)
	start := time.Now()
	if err := r.setup(ctx, agentCtx); err != nil {
		fail("setup", err)
		return res
	}
	res.SetupSeconds = time.Since(start).Seconds()

	logf("throughput phase: every visitor sends back to back (warmup %s, measured %s)", e.o.Warmup, e.o.Duration)
	tp, err := r.throughput(ctx)
	res.Throughput = tp
	if err != nil {
		fail("throughput phase", err)
	} else {
		logf("throughput: %.0f msgs/s, p50 %.1f ms, p99 %.1f ms", tp.Rate, tp.Latency.P50Ms, tp.Latency.P99Ms)
	}
	if ctx.Err() != nil {
		return res
	}

	logf("raw INSERT phase: %d goroutines commit single-row INSERTs through a pool of %d", n, e.o.MaxConns)
	raw, err := r.rawInsert(ctx)
	res.RawInsert = raw
	if err != nil {
		fail("raw INSERT phase", err)
	} else {
		logf("raw INSERT: %.0f commits/s", raw.Rate)
	}
	if tp != nil && raw != nil && raw.Rate > 0 {
		res.Ratio = tp.Rate / raw.Rate
	}
	if ctx.Err() != nil {
		return res
	}

	if tp == nil || tp.Rate <= 0 {
		res.Errors = append(res.Errors, "paced phase skipped: the throughput phase measured no rate")
		return res
	}
	logf("paced phase: %.0f msgs/s, half the measured throughput, spread over the conversations", tp.Rate/2)
	paced, err := r.paced(ctx, tp.Rate/2)
	res.Paced = paced
	if err != nil {
		fail("paced phase", err)
	} else {
		logf("paced: %.0f msgs/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms", paced.Rate, paced.Latency.P50Ms, paced.Latency.P99Ms, paced.Latency.MaxMs)
	}
	if ctx.Err() != nil {
		return res
	}

	steadyRate := float64(r.n) / e.o.SteadyInterval.Seconds()
	logf("steady phase: every conversation sends every %s (%.0f msgs/s)", e.o.SteadyInterval, steadyRate)
	steady, err := r.paced(ctx, steadyRate)
	res.Steady = steady
	if err != nil {
		fail("steady phase", err)
	} else {
		logf("steady: %.0f msgs/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms", steady.Rate, steady.Latency.P50Ms, steady.Latency.P99Ms, steady.Latency.MaxMs)
	}
	return res
}

// setup provisions the tenant, brings the agents online, starts the conversations and
// waits until every one is assigned and accepted.
func (r *round) setup(ctx, agentCtx context.Context) error {
	e := r.env
	name := fmt.Sprintf("bench-n%d-%s", r.n, randomSuffix())
	cfg := &provision.Config{
		Tenants: []v1alpha1.Tenant{{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.TenantSpec{DisplayName: "Switchboard bench"}}},
		BusinessUnits: []v1alpha1.BusinessUnit{{ObjectMeta: metav1.ObjectMeta{Name: unitName, Namespace: name},
			Spec: v1alpha1.BusinessUnitSpec{DisplayName: "Support", OfflineMessages: new(bool)}}},
	}
	for _, a := range r.agents {
		cfg.AgentCapacities = append(cfg.AgentCapacities, v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Name: a.username, Namespace: name},
			Spec: v1alpha1.AgentCapacitySpec{Agent: a.username, BusinessUnits: []string{unitName}, MaxConversations: agentCapacity}})
	}
	applied, err := provision.Apply(ctx, e.owner, cfg)
	if err != nil {
		return fmt.Errorf("provisioning tenant %s: %w", name, err)
	}
	r.tenant = applied[0]
	if err := provision.DemoAccounts(ctx, e.owner, applied, e.passwordHash); err != nil {
		return fmt.Errorf("creating the agents' accounts: %w", err)
	}

	// Agents sign in and open their streams, which brings them online.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(setupParallelism)
	for _, a := range r.agents {
		g.Go(func() error {
			resp, err := a.api.auth.Login(gctx, connect.NewRequest(&authv1.LoginRequest{Tenant: name, Username: a.username, Password: benchPassword}))
			if err != nil {
				return fmt.Errorf("agent %s signing in: %w", a.username, err)
			}
			a.token = resp.Msg.Token
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, a := range r.agents {
		go r.runAgent(agentCtx, a)
	}
	onlineBy := time.After(30 * time.Second)
	for _, a := range r.agents {
		select {
		case <-a.online:
		case <-onlineBy:
			return fmt.Errorf("agent %s did not come online within 30s (last stream error: %v)", a.username, r.lastError(a))
		case <-ctx.Done():
			return ctx.Err()
		}
	}

	// Visitors start their conversations; routing assigns them to the agents.
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(setupParallelism)
	for _, c := range r.convs {
		g.Go(func() error {
			resp, err := c.api.chat.StartConversation(gctx, connect.NewRequest(&chatv1.StartConversationRequest{
				WidgetKey: r.tenant.WidgetKey, BusinessUnit: unitName, VisitorName: fmt.Sprintf("Visitor %d", c.idx+1)}))
			if err != nil {
				return fmt.Errorf("visitor %d starting a conversation: %w", c.idx+1, err)
			}
			c.id, c.token = resp.Msg.Conversation.GetId(), resp.Msg.VisitorToken
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	deadline := time.Now().Add(assignTimeout)
	for {
		r.acceptMu.Lock()
		done := len(r.accepted)
		r.acceptMu.Unlock()
		if done >= r.n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d conversations were assigned and accepted within %s (%s)", done, r.n, assignTimeout, r.problems.summary())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// runAgent keeps the agent's stream open until ctx ends, resuming it after a break.
func (r *round) runAgent(ctx context.Context, a *agent) {
	defer close(a.done)
	for {
		req := connect.NewRequest(&chatv1.AgentStreamRequest{})
		for id, seq := range a.lastSeq {
			req.Msg.Resume = append(req.Msg.Resume, &chatv1.ConversationCursor{ConversationId: id, AfterSeq: seq})
		}
		req.Header().Set("Authorization", "Bearer "+a.token)
		stream, err := a.api.chat.AgentStream(ctx, req)
		if err == nil {
			for stream.Receive() {
				r.onAgentUpdate(ctx, a, stream.Msg())
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
		r.problems.add("agent stream broke (resumed)", err)
		r.acceptMu.Lock()
		a.restarts++
		a.lastErr = err
		r.acceptMu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (r *round) lastError(a *agent) error {
	r.acceptMu.Lock()
	defer r.acceptMu.Unlock()
	return a.lastErr
}

// onAgentUpdate handles one update of an agent stream: it times visitors' messages,
// accepts new assignments and notes that the agent is online.
func (r *round) onAgentUpdate(ctx context.Context, a *agent, m *chatv1.AgentStreamResponse) {
	now := r.now()
	switch u := m.Update.(type) {
	case *chatv1.AgentStreamResponse_Event:
		ev := u.Event
		if ev.Seq > a.lastSeq[ev.ConversationId] {
			a.lastSeq[ev.ConversationId] = ev.Seq
		}
		if msg := ev.GetMessage(); msg != nil && ev.GetAuthor().GetKind() == chatv1.AuthorKind_AUTHOR_KIND_VISITOR {
			r.delivered(msg.ClientMessageId, now)
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
				r.accept(ctx, a, c.GetId())
			}
		case chatv1.AssignmentChange_ASSIGNMENT_CHANGE_ACCEPTED:
			r.markAccepted(c.GetId())
		}
	}
}

// accept takes a conversation up, off the stream's goroutine so that the stream keeps
// being read.
func (r *round) accept(ctx context.Context, a *agent, conv string) {
	r.acceptWG.Add(1)
	go func() {
		defer r.acceptWG.Done()
		select {
		case r.acceptSem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-r.acceptSem }()
		req := connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv})
		req.Header().Set("Authorization", "Bearer "+a.token)
		if _, err := a.api.chat.AcceptConversation(ctx, req); err != nil {
			if ctx.Err() == nil {
				r.problems.add("accepting a conversation", err)
			}
			return
		}
		r.markAccepted(conv)
	}()
}

func (r *round) markAccepted(conv string) {
	r.acceptMu.Lock()
	r.accepted[conv] = true
	r.acceptMu.Unlock()
}

// delivered records that an agent stream delivered the message with this client id.
func (r *round) delivered(clientID string, at int64) {
	idx, n, ok := parseClientID(clientID)
	if !ok || idx >= len(r.convs) {
		return
	}
	c := r.convs[idx]
	c.mu.Lock()
	if n < len(c.msgs) {
		m := &c.msgs[n]
		if m.delivered == 0 {
			m.delivered = at
			if m.ack != 0 {
				r.ackedDelivered.Add(1)
			}
		} else {
			r.duplicates.Add(1)
		}
	}
	c.mu.Unlock()
}

func parseClientID(s string) (idx, n int, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	idx, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	return idx, n, err1 == nil && err2 == nil && idx >= 0 && n >= 0
}

// teardown closes the conversations, ends the agent streams and removes the tenant with
// everything it holds, so that rounds do not weigh on each other.
func (r *round) teardown(ctx context.Context, stopAgents context.CancelFunc, res *Round) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var closeErrs atomic.Int64
	var firstErr atomic.Value
	g := new(errgroup.Group)
	g.SetLimit(setupParallelism)
	for _, c := range r.convs {
		if c.token == "" {
			continue
		}
		g.Go(func() error {
			req := connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: c.id, Reason: "benchmark over"})
			req.Header().Set("Authorization", "Bearer "+c.token)
			if _, err := c.api.chat.CloseConversation(ctx, req); err != nil {
				closeErrs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
			return nil
		})
	}
	g.Wait() //nolint:errcheck // errors are counted above
	if n := closeErrs.Load(); n > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("closing conversations: %d failed (first: %v)", n, firstErr.Load()))
	}
	stopAgents()
	for _, a := range r.agents {
		<-a.done
	}
	r.acceptWG.Wait()
	for _, a := range r.agents {
		res.StreamRestarts += a.restarts
	}
	res.Notes = append(res.Notes, r.problems.list()...)

	if r.tenant.Name == "" {
		return
	}
	// Wait for the server to take the agents offline, so nothing is left writing.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var online int
		if err := r.env.owner.QueryRow(ctx, `SELECT count(*) FROM agents WHERE tenant_id = $1 AND status <> 'offline'`, r.tenant.ID).Scan(&online); err != nil || online == 0 {
			break
		}
	}
	if err := pgx.BeginFunc(ctx, r.env.owner, func(tx pgx.Tx) error { return store.DeleteTenant(ctx, tx, r.tenant.Name) }); err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("removing tenant %s: %v", r.tenant.Name, err))
	}
}

// problems counts non-fatal errors by what was being done, keeping the first of each.
type problems struct {
	mu     sync.Mutex
	order  []string
	counts map[string]int
	first  map[string]string
}

func (p *problems) add(what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counts == nil {
		p.counts, p.first = map[string]int{}, map[string]string{}
	}
	if p.counts[what] == 0 {
		p.order = append(p.order, what)
		p.first[what] = err.Error()
	}
	p.counts[what]++
}

func (p *problems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, what := range p.order {
		out = append(out, fmt.Sprintf("%s: %d times (first: %s)", what, p.counts[what], p.first[what]))
	}
	return out
}

func (p *problems) summary() string {
	if l := p.list(); len(l) > 0 {
		return strings.Join(l, "; ")
	}
	return "no errors seen"
}
