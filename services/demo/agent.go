package demo

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
)

// Pace of an agent, at Speed 1.
const (
	// An agent takes up a conversation routed to it after a moment.
	acceptMin, acceptMax = 1 * time.Second, 3 * time.Second
	// It reads the visitor's message, then types its answer in a few steps.
	readMin, readMax = 1 * time.Second, 3 * time.Second
	typeMin, typeMax = 700 * time.Millisecond, 1500 * time.Millisecond
	// A conversation whose visitor said nothing for visitorSilence is closed.
	visitorSilence = 60 * time.Second
	// Now and then (awayChance after each presenceMin–Max) an agent steps away.
	presenceMin, presenceMax = 40 * time.Second, 120 * time.Second
	awayMin, awayMax         = 10 * time.Second, 40 * time.Second
	awayChance               = 0.3
	// After an answer, an agent hands the conversation to another unit with transferChance.
	transferChance = 0.06
)

// agent plays one agent: it stays online through its agent stream and works on the
// conversations routed to it, one goroutine per conversation.
type agent struct {
	s    *sim
	api  api
	name string
	log  *slog.Logger
	// rng is used by the goroutine of run only; workers get their own.
	rng   *rand.Rand
	token atomic.Pointer[string]
	// leaving is set while the agent ends its shift: it no longer makes itself available.
	leaving atomic.Bool
	// displayName is set by the first sign-in, before any worker starts.
	displayName string

	mu sync.Mutex
	// convs are the conversations the agent holds, by id.
	convs   map[string]*agentConv
	workers sync.WaitGroup
	// working counts the workers running: an agent ending its shift waits for them.
	working atomic.Int32
}

// agentConv is a conversation an agent holds, as its stream told it.
type agentConv struct {
	id string
	// lastSeq is the last stored event the stream delivered, and handedOver is set once
	// it delivered a transfer; both guarded by agent.mu.
	lastSeq    int64
	handedOver bool
	// updates carries the conversation's news to its worker; the stream's goroutine
	// sends and closes it when the conversation is closed or taken away.
	updates chan convUpdate
}

// convUpdate is news of a conversation for its worker.
type convUpdate struct {
	// visitor is a message of the visitor.
	visitor string
	// reopened is set when the conversation is routed to the agent again (after a
	// transfer, or on a fresh stream); unit is then where it is now.
	reopened bool
	unit     string
}

func newAgent(s *sim, name string, rng *rand.Rand) *agent {
	return &agent{s: s, api: s.connection(true), name: name, log: s.log.With("agent", name), rng: rng, convs: map[string]*agentConv{}}
}

// run works shift after shift until ctx ends: one long shift without Options.Shift.
func (a *agent) run(ctx context.Context) {
	defer a.api.close()
	defer a.workers.Wait()
	for a.workShift(ctx) {
		if !a.s.pause(ctx, a.rng, a.s.o.Break/2, a.s.o.Break*3/2) {
			return
		}
	}
}

