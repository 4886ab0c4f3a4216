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
	"github.com/switchboard-chat/switchboard/services/limits"
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
	// Shift, if set, is about how long an agent works before it ends its shift (each
	// shift lasts between half and one and a half times it): it stops taking
	// conversations, closes those it still holds, signs out, takes a break of about
	// Break and signs in again. 0 means agents stay signed in. Both are at a person's
	// pace, like every duration of the simulation.
	Shift, Break time.Duration
	// OwnConnections gives every visitor connections of its own, opened when it arrives
	// and closed when it leaves, over HTTP/1.1 as a browser showing the widget reaches a
	// plain-HTTP server, and every agent an HTTP/2 connection of its own. Without it
	// everyone shares one HTTP/2 connection, which is lighter for a demo.
	OwnConnections bool
	// ClientOptions are given to every API client the simulation makes: interceptors
	// that count its calls, say.
	ClientOptions []connect.ClientOption
}

// sim is one run of the simulation: its clients, its pace and its log.
type sim struct {
	o           Options
	speed       float64
	maxVisitors int
	// shared are the clients of the connection everyone shares (without OwnConnections).
	shared api
	log    *slog.Logger
}

// api is a person's clients of the public API, and how to close their connections.
type api struct {
	chat  chatv1connect.ChatServiceClient
	auth  authv1connect.AuthServiceClient
	close func()
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

	s.shared = s.dial(true)
	defer s.shared.close()

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

// dial returns clients on a connection of their own: HTTP/2 without TLS (h2c with prior
// knowledge), or HTTP/1.1, where the Connect protocol streams too but each open stream
// holds a connection, as in a browser.
func (s *sim) dial(http2 bool) api {
	protocols := new(http.Protocols)
	if http2 {
		protocols.SetUnencryptedHTTP2(true)
	} else {
		protocols.SetHTTP1(true)
	}
	transport := &http.Transport{Protocols: protocols}
	client := &http.Client{Transport: transport}
	return api{
		chat:  chatv1connect.NewChatServiceClient(client, s.o.BaseURL, s.o.ClientOptions...),
		auth:  authv1connect.NewAuthServiceClient(client, s.o.BaseURL, s.o.ClientOptions...),
		close: transport.CloseIdleConnections,
	}
}

// connection returns the clients of a person who arrives: on connections of its own
// with OwnConnections, else on the shared one (whose close does nothing).
func (s *sim) connection(http2 bool) api {
	if s.o.OwnConnections {
		return s.dial(http2)
	}
	return api{chat: s.shared.chat, auth: s.shared.auth, close: func() {}}
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
	// limitedFor bounds the time a call waits out the server's limits, retrying when
	// each refusal says to.
	limitedFor = 15 * time.Second
)

// call makes one API call. While the server is unavailable (it may be restarting) it
// retries a few times, as a person clicking again would; refused for going too fast, it
// waits as long as the refusal's retry hint says and tries again, for at most limitedFor,
// as a well-behaved client does. A call that resends a message reuses its
// client_message_id, so it never makes a second one. It logs the outcome at Debug: the
// simulation goes on either way.
func (s *sim) call(ctx context.Context, log *slog.Logger, action string, fn func(context.Context) error) error {
	var err error
	start := time.Now()
	for unavailable := 0; ; {
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
		wait, limited := limits.RetryDelay(err)
		switch {
		case limited && time.Since(start)+wait <= limitedFor:
		case connect.CodeOf(err) == connect.CodeUnavailable && unavailable < unavailableRetries:
			unavailable++
			wait = time.Duration(unavailable) * time.Second
		default:
			log.Debug(action, "code", connect.CodeOf(err).String(), "err", err)
			return err
		}
		if !sleep(ctx, wait) {
			return err
		}
	}
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
