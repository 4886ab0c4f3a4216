package floodbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	xrate "golang.org/x/time/rate"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/limits"
)

// FloodConfig is what the flooding tenant's clients need; a flood worker process reads it
// as JSON on its standard input.
type FloodConfig struct {
	// Base is the server's URL.
	Base string `json:"base"`
	// WidgetKey and Unit are where conversations are started.
	WidgetKey string `json:"widgetKey"`
	Unit      string `json:"unit"`
	// Visitors are conversations already started, to send messages in; conversations the
	// flood starts join them.
	Visitors []Visitor `json:"visitors"`
	// Rate is the calls attempted per second by all clients together; 0 means as fast as
	// they can.
	Rate int `json:"rate"`
	// Clients are the flooding clients, each from an address of its own (a botnet).
	Clients int `json:"clients"`
	// StartShare is the share of calls that start a conversation; the others send messages.
	StartShare float64 `json:"startShare"`
	// HTTPConnections is how many HTTP/2 connections the clients share.
	HTTPConnections int `json:"httpConnections"`
}

// Visitor is a conversation and the token that writes in it.
type Visitor struct {
	Conversation string `json:"conversation"`
	Token        string `json:"token"`
}

// FloodStats counts what the flood got.
type FloodStats struct {
	Seconds float64 `json:"seconds"`
	// Attempted counts calls made; Rate is Attempted per second.
	Attempted int64   `json:"attempted"`
	Rate      float64 `json:"rate"`
	// AcceptedMessages and AcceptedStarts were served; Refused were ResourceExhausted.
	AcceptedMessages int64 `json:"acceptedMessages"`
	AcceptedStarts   int64 `json:"acceptedStarts"`
	Refused          int64 `json:"refused"`
	// RefusedWithoutHint counts refusals without a RetryInfo detail (there should be none).
	RefusedWithoutHint int64 `json:"refusedWithoutHint"`
	// Errors counts other answers by Connect code.
	Errors map[string]int64 `json:"errors,omitempty"`
	// CPUSeconds is the flood process's CPU time (when it ran apart), and Priority how
	// it was lowered ("nice 19"; empty for not).
	CPUSeconds float64 `json:"cpuSeconds"`
	Priority   string  `json:"priority,omitempty"`
	Separate   bool    `json:"separate"`
}

// Flood makes the calls of cfg until ctx ends.
func Flood(ctx context.Context, cfg FloodConfig) FloodStats {
	started := time.Now()
	conns := max(cfg.HTTPConnections, 1)
	clients := make([]chatv1connect.ChatServiceClient, conns)
	for i := range clients {
		p := new(http.Protocols)
		p.SetUnencryptedHTTP2(true)
		hc := &http.Client{Transport: &http.Transport{Protocols: p}}
		defer hc.CloseIdleConnections()
		clients[i] = chatv1connect.NewChatServiceClient(hc, cfg.Base)
	}
	var pace *xrate.Limiter
	if cfg.Rate > 0 {
		pace = xrate.NewLimiter(xrate.Limit(cfg.Rate), max(1, cfg.Rate/100))
	}
	visitors := &pool{list: append([]Visitor(nil), cfg.Visitors...)}

	var st FloodStats
	var mu sync.Mutex
	st.Errors = map[string]int64{}
	count := func(err error, started bool) {
		switch {
		case err == nil && started:
			atomic.AddInt64(&st.AcceptedStarts, 1)
		case err == nil:
			atomic.AddInt64(&st.AcceptedMessages, 1)
		case connect.CodeOf(err) == connect.CodeResourceExhausted:
			atomic.AddInt64(&st.Refused, 1)
			if _, ok := limits.RetryDelay(err); !ok {
				atomic.AddInt64(&st.RefusedWithoutHint, 1)
			}
		case ctx.Err() != nil:
		default:
			mu.Lock()
			st.Errors[connect.CodeOf(err).String()]++
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for i := range max(cfg.Clients, 1) {
		chat := clients[i%conns]
		addr := fmt.Sprintf("100.64.%d.%d", i/250, i%250+1)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		wg.Go(func() {
			for ctx.Err() == nil {
				if pace != nil && pace.Wait(ctx) != nil {
					return
				}
				atomic.AddInt64(&st.Attempted, 1)
				if rng.Float64() < cfg.StartShare {
					req := connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: cfg.WidgetKey, BusinessUnit: cfg.Unit, VisitorName: "Flood"})
					req.Header().Set("X-Forwarded-For", addr)
					res, err := chat.StartConversation(ctx, req)
					if err == nil && res.Msg.Conversation != nil {
						visitors.add(Visitor{Conversation: res.Msg.Conversation.Id, Token: res.Msg.VisitorToken})
					}
					count(err, true)
					continue
				}
				v, ok := visitors.pick(rng)
				if !ok {
					count(errors.New("no conversation to write in"), false)
					continue
				}
				req := connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.Conversation, ClientMessageId: uuid.NewString(), Text: "flood"})
				req.Header().Set("X-Forwarded-For", addr)
				req.Header().Set("Authorization", "Bearer "+v.Token)
				_, err := chat.SendMessage(ctx, req)
				count(err, false)
			}
		})
	}
	wg.Wait()
	st.Seconds = time.Since(started).Seconds()
	if st.Seconds > 0 {
		st.Rate = float64(st.Attempted) / st.Seconds
	}
	return st
}