// workShift signs in and keeps the agent's stream open, reconnecting with backoff when
// it fails, until ctx ends (false) or the shift does (true): the agent has then closed
// its conversations and signed out.
func (a *agent) workShift(ctx context.Context) bool {
	a.leaving.Store(false)
	// online is the stream's life; the conversations' workers live on ctx, so that they
	// carry on across a reconnection.
	online, leave := context.WithCancel(ctx)
	var shift sync.WaitGroup
	defer shift.Wait()
	defer leave()
	if a.s.o.Shift > 0 {
		length := a.s.between(a.rng, a.s.o.Shift/2, a.s.o.Shift*3/2)
		shift.Go(func() {
			if sleep(online, length) {
				a.endShift(ctx)
				leave()
			}
		})
	}
	var b backoff
	for {
		if a.token.Load() == nil {
			if err := a.login(online); err != nil {
				if online.Err() != nil {
					break
				}
				d := b.next()
				if connect.CodeOf(err) == connect.CodeUnavailable {
					a.log.Debug("agent cannot sign in yet", "err", err, "retry_in", d)
				} else {
					a.log.Info("agent cannot sign in", "code", connect.CodeOf(err).String(), "err", err, "retry_in", d)
				}
				if !sleep(online, d) {
					break
				}
				continue
			}
		}
		started := time.Now()
		err := a.follow(online, ctx)
		if online.Err() != nil {
			break
		}
		if connect.CodeOf(err) == connect.CodeUnauthenticated {
			a.token.Store(nil)
		}
		if time.Since(started) > time.Minute {
			b.reset()
		}
		d := b.next()
		a.log.Info("agent stream ended; reconnecting", "code", connect.CodeOf(err).String(), "err", err, "retry_in", d)
		if !sleep(online, d) {
			break
		}
	}
	// online ended: with ctx, or because endShift is done. The agent signs out only now,
	// its stream ended: signing out ends a stream that is still open with Unauthenticated.
	if ctx.Err() != nil {
		return false
	}
	if a.leaving.Load() && a.token.Load() != nil {
		a.logout(ctx)
	}
	return true
}

// endShift stops taking conversations and closes those the agent still holds, as an agent
// leaving for the day does; workShift then ends the stream and signs out. The stream stays
// open meanwhile, so that the workers hear their conversations close.
func (a *agent) endShift(ctx context.Context) {
	if a.token.Load() == nil {
		return // not signed in (the server is down): nothing to close, nobody to sign out
	}
	a.log.Info("agent ends its shift")
	a.leaving.Store(true)
	if !a.setStatus(ctx, chatv1.AgentStatus_AGENT_STATUS_AWAY) {
		return
	}
	// A conversation routed just before the agent stepped away comes in after the first
	// round, and a close takes a moment to come back on the stream.
	for range shiftEndRounds {
		held := a.held()
		if len(held) == 0 {
			break
		}
		for _, id := range held {
			_ = a.s.call(ctx, a.log.With("conversation", id), "agent closes conversation at the end of its shift", func(ctx context.Context) error {
				req := connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: id, Reason: "end of the agent's shift"})
				a.authorize(req)
				_, err := a.api.chat.CloseConversation(ctx, req)
				return err
			})
		}
		if !sleep(ctx, shiftEndWait) {
			return
		}
	}
	// The workers of the closed conversations stop at their next call; signing out
	// before would make that call unauthenticated.
	for deadline := time.Now().Add(shiftEndDrain); a.working.Load() > 0 && time.Now().Before(deadline); {
		if !sleep(ctx, shiftEndWait/5) {
			return
		}
	}
}

// Ending a shift: rounds of closing what the agent holds, the wait after each, and the
// longest wait for the workers to stop.
const (
	shiftEndRounds = 3
	shiftEndWait   = 500 * time.Millisecond
	shiftEndDrain  = 10 * time.Second
)

// held lists the conversations the agent holds.
func (a *agent) held() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Collect(maps.Keys(a.convs))
}

func (a *agent) logout(ctx context.Context) {
	_ = a.s.call(ctx, a.log, "agent signs out", func(ctx context.Context) error {
		req := connect.NewRequest(&authv1.LogoutRequest{})
		a.authorize(req)
		_, err := a.api.auth.Logout(ctx, req)
		return err
	})
	a.token.Store(nil)
}

func (a *agent) login(ctx context.Context) error {
	res, err := a.api.auth.Login(ctx, connect.NewRequest(&authv1.LoginRequest{
		Tenant: a.s.o.Tenant, Username: a.name, Password: a.s.o.Password}))
	if err != nil {
		return err
	}
	token := res.Msg.Token
	a.token.Store(&token)
	if a.displayName == "" {
		a.displayName = res.Msg.GetAccount().GetDisplayName()
		if a.displayName == "" {
			a.displayName = a.name
		}
	}
	a.log.Debug("agent signed in")
	return nil
}

