package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Phases a message can be sent in.
const (
	phaseThroughput uint8 = 1
	phasePaced      uint8 = 2
)

// messageText is every message's text, and every raw row's body: a typical first line
// of a chat.
const messageText = "Hello, I ordered a blue jacket last week and it has not arrived yet. Can you help?"

// sendGrace is how long in-flight sends may take to finish after a phase ends before
// they are cancelled; drainTimeout how long acknowledged messages may take to arrive.
const (
	sendGrace    = 30 * time.Second
	drainTimeout = 10 * time.Second
)

// window is a phase's timeline, in nanoseconds since the round's epoch: it starts, warms
// up until from, and is measured from from to to.
type window struct{ start, from, to int64 }

func (r *round) newWindow() window {
	s := r.now()
	from := s + int64(r.o.Warmup)
	return window{start: s, from: from, to: from + int64(r.o.Duration)}
}

func (w window) contains(t int64) bool { return t >= w.from && t < w.to }

// sleepUntil sleeps until the round's clock reads t; it reports false if ctx ended first.
func (r *round) sleepUntil(ctx context.Context, t int64) bool {
	d := time.Duration(t - r.now())
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

// measure waits through the window and returns the CPU used while it was measured.
func (r *round) measure(ctx context.Context, w window) (CPU, error) {
	if !r.sleepUntil(ctx, w.from) {
		return CPU{}, ctx.Err()
	}
	before := SampleCPU(r.env.postmaster)
	if !r.sleepUntil(ctx, w.to) {
		return CPU{}, ctx.Err()
	}
	return before.Until(SampleCPU(r.env.postmaster)), nil
}

// send sends the conversation's next message and records when it started (start, which
// the paced phase sets to the time it was due), when it was acknowledged, and whether it
// failed. req is the caller's to reuse: only its client message id is changed.
func (r *round) send(ctx context.Context, c *conversation, req *connect.Request[chatv1.SendMessageRequest], phase uint8, start int64) error {
	c.mu.Lock()
	n := len(c.msgs)
	c.msgs = append(c.msgs, message{start: start, phase: phase})
	c.mu.Unlock()
	req.Msg.ClientMessageId = c.prefix + itoa(n)
	_, err := c.api.chat.SendMessage(ctx, req)
	now := r.now()
	c.mu.Lock()
	m := &c.msgs[n]
	if err != nil {
		m.failed = true
	} else {
		m.ack = now
		r.acked.Add(1)
		if m.delivered != 0 {
			r.ackedDelivered.Add(1)
		}
	}
	c.mu.Unlock()
	return err
}

func (c *conversation) newSendRequest() *connect.Request[chatv1.SendMessageRequest] {
	req := connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: c.id, Text: messageText})
	req.Header().Set("Authorization", "Bearer "+c.token)
	return req
}

// finish waits for the senders to return after the phase ended, cancelling them if they
// take longer than sendGrace, then waits for acknowledged messages to be delivered. It
// returns how many acknowledged messages are still undelivered, and a note if sends hung.
func (r *round) finish(ctx context.Context, wg *sync.WaitGroup, cancelSends context.CancelFunc) (string, error) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var note string
	select {
	case <-done:
	case <-time.After(sendGrace):
		note = fmt.Sprintf("sends still unanswered %s after the phase ended were cancelled", sendGrace)
		cancelSends()
		<-done
	}
	deadline := time.Now().Add(drainTimeout)
	for r.acked.Load() != r.ackedDelivered.Load() && time.Now().Before(deadline) {
		if !r.sleepUntil(ctx, r.now()+int64(5*time.Millisecond)) {
			return note, ctx.Err()
		}
	}
	return note, nil
}

