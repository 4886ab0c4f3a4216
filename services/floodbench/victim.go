package floodbench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
)

// VictimConfig is what the victim tenant's clients need; a victim worker process reads it
// as JSON on its standard input.
type VictimConfig struct {
	// Base is the server's URL.
	Base string `json:"base"`
	// WidgetKey and Unit are where the victim's conversations are started.
	WidgetKey string `json:"widgetKey"`
	Unit      string `json:"unit"`
	// Conversations each send a message every Interval.
	Conversations int           `json:"conversations"`
	Interval      time.Duration `json:"interval"`
	// Agents are the victim's agents' tokens, signed in; they accept the conversations
	// and receive the messages timed. Bystanders are other tenants' agents kept online
	// alike, their messages not timed.
	Agents     []string `json:"agents"`
	Bystanders []string `json:"bystanders"`
}

// Sample is one victim message: Unix nanoseconds when it was sent, acknowledged and
// delivered to its agent (0 for not yet).
type Sample struct {
	Sent      int64 `json:"sent"`
	Ack       int64 `json:"ack,omitempty"`
	Delivered int64 `json:"delivered,omitempty"`
	// Failed is a send that failed; Canceled one still in flight when sending stopped.
	Failed   bool `json:"failed,omitempty"`
	Canceled bool `json:"canceled,omitempty"`
}

// victimLine is a line a victim worker prints: first that it is ready (or why it is
// not), then, once its standard input closes, its samples.
type victimLine struct {
	Ready   bool     `json:"ready,omitempty"`
	Error   string   `json:"error,omitempty"`
	Samples []Sample `json:"samples,omitempty"`
}

// Victim runs the victim tenant's clients: it brings the agents online, starts the
// conversations (each visitor from an address of its own) and waits until the agents
// accepted them all, calls ready, then sends each conversation's message every
// interval, staggered over it, until ctx ends. It then waits for the last deliveries,
// for at most drainTimeout, and returns every message's times.
func Victim(ctx context.Context, cfg VictimConfig, ready func()) ([]Sample, error) {
	v := &victim{cfg: cfg, http: h2c(), epoch: time.Now(), msgs: map[string]*Sample{}, accepted: map[string]bool{}}
	defer v.http.CloseIdleConnections()
	// The agents outlive ctx, to receive the messages still on their way.
	agentCtx, stopAgents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgents()
	online := make(chan error, len(cfg.Agents)+len(cfg.Bystanders))
	for _, token := range append(append([]string(nil), cfg.Agents...), cfg.Bystanders...) {
		go v.runAgent(agentCtx, v.chatFrom("192.0.2.1", token), online)
	}
	for range len(cfg.Agents) + len(cfg.Bystanders) {
		select {
		case err := <-online:
			if err != nil {
				return nil, err
			}
		case <-time.After(30 * time.Second):
			return nil, errors.New("agents not online within 30s")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var convs []*conversation
	for i := range cfg.Conversations {
		addr := visitorAddress(i)
		res, err := v.chatFrom(addr, "").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: cfg.WidgetKey, BusinessUnit: cfg.Unit, VisitorName: fmt.Sprintf("Visitor %d", i+1)}))
		if err != nil {
			return nil, fmt.Errorf("starting a conversation of the victim: %w", err)
		}
		convs = append(convs, &conversation{id: res.Msg.Conversation.Id, client: v.chatFrom(addr, res.Msg.VisitorToken)})
	}
	// The agents accept their conversations (runAgent does, as they come).
	for deadline := time.Now().Add(60 * time.Second); !v.allAccepted(convs); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return nil, errors.New("the victim's conversations were not all accepted within 60s")
		}
	}
	ready()
	var sends sync.WaitGroup
	for i, c := range convs {
		sends.Go(func() { v.chat(ctx, i, len(convs), c) })
	}
	sends.Wait()
	v.drain()
	v.mu.Lock()
	defer v.mu.Unlock()
	samples := make([]Sample, 0, len(v.msgs))
	for _, s := range v.msgs {
		samples = append(samples, *s)
	}
	return samples, nil
}

// visitorAddress is visitor i's address, behind the loopback proxy the server trusts.
func visitorAddress(i int) string { return fmt.Sprintf("198.18.%d.%d", i/250, i%250+1) }

// victim is a victim run's state.
type victim struct {
	cfg   VictimConfig
	http  *http.Client
	epoch time.Time

	mu       sync.Mutex
	msgs     map[string]*Sample
	accepted map[string]bool
}

type conversation struct {
	id     string
	client chatv1connect.ChatServiceClient
}

// now is Unix nanoseconds, read from the monotonic clock since the run began.
func (v *victim) now() int64 { return v.epoch.UnixNano() + int64(time.Since(v.epoch)) }

// chatFrom is a client whose calls come through the loopback proxy from addr.
func (v *victim) chatFrom(addr, token string) chatv1connect.ChatServiceClient {
	return chatv1connect.NewChatServiceClient(v.http, v.cfg.Base, connect.WithInterceptors(headers{"X-Forwarded-For": addr, "Authorization": bearer(token)}))
}

func (v *victim) allAccepted(convs []*conversation) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, c := range convs {
		if !v.accepted[c.id] {
			return false
		}
	}
	return true
}

func (v *victim) markAccepted(id string) {
	v.mu.Lock()
	v.accepted[id] = true
	v.mu.Unlock()
}

