// Package demo makes traffic to watch: simulated visitors and agents talking through the
// public API, as `switchboard dev --demo` runs them. It goes over HTTP through the
// generated Connect clients, exactly as a site's widget and an agent's console would, so
// what it shows is what real clients get.
package demo

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
)

// Options says whom to simulate.
type Options struct {
	// BaseURL is where the server listens, like http://127.0.0.1:8080.
	BaseURL string
	// Tenant is the name agents sign in to.
	Tenant string
	// WidgetKey is the tenant's public widget key visitors start chats with.
	WidgetKey string
	// Password is the password of every agent's account.
	Password string
	// Agents are the usernames of the agents to play.
	Agents []string
	// Units are the business units visitors chat with and agents transfer to.
	Units []string
	// Speed multiplies the pace: 1 is a person's pace, 20 runs twenty times faster.
	// 0 means 1.
	Speed float64
	// MaxVisitors caps the visitors chatting at once; 0 means two per agent.
	MaxVisitors int
	// Seed makes the simulation's choices repeatable (their timing is not).
	Seed uint64
	// Logger receives the simulation's log; nil means slog.Default().
	Logger *slog.Logger
}

// sim is one run of the simulation: its clients, its pace and its log.
type sim struct {
	o           Options
	speed       float64
	maxVisitors int
	chat        chatv1connect.ChatServiceClient
	auth        authv1connect.AuthServiceClient
	log         *slog.Logger
}

// Run simulates visitors and agents until ctx ends, and returns once every simulated
// person has stopped.
func Run(ctx context.Context, o Options) {
	s := &sim{o: o, speed: o.Speed, maxVisitors: o.MaxVisitors, log: o.Logger}
	if s.speed <= 0 {
		s.speed = 1
	}
	if s.maxVisitors <= 0 {
		s.maxVisitors = max(2*len(o.Agents), 1)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("tenant", o.Tenant)

	// Server streams need HTTP/2; without TLS that is h2c with prior knowledge.
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true)
	transport := &http.Transport{Protocols: protocols}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	s.chat = chatv1connect.NewChatServiceClient(client, o.BaseURL)
	s.auth = authv1connect.NewAuthServiceClient(client, o.BaseURL)

	s.log.Info("demo traffic starting", "agents", o.Agents, "units", o.Units, "speed", s.speed, "max_visitors", s.maxVisitors)
	var wg sync.WaitGroup
	for i, name := range o.Agents {
		a := newAgent(s, name, s.rand(uint64(i)+1))
		wg.Go(func() { a.run(ctx) })
	}
	if len(o.Units) > 0 {
		wg.Go(func() { s.visitors(ctx) })
	}
	wg.Wait()
	s.log.Info("demo traffic stopped")
}

// rand returns a source of choices for one simulated person, repeatable for a seed.
func (s *sim) rand(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(s.o.Seed, stream))
}

// between is a random duration in [lo, hi] at the simulation's pace.
func (s *sim) between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	d := lo
	if hi > lo {
		d += time.Duration(rng.Int64N(int64(hi - lo + 1)))
	}
	return s.scaled(d)
}

// scaled is a person's duration at the simulation's pace.
func (s *sim) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.speed)
}

// pause waits a random time in [lo, hi] at the simulation's pace; false means ctx ended.
func (s *sim) pause(ctx context.Context, rng *rand.Rand, lo, hi time.Duration) bool {
	return sleep(ctx, s.between(rng, lo, hi))
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

const (
	// unavailableRetries is how often a call is retried while the server is unavailable.
	unavailableRetries = 2
	// callTimeout bounds one unary call, so that a hung server never stalls a person.
	callTimeout = 15 * time.Second
)

// call makes one API call. While the server is unavailable (it may be restarting) it
// retries a few times, as a person clicking again would; a call that resends a message
// reuses its client_message_id, so it never makes a second one. It logs the outcome at
// Debug: the simulation goes on either way.
func (s *sim) call(ctx context.Context, log *slog.Logger, action string, fn func(context.Context) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		err = fn(cctx)
		cancel()
		if err == nil {
			log.Debug(action)
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if connect.CodeOf(err) != connect.CodeUnavailable || attempt == unavailableRetries {
			break
		}
		if !sleep(ctx, time.Duration(attempt+1)*time.Second) {
			return err
		}
	}
	log.Debug(action, "code", connect.CodeOf(err).String(), "err", err)
	return err
}

// gone reports whether err says the conversation is no longer the caller's to act on:
// closed meanwhile, transferred away, or unknown.
func gone(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeFailedPrecondition, connect.CodePermissionDenied, connect.CodeNotFound:
		return true
	}
	return false
}

// bearer sets the Authorization header of a request.
func bearer(h http.Header, token string) {
	h.Set("Authorization", "Bearer "+token)
}

// backoff spaces reconnections out: from half a second, doubling up to 15s, with jitter.
type backoff struct{ d time.Duration }

const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = 15 * time.Second
)

func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, minBackoff), maxBackoff)
	return b.d/2 + rand.N(b.d/2)
}

func (b *backoff) reset() { b.d = 0 }