// authorize sets the agent's bearer token on a request's header.
func (a *agent) authorize(r interface{ Header() http.Header }) {
	if t := a.token.Load(); t != nil {
		bearer(r.Header(), *t)
	}
}

// follow opens the agent stream, which keeps the agent online, and handles what it
// brings until it ends. It resumes each open conversation after its last event. The
// stream lives on ctx, the workers of the conversations it brings on work.
func (a *agent) follow(ctx, work context.Context) error {
	sctx, cancel := context.WithCancel(ctx)
	req := connect.NewRequest(&chatv1.AgentStreamRequest{Resume: a.cursors()})
	a.authorize(req)
	stream, err := a.api.chat.AgentStream(sctx, req)
	if err != nil {
		cancel()
		return err
	}
	var presence sync.WaitGroup
	defer func() {
		// Cancel first: closing a stream that is still open would wait for its end.
		cancel()
		stream.Close()
		presence.Wait()
	}()
	online := false
	for stream.Receive() {
		switch u := stream.Msg().Update.(type) {
		case *chatv1.AgentStreamResponse_Status:
			a.log.Debug("agent status", "status", u.Status.String())
			if !online {
				// The stream's first message: the agent is online.
				online = true
				rng := a.child()
				presence.Go(func() { a.keepPresence(sctx, rng) })
			}
		case *chatv1.AgentStreamResponse_Assignment:
			a.assignment(work, u.Assignment)
		case *chatv1.AgentStreamResponse_Event:
			a.event(u.Event)
		}
	}
	return stream.Err()
}

// child is a source of choices for a goroutine the agent starts.
func (a *agent) child() *rand.Rand {
	return rand.New(rand.NewPCG(a.rng.Uint64(), a.rng.Uint64()))
}

func (a *agent) cursors() []*chatv1.ConversationCursor {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*chatv1.ConversationCursor
	for id, c := range a.convs {
		// Without a cursor the stream replays nothing, which is right for a
		// conversation the agent has seen no event of.
		if c.lastSeq > 0 {
			out = append(out, &chatv1.ConversationCursor{ConversationId: id, AfterSeq: c.lastSeq})
		}
	}
	return out
}

// keepPresence makes the agent available, then now and then steps away for a while,
// until the stream ends.
func (a *agent) keepPresence(ctx context.Context, rng *rand.Rand) {
	if !a.setStatus(ctx, chatv1.AgentStatus_AGENT_STATUS_AVAILABLE) {
		return
	}
	for a.s.pause(ctx, rng, presenceMin, presenceMax) {
		if rng.Float64() >= awayChance {
			continue
		}
		if !a.setStatus(ctx, chatv1.AgentStatus_AGENT_STATUS_AWAY) ||
			!a.s.pause(ctx, rng, awayMin, awayMax) ||
			!a.setStatus(ctx, chatv1.AgentStatus_AGENT_STATUS_AVAILABLE) {
			return
		}
	}
}

// setStatus sets the agent's status; false means ctx ended. An agent ending its shift
// stays away.
func (a *agent) setStatus(ctx context.Context, status chatv1.AgentStatus) bool {
	if status == chatv1.AgentStatus_AGENT_STATUS_AVAILABLE && a.leaving.Load() {
		return ctx.Err() == nil
	}
	_ = a.s.call(ctx, a.log.With("status", status.String()), "agent sets status", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.SetStatusRequest{Status: status})
		a.authorize(req)
		_, err := a.api.chat.SetStatus(ctx, req)
		return err
	})
	return ctx.Err() == nil
}