// FloodWorker is a flood worker process's life: it reads a FloodConfig from in, floods
// until in closes, and prints its FloodStats as JSON.
func FloodWorker(ctx context.Context, in io.Reader, out io.Writer) error {
	var cfg FloodConfig
	ctx, cancel, err := workerInput(ctx, in, &cfg)
	if err != nil {
		return fmt.Errorf("reading the flood's configuration: %w", err)
	}
	defer cancel()
	return json.NewEncoder(out).Encode(Flood(ctx, cfg))
}

// workerInput reads a worker's configuration, the JSON that starts in, into cfg, and
// returns a context that ends when in closes: its parent's way to say stop.
func workerInput(ctx context.Context, in io.Reader, cfg any) (context.Context, context.CancelFunc, error) {
	dec := json.NewDecoder(in)
	if err := dec.Decode(cfg); err != nil {
		return ctx, func() {}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		io.Copy(io.Discard, io.MultiReader(dec.Buffered(), in)) //nolint:errcheck
		cancel()
	}()
	return ctx, cancel, nil
}

// pool is the flood's conversations, the newest kept.
type pool struct {
	mu   sync.Mutex
	list []Visitor
	next int
}

const maxPool = 5000

func (p *pool) add(v Visitor) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) < maxPool {
		p.list = append(p.list, v)
		return
	}
	p.list[p.next] = v
	p.next = (p.next + 1) % maxPool
}

func (p *pool) pick(rng *rand.Rand) (Visitor, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.list) == 0 {
		return Visitor{}, false
	}
	return p.list[rng.IntN(len(p.list))], true
}

// add counts another flood's figures in.
func (s *FloodStats) add(o FloodStats) {
	s.Seconds += o.Seconds
	s.Attempted += o.Attempted
	s.AcceptedMessages += o.AcceptedMessages
	s.AcceptedStarts += o.AcceptedStarts
	s.Refused += o.Refused
	s.RefusedWithoutHint += o.RefusedWithoutHint
	s.CPUSeconds += o.CPUSeconds
	s.Priority, s.Separate = o.Priority, o.Separate
	for code, n := range o.Errors {
		if s.Errors == nil {
			s.Errors = map[string]int64{}
		}
		s.Errors[code] += n
	}
	if s.Seconds > 0 {
		s.Rate = float64(s.Attempted) / s.Seconds
	}
}