// throughput runs the closed loop: every visitor sends its next message as soon as the
// previous one is acknowledged. The rate counts messages acknowledged within the measured
// window and delivered; latency is from send start to delivery on the agent stream.
func (r *round) throughput(ctx context.Context) (*Throughput, error) {
	sendCtx, cancelSends := context.WithCancel(ctx)
	defer cancelSends()
	var stop atomic.Bool
	var wg sync.WaitGroup
	var errs problems
	w := r.newWindow()
	for _, c := range r.convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := c.newSendRequest()
			for !stop.Load() {
				if err := r.send(sendCtx, c, req, phaseThroughput, r.now()); err != nil {
					if sendCtx.Err() != nil {
						return
					}
					errs.add("sending a message", err)
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	cpu, err := r.measure(ctx, w)
	stop.Store(true)
	note, ferr := r.finish(ctx, &wg, cancelSends)
	if err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}

	t := &Throughput{CPU: cpu}
	var lat []int64
	for _, c := range r.convs {
		c.mu.Lock()
		for _, m := range c.msgs {
			if m.phase != phaseThroughput {
				continue
			}
			switch {
			case m.failed:
				t.SendErrors++
			case m.ack != 0 && m.delivered == 0:
				t.Undelivered++
			case w.contains(m.ack):
				lat = append(lat, m.delivered-m.start)
				r.sample("throughput", c, m)
			}
		}
		c.mu.Unlock()
	}
	t.Delivered = len(lat)
	t.Rate = float64(len(lat)) / r.o.Duration.Seconds()
	t.Latency = LatencyOf(lat)
	if t.Rate > 0 {
		t.LittleMs = float64(r.n) / t.Rate * 1000
	}
	t.Duplicates = int(r.duplicates.Load())
	t.Problems = errs.list()
	if note != "" {
		t.Problems = append(t.Problems, note)
	}
	if t.Delivered == 0 {
		return t, fmt.Errorf("no message was acknowledged and delivered in the measured window (%s)", errs.summary())
	}
	return t, nil
}

// paced sends open loop at rate messages per second in all, each conversation every
// N/rate seconds from a random phase, whether or not its previous message was answered.
// Latency runs from the time a message was due, so a client that falls behind its
// schedule counts against the result rather than hiding it.
func (r *round) paced(ctx context.Context, rate float64) (*Paced, error) {
	interval := int64(float64(r.n) / rate * float64(time.Second))
	p := &Paced{TargetRate: rate, IntervalMs: float64(interval) / 1e6}
	if interval <= 0 {
		return p, errors.New("the paced interval rounds to zero")
	}
	sendCtx, cancelSends := context.WithCancel(ctx)
	defer cancelSends()
	var loops, inflight sync.WaitGroup
	var errs problems
	var maxLag atomic.Int64
	w := r.newWindow()
	for _, c := range r.convs {
		offset := rand.Int64N(interval)
		loops.Add(1)
		go func() {
			defer loops.Done()
			for due := w.start + offset; due < w.to; due += interval {
				if !r.sleepUntil(sendCtx, due) {
					return
				}
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					storeMax(&maxLag, r.now()-due)
					if err := r.send(sendCtx, c, c.newSendRequest(), phasePaced, due); err != nil && sendCtx.Err() == nil {
						errs.add("sending a message", err)
					}
				}()
			}
		}()
	}
	cpu, err := r.measure(ctx, w)
	loops.Wait()
	note, ferr := r.finish(ctx, &inflight, cancelSends)
	if err == nil {
		err = ferr
	}
	if err != nil {
		return p, err
	}

	p.CPU = cpu
	var lat []int64
	for _, c := range r.convs {
		c.mu.Lock()
		for _, m := range c.msgs {
			if m.phase != phasePaced || !w.contains(m.start) {
				continue
			}
			p.Sent++
			switch {
			case m.failed:
				p.SendErrors++
			case m.ack != 0 && m.delivered == 0:
				p.Undelivered++
			case m.ack != 0:
				lat = append(lat, m.delivered-m.start)
				r.sample("paced", c, m)
			}
		}
		c.mu.Unlock()
	}
	p.Delivered = len(lat)
	p.Rate = float64(len(lat)) / r.o.Duration.Seconds()
	p.Latency = LatencyOf(lat)
	p.MaxClientLagMs = float64(maxLag.Load()) / 1e6
	p.Problems = errs.list()
	if note != "" {
		p.Problems = append(p.Problems, note)
	}
	if p.Delivered == 0 {
		return p, fmt.Errorf("no message was acknowledged and delivered in the measured window (%s)", errs.summary())
	}
	return p, nil
}