// assignment starts work on a conversation routed to the agent and tells the worker of a
// conversation closed or taken away. It runs on the stream's goroutine.
func (a *agent) assignment(ctx context.Context, as *chatv1.Assignment) {
	conv := as.GetConversation()
	id := conv.GetId()
	a.log.Debug("agent assignment", "conversation", id, "change", as.Change.String())
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.convs[id]
	switch as.Change {
	case chatv1.AssignmentChange_ASSIGNMENT_CHANGE_OPEN, chatv1.AssignmentChange_ASSIGNMENT_CHANGE_ACCEPTED:
		if c == nil {
			c = &agentConv{id: id, updates: make(chan convUpdate, 32)}
			a.convs[id] = c
			rng := a.child()
			accept := conv.GetState() == chatv1.ConversationState_CONVERSATION_STATE_ASSIGNED
			a.working.Add(1)
			a.workers.Go(func() {
				defer a.working.Add(-1)
				a.work(ctx, c, conv.GetBusinessUnit(), accept, rng)
			})
			return
		}
		if as.Change == chatv1.AssignmentChange_ASSIGNMENT_CHANGE_OPEN {
			a.notify(c, convUpdate{reopened: true, unit: conv.GetBusinessUnit()})
		}
	case chatv1.AssignmentChange_ASSIGNMENT_CHANGE_REMOVED, chatv1.AssignmentChange_ASSIGNMENT_CHANGE_CLOSED:
		if c != nil {
			close(c.updates)
			delete(a.convs, id)
		}
	}
}

// event passes a visitor's message on to its conversation's worker. It runs on the
// stream's goroutine.
func (a *agent) event(e *chatv1.Event) {
	a.mu.Lock()
	c := a.convs[e.GetConversationId()]
	stored := e.GetMessage() != nil || e.GetSystem() != nil
	if c == nil || stored && e.Seq <= c.lastSeq {
		a.mu.Unlock()
		return
	}
	if stored {
		c.lastSeq = e.Seq
	}
	if e.GetSystem().GetKind() == chatv1.SystemEventKind_SYSTEM_EVENT_KIND_TRANSFERRED {
		c.handedOver = true
	}
	if m := e.GetMessage(); m != nil && e.GetAuthor().GetKind() == chatv1.AuthorKind_AUTHOR_KIND_VISITOR {
		a.notify(c, convUpdate{visitor: m.Text})
	}
	a.mu.Unlock()
}

// notify hands news to a worker without ever blocking the stream. Called with a.mu held.
func (a *agent) notify(c *agentConv, u convUpdate) {
	select {
	case c.updates <- u:
	default:
		a.log.Debug("agent is too busy to notice an update", "conversation", c.id)
	}
}

// forget drops a conversation the worker is done with, unless the stream already did.
func (a *agent) forget(c *agentConv) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.convs[c.id] == c {
		delete(a.convs, c.id)
	}
}

// work is the agent's side of one conversation: accept it, answer the visitor after a
// pause and some typing, maybe hand it to another unit, and close it after a few
// exchanges or when the visitor went quiet.
func (a *agent) work(ctx context.Context, c *agentConv, unit string, accept bool, rng *rand.Rand) {
	defer a.forget(c)
	log := a.log.With("conversation", c.id)
	w := &agentWork{a: a, c: c, log: log, rng: rng, unit: unit, target: 4 + rng.IntN(5)}
	if accept && !w.accept(ctx) {
		return
	}
	silence := time.NewTimer(a.s.scaled(visitorSilence))
	defer silence.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-silence.C:
			if w.transferred || a.token.Load() == nil {
				// It was taken away without news, while the stream was down, or the
				// agent signed out.
				return
			}
			w.close(ctx, "the visitor stopped answering")
			return
		case u, ok := <-c.updates:
			if !ok {
				log.Debug("agent is done with conversation")
				return
			}
			switch {
			case u.reopened:
				w.transferred = false
				w.unit = u.unit
				if !w.accept(ctx) {
					return
				}
			case w.transferred:
				// No longer the agent's; the stream will say so.
			default:
				w.exchanged++
				if !w.answer(ctx) {
					return
				}
			}
			silence.Reset(a.s.scaled(visitorSilence))
		}
	}
}

// agentWork is the state of one conversation in its worker.
type agentWork struct {
	a    *agent
	c    *agentConv
	log  *slog.Logger
	rng  *rand.Rand
	unit string
	// exchanged counts the messages of both sides; at target the agent wraps up.
	exchanged, target int
	greeted           bool
	transferred       bool
}