// runAgent keeps an agent's stream open: it accepts what is assigned and records the
// victim's messages delivered. The first status says the agent is online.
func (v *victim) runAgent(ctx context.Context, c chatv1connect.ChatServiceClient, online chan<- error) {
	first := true
	for ctx.Err() == nil {
		stream, err := c.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
		if err != nil {
			if first {
				online <- err
				return
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for stream.Receive() {
			now := v.now()
			switch u := stream.Msg().Update.(type) {
			case *chatv1.AgentStreamResponse_Status:
				if first {
					first = false
					online <- nil
				}
			case *chatv1.AgentStreamResponse_Assignment:
				conv := u.Assignment.GetConversation()
				switch {
				case u.Assignment.Change == chatv1.AssignmentChange_ASSIGNMENT_CHANGE_OPEN && conv.GetState() == chatv1.ConversationState_CONVERSATION_STATE_ASSIGNED:
					go func() {
						if _, err := c.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv.GetId()})); err == nil {
							v.markAccepted(conv.GetId())
						}
					}()
				case conv.GetState() == chatv1.ConversationState_CONVERSATION_STATE_ACTIVE:
					v.markAccepted(conv.GetId())
				}
			case *chatv1.AgentStreamResponse_Event:
				if m := u.Event.GetMessage(); m != nil && u.Event.GetAuthor().GetKind() == chatv1.AuthorKind_AUTHOR_KIND_VISITOR {
					v.mu.Lock()
					if s := v.msgs[m.ClientMessageId]; s != nil && s.Delivered == 0 {
						s.Delivered = now
					}
					v.mu.Unlock()
				}
			}
		}
		stream.Close()
	}
}

// chat sends conversation i's messages of n every interval, staggered over the interval.
func (v *victim) chat(ctx context.Context, i, n int, c *conversation) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(v.cfg.Interval * time.Duration(i) / time.Duration(n)):
	}
	t := time.NewTicker(v.cfg.Interval)
	defer t.Stop()
	for k := 0; ; k++ {
		id := fmt.Sprintf("v%d-%d", i, k)
		s := &Sample{Sent: v.now()}
		v.mu.Lock()
		v.msgs[id] = s
		v.mu.Unlock()
		_, err := c.client.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: c.id, ClientMessageId: id, Text: "How long until my order ships?"}))
		v.mu.Lock()
		if err != nil {
			s.Failed, s.Canceled = ctx.Err() == nil, ctx.Err() != nil
		} else {
			s.Ack = v.now()
		}
		v.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drain waits until every acknowledged message was delivered, or drainTimeout.
func (v *victim) drain() {
	for deadline := time.Now().Add(drainTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		v.mu.Lock()
		missing := 0
		for _, s := range v.msgs {
			if s.Ack != 0 && s.Delivered == 0 {
				missing++
			}
		}
		v.mu.Unlock()
		if missing == 0 {
			return
		}
	}
}

// VictimWorker is a victim worker process's life: it reads a VictimConfig from in, runs
// Victim, prints a line when the conversations are accepted and sending begins, stops
// sending when in closes, and prints the samples.
func VictimWorker(ctx context.Context, in io.Reader, out io.Writer) error {
	var cfg VictimConfig
	ctx, cancel, err := workerInput(ctx, in, &cfg)
	if err != nil {
		return fmt.Errorf("reading the victim's configuration: %w", err)
	}
	defer cancel()
	enc := json.NewEncoder(out)
	samples, err := Victim(ctx, cfg, func() { enc.Encode(victimLine{Ready: true}) }) //nolint:errcheck // the parent reads it
	if err != nil {
		enc.Encode(victimLine{Error: err.Error()}) //nolint:errcheck
		return err
	}
	return enc.Encode(victimLine{Samples: samples})
}

// victimClients are the victim's running clients: a worker process, or goroutines of
// this one.
type victimClients struct {
	// stop ends the sending and returns every message's times.
	stop func() ([]Sample, error)
	cpu  func() time.Duration
}

// startVictim starts the victim's clients and returns once they are sending.
func (r *run) startVictim(ctx context.Context, cfg VictimConfig) (*victimClients, error) {
	if len(r.o.VictimCommand) == 0 {
		vctx, cancel := context.WithCancel(ctx)
		type result struct {
			samples []Sample
			err     error
		}
		ready, done := make(chan struct{}), make(chan result, 1)
		go func() {
			s, err := Victim(vctx, cfg, func() { close(ready) })
			done <- result{s, err}
		}()
		select {
		case <-ready:
		case res := <-done:
			cancel()
			return nil, res.err
		}
		return &victimClients{
			stop: func() ([]Sample, error) { cancel(); res := <-done; return res.samples, res.err },
			cpu:  func() time.Duration { return 0 },
		}, nil
	}
	cmd := exec.CommandContext(ctx, r.o.VictimCommand[0], r.o.VictimCommand[1:]...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the victim worker: %w", err)
	}
	lines := json.NewDecoder(bufio.NewReader(stdout))
	fail := func(err error) (*victimClients, error) {
		stdin.Close()
		cmd.Process.Kill() //nolint:errcheck
		cmd.Wait()         //nolint:errcheck
		return nil, err
	}
	if err := json.NewEncoder(stdin).Encode(cfg); err != nil {
		return fail(fmt.Errorf("configuring the victim worker: %w", err))
	}
	var first victimLine
	switch err := lines.Decode(&first); {
	case err != nil:
		return fail(fmt.Errorf("the victim worker did not get ready: %w", err))
	case !first.Ready:
		return fail(fmt.Errorf("the victim worker did not get ready: %s", first.Error))
	}
	pid := cmd.Process.Pid
	return &victimClients{
		stop: func() ([]Sample, error) {
			stdin.Close()
			var last victimLine
			derr := lines.Decode(&last)
			werr := cmd.Wait()
			switch {
			case last.Error != "":
				return nil, errors.New(last.Error)
			case derr != nil:
				return nil, fmt.Errorf("the victim worker's samples (%v): %w", werr, derr)
			}
			return last.Samples, werr
		},
		cpu: func() time.Duration { return processCPU(pid) },
	}, nil
}