// rawInsertSQL is the yardstick: one row like a chat event, one commit per statement.
const rawInsertSQL = `INSERT INTO bench_raw (tenant_id, conversation_id, seq, created_at, body) VALUES ($1, $2, $3, now(), $4)`

// rawInsert runs N goroutines that each commit single-row INSERTs back to back through a
// pgx pool as large as the server's, as the schema owner, in the same database.
func (r *round) rawInsert(ctx context.Context) (*RawInsert, error) {
	owner := r.env.owner
	if _, err := owner.Exec(ctx, `DROP TABLE IF EXISTS bench_raw`); err != nil {
		return nil, fmt.Errorf("dropping an old bench_raw: %w", err)
	}
	if _, err := owner.Exec(ctx, `CREATE TABLE bench_raw (
		tenant_id uuid NOT NULL, conversation_id uuid NOT NULL, seq bigint NOT NULL,
		created_at timestamptz NOT NULL, body text NOT NULL,
		PRIMARY KEY (tenant_id, conversation_id, seq))`); err != nil {
		return nil, fmt.Errorf("creating bench_raw: %w", err)
	}
	defer owner.Exec(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS bench_raw`) //nolint:errcheck // best effort
	pool, err := store.Open(ctx, r.env.url, store.PoolOptions{MaxConns: r.o.MaxConns})
	if err != nil {
		return nil, err
	}
	defer pool.Close()

	execCtx, cancelExecs := context.WithCancel(ctx)
	defer cancelExecs()
	var stop atomic.Bool
	var wg sync.WaitGroup
	var errs problems
	var failed atomic.Int64
	tenant := r.tenant.ID
	lats := make([][]int64, r.n)
	w := r.newWindow()
	for i := range r.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conv := uuid.New()
			for seq := int64(1); !stop.Load(); seq++ {
				start := r.now()
				if _, err := pool.Exec(execCtx, rawInsertSQL, tenant, conv, seq, messageText); err != nil {
					if execCtx.Err() != nil {
						return
					}
					failed.Add(1)
					errs.add("inserting a row", err)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				if done := r.now(); w.contains(done) {
					lats[i] = append(lats[i], done-start)
				}
			}
		}()
	}
	cpu, err := r.measure(ctx, w)
	stop.Store(true)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(sendGrace):
		cancelExecs()
		<-done
	}
	if err != nil {
		return nil, err
	}
	var all []int64
	for _, l := range lats {
		all = append(all, l...)
	}
	raw := &RawInsert{CPU: cpu, Commits: len(all), Errors: int(failed.Load()), Problems: errs.list()}
	raw.Rate = float64(len(all)) / r.o.Duration.Seconds()
	raw.Latency = LatencyOf(all)
	if raw.Commits == 0 {
		return raw, fmt.Errorf("no INSERT committed in the measured window (%s)", errs.summary())
	}
	return raw, nil
}

// sample writes one measured message to the samples file, if there is one.
func (r *round) sample(phase string, c *conversation, m message) {
	if r.env.samples == nil {
		return
	}
	fmt.Fprintf(r.env.samples, "%d,%s,%d,%.3f,%.3f,%.3f,%.3f\n", r.n, phase, c.idx,
		float64(m.start)/1e6, float64(m.ack)/1e6, float64(m.delivered)/1e6, float64(m.delivered-m.start)/1e6)
}

func storeMax(v *atomic.Int64, x int64) {
	for {
		old := v.Load()
		if x <= old || v.CompareAndSwap(old, x) {
			return
		}
	}
}