// accept takes the conversation up after a moment; false means the worker is done.
func (w *agentWork) accept(ctx context.Context) bool {
	if !w.a.s.pause(ctx, w.rng, acceptMin, acceptMax) {
		return false
	}
	err := w.a.s.call(ctx, w.log, "agent accepts conversation", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: w.c.id})
		w.a.authorize(req)
		_, err := w.a.api.chat.AcceptConversation(ctx, req)
		return err
	})
	return ctx.Err() == nil && !gone(err)
}

// answer replies to what the visitor wrote (and whatever else came meanwhile), then
// wraps up or hands the conversation on; false means the worker is done.
func (w *agentWork) answer(ctx context.Context) bool {
	if !w.a.s.pause(ctx, w.rng, readMin, readMax) {
		return false
	}
	text := pick(w.rng, scriptFor(w.unit).answers)
	if !w.greeted {
		text = fmt.Sprintf(pick(w.rng, greetings), w.a.displayName) + " " + text
	}
	if !w.say(ctx, text) {
		return false
	}
	w.greeted = true
	w.exchanged++
	switch {
	case w.exchanged >= w.target:
		if !w.a.s.pause(ctx, w.rng, readMin, readMax) || !w.say(ctx, pick(w.rng, closings)) ||
			!w.a.s.pause(ctx, w.rng, readMin, readMax) {
			return false
		}
		w.close(ctx, "resolved")
		return false
	case w.rng.Float64() < transferChance && !w.handedOver():
		return w.transfer(ctx)
	}
	return true
}

// handedOver reports whether the conversation was transferred before: it is not passed
// on a second time.
func (w *agentWork) handedOver() bool {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	return w.c.handedOver
}

// say types text in a few steps, as the agent's draft shows it to supervisors, then
// sends it; false means the worker is done.
func (w *agentWork) say(ctx context.Context, text string) bool {
	for _, part := range []float64{0.3, 0.7} {
		err := w.a.s.call(ctx, w.log, "agent types", func(ctx context.Context) error {
			req := connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: w.c.id, Text: typed(text, part)})
			w.a.authorize(req)
			_, err := w.a.api.chat.UpdateDraft(ctx, req)
			return err
		})
		if ctx.Err() != nil || gone(err) || !w.a.s.pause(ctx, w.rng, typeMin, typeMax) {
			return false
		}
	}
	id := uuid.NewString()
	err := w.a.s.call(ctx, w.log, "agent sends message", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: w.c.id, ClientMessageId: id, Text: text})
		w.a.authorize(req)
		_, err := w.a.api.chat.SendMessage(ctx, req)
		return err
	})
	return ctx.Err() == nil && !gone(err)
}

// transfer hands the conversation to another unit; false means the worker is done.
func (w *agentWork) transfer(ctx context.Context) bool {
	others := slices.DeleteFunc(slices.Clone(w.a.s.o.Units), func(u string) bool { return u == w.unit })
	if len(others) == 0 {
		return true
	}
	to := pick(w.rng, others)
	if !w.say(ctx, pick(w.rng, handOffs)) {
		return false
	}
	err := w.a.s.call(ctx, w.log.With("to", to), "agent transfers conversation", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.TransferConversationRequest{ConversationId: w.c.id,
			Target: &chatv1.TransferConversationRequest_BusinessUnit{BusinessUnit: to},
			Note:   "Visitor's question is for " + to})
		w.a.authorize(req)
		_, err := w.a.api.chat.TransferConversation(ctx, req)
		return err
	})
	if ctx.Err() != nil || gone(err) {
		return false
	}
	w.transferred = err == nil
	return true
}

func (w *agentWork) close(ctx context.Context, reason string) {
	_ = w.a.s.call(ctx, w.log.With("reason", reason), "agent closes conversation", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: w.c.id, Reason: reason})
		w.a.authorize(req)
		_, err := w.a.api.chat.CloseConversation(ctx, req)
		return err
	})
}
