package limits_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

// config is two tenants, each with a unit that takes offline messages and one that does
// not, and an agent who takes many conversations.
const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, businessUnits: [sales], maxConversations: 50}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: gus, namespace: globex}
spec: {agent: gus, businessUnits: [sales], maxConversations: 50}
`

// small are limits a test reaches in a few calls.
func small() limits.Config {
	return limits.Config{
		Tenant: limits.Tenant{
			ConversationsPerMinute:        6,
			MessagesPerSecond:             6,
			DraftsPerSecond:               6,
			PageViewsPerSecond:            6,
			VisitorConversationsPerMinute: 3,
			VisitorPageViewsPerMinute:     3,
			VisitorMessagesPerMinute:      3,
			AgentMessagesPerMinute:        3,
		},
		WriterDraftsPerSecond:       3,
		StreamsPerStaffToken:        3,
		StreamsPerVisitorToken:      2,
		WidgetKeyFailuresPerHour:    3,
		AccountLoginFailuresPerHour: 2,
		AddressLoginFailuresPerHour: 4,
		MaxRequestBytes:             16 << 10,
	}
}

// loopback trusts the test's own address as a proxy, so that each client names its
// address in X-Forwarded-For, as visitors behind a load balancer are told apart.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// world is a replica with small limits on a clock the test moves, and the clients of
// visitors from several addresses.
type world struct {
	env   *testenv.Env
	base  string
	lim   *limits.Limiter
	mu    sync.Mutex
	clock time.Time
	// visitors are started conversations by tenant/name, accepted by the tenant's agent.
	visitors map[string]*visitor
	agents   map[string]*agent
}

type visitor struct {
	tenant, conv, token string
	client              chatv1connect.ChatServiceClient
}

type agent struct {
	token  string
	client chatv1connect.ChatServiceClient
	stream *connect.ServerStreamForClient[chatv1.AgentStreamResponse]
}

func newWorld(t *testing.T, cfg limits.Config, proxies []netip.Prefix) *world {
	t.Helper()
	env := testenv.Start(t, cluster, config)
	r := env.StartReplica(t, server.Config{Limits: &cfg, Proxies: chat.Proxies{Trusted: proxies}})
	w := &world{env: env, base: r.Base, lim: r.Server.Limits, clock: time.Now(), visitors: map[string]*visitor{}, agents: map[string]*agent{}}
	w.lim.SetClock(w.now)
	// Online for the whole test, so that conversations are routed to them.
	w.agent(t, "acme", "ann")
	w.agent(t, "globex", "gus")
	return w
}

func (w *world) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clock
}

// wait moves the limiter's clock on.
func (w *world) wait(d time.Duration) {
	w.mu.Lock()
	w.clock = w.clock.Add(d)
	w.mu.Unlock()
}

// chat is a ChatService client of the limited replica, from address addr (through the
// trusted proxy), calling with token.
func (w *world) chat(addr, token string) chatv1connect.ChatServiceClient {
	return w.env.ChatAt(w.base, token, connect.WithInterceptors(forwardedFor(addr)))
}

// agent returns a tenant's agent signed in, on the replica without small limits, with its
// stream open for as long as the test of t.
func (w *world) agent(t *testing.T, tenant, name string) *agent {
	t.Helper()
	if a := w.agents[tenant+"/"+name]; a != nil {
		return a
	}
	token := w.env.Login(t, tenant, name)
	a := &agent{token: token, client: w.env.Chat(token)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := a.client.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() {
		t.Fatalf("agent %s's stream: %v", name, stream.Err())
	}
	go func() {
		for stream.Receive() {
		}
	}()
	a.stream = stream
	w.agents[tenant+"/"+name] = a
	return a
}

// visitor starts (once) a tenant's conversation named name, taken by its agent, and
// refills every limit afterwards.
func (w *world) visitor(t *testing.T, tenant, name string) *visitor {
	t.Helper()
	if v := w.visitors[tenant+"/"+name]; v != nil {
		return v
	}
	a := w.agent(t, tenant, map[string]string{"acme": "ann", "globex": "gus"}[tenant])
	res, err := w.env.Chat("").StartConversation(ctxT(t), connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: w.env.Tenants[tenant].WidgetKey, BusinessUnit: "sales", VisitorName: name}))
	if err != nil {
		t.Fatalf("starting %s's conversation: %v", name, err)
	}
	conv := res.Msg.Conversation.Id
	if _, err := a.client.AcceptConversation(ctxT(t), connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv})); err != nil {
		t.Fatalf("accepting %s's conversation: %v", name, err)
	}
	v := &visitor{tenant: tenant, conv: conv, token: res.Msg.VisitorToken, client: w.chat("192.0.2.1", res.Msg.VisitorToken)}
	w.visitors[tenant+"/"+name] = v
	return v
}

// forwardedFor is what a proxy in front of the service adds.
type forwardedFor string

func (f forwardedFor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if f != "" {
			req.Header().Set("X-Forwarded-For", string(f))
		}
		return next(ctx, req)
	}
}

func (f forwardedFor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if f != "" {
			conn.RequestHeader().Set("X-Forwarded-For", string(f))
		}
		return conn
	}
}

func (f forwardedFor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// refused checks that err is ResourceExhausted with a RetryInfo detail of want, said in
// the message too, and returns the delay.
func refused(t *testing.T, err error, want time.Duration, why string) time.Duration {
	t.Helper()
	if testenv.Code(err) != connect.CodeResourceExhausted {
		t.Fatalf("got %v; want ResourceExhausted", err)
	}
	d, ok := limits.RetryDelay(err)
	if !ok {
		t.Fatalf("%v carries no RetryInfo detail", err)
	}
	if d != want {
		t.Errorf("retry hint %s; want %s", d, want)
	}
	msg := err.(*connect.Error).Message()
	if !strings.Contains(msg, why) || !strings.Contains(msg, "retry in ") {
		t.Errorf("message %q; want it to say %q and when to retry", msg, why)
	}
	return d
}

// caller is who makes a limited call: "acme/198.51.100.1" for a tenant's visitor at an
// address, "acme/v1" for a tenant's conversation, "acme/ann" for its agent.
type caller struct{ tenant, who string }

func at(s string) caller {
	tenant, who, _ := strings.Cut(s, "/")
	return caller{tenant, who}
}

func TestEachLimitRefusesWithARetryHintStoresNothingAndServesTheSameCallAfterTheHint(t *testing.T) {
	w := newWorld(t, small(), loopback)
	var seq int
	// mark makes each call's content unique, so that what it stored can be counted.
	mark := func(c caller) string {
		seq++
		return fmt.Sprintf("%s-%s-%d", c.tenant, c.who, seq)
	}
	widgetKey := func(c caller) string { return w.env.Tenants[c.tenant].WidgetKey }
	startConversation := func(t *testing.T, c caller, m string) error {
		_, err := w.chat(c.who, "").StartConversation(ctxT(t), connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: widgetKey(c), BusinessUnit: "sales", PageUrl: "https://shop.example/" + m}))
		return err
	}
	leaveOfflineMessage := func(t *testing.T, c caller, m string) error {
		_, err := w.chat(c.who, "").LeaveOfflineMessage(ctxT(t), connect.NewRequest(&chatv1.LeaveOfflineMessageRequest{
			WidgetKey: widgetKey(c), BusinessUnit: "sales", Email: "vic@example.com", Text: m}))
		return err
	}
	trackPageView := func(t *testing.T, c caller, m string) error {
		_, err := w.chat(c.who, "").TrackPageView(ctxT(t), connect.NewRequest(&chatv1.TrackPageViewRequest{
			WidgetKey: widgetKey(c), PageUrl: "https://shop.example/" + m}))
		return err
	}
	getAvailability := func(t *testing.T, c caller, _ string) error {
		_, err := w.chat(c.who, "").GetAvailability(ctxT(t), connect.NewRequest(&chatv1.GetAvailabilityRequest{
			WidgetKey: widgetKey(c), BusinessUnit: "sales"}))
		return err
	}
	visitorSends := func(t *testing.T, c caller, m string) error {
		v := w.visitor(t, c.tenant, c.who)
		_, err := v.client.SendMessage(ctxT(t), connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.conv, ClientMessageId: m, Text: m}))
		return err
	}
	agentSends := func(t *testing.T, c caller, m string) error {
		agentName, convName, _ := strings.Cut(c.who, ":")
		v := w.visitor(t, c.tenant, convName)
		a := w.chat("192.0.2.2", w.agent(t, c.tenant, agentName).token)
		_, err := a.SendMessage(ctxT(t), connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.conv, ClientMessageId: m, Text: m}))
		return err
	}
	visitorTypes := func(t *testing.T, c caller, m string) error {
		v := w.visitor(t, c.tenant, c.who)
		_, err := v.client.UpdateDraft(ctxT(t), connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: v.conv, Text: m}))
		return err
	}
	const (
		conversations = `SELECT count(*) FROM conversations WHERE page_url = 'https://shop.example/' || $1`
		offline       = `SELECT count(*) FROM offline_messages WHERE body = $1`
		pageViews     = `SELECT count(*) FROM page_views WHERE url = 'https://shop.example/' || $1`
		messages      = `SELECT count(*) FROM events WHERE kind = 'message' AND body = $1`
		drafts        = `SELECT count(*) FROM drafts WHERE body = $1`
	)
	for _, c := range []struct {
		name string
		call func(t *testing.T, c caller, mark string) error
		// stored counts the rows a call with that mark wrote; "" for a call that writes none.
		stored string
		// pass are the calls served, in order, before refused is refused (after the hint,
		// served); others are then still served.
		pass    []string
		refused string
		others  []string
		hint    time.Duration
		why     string
	}{
		{
			name: "a visitor's address starting more conversations than its limit is refused; another address and another tenant are not",
			call: startConversation, stored: conversations,
			pass: []string{"acme/198.51.100.1", "acme/198.51.100.1", "acme/198.51.100.1"}, refused: "acme/198.51.100.1",
			others: []string{"acme/198.51.100.2", "globex/198.51.100.1"}, hint: 20 * time.Second, why: "too many conversations started from your address (at most 3 a minute)",
		},
		{
			name: "a tenant starting more conversations than its limit is refused from every address; another tenant is not",
			call: startConversation, stored: conversations,
			pass:    []string{"acme/198.51.100.1", "acme/198.51.100.1", "acme/198.51.100.1", "acme/198.51.100.2", "acme/198.51.100.2", "acme/198.51.100.2"},
			refused: "acme/198.51.100.3", others: []string{"globex/198.51.100.3"},
			hint: 10 * time.Second, why: "this site is starting too many conversations right now (at most 6 a minute)",
		},
		{
			name: "offline messages count as conversations started",
			call: leaveOfflineMessage, stored: offline,
			pass: []string{"acme/198.51.100.1", "acme/198.51.100.1", "acme/198.51.100.1"}, refused: "acme/198.51.100.1",
			others: []string{"acme/198.51.100.2"}, hint: 20 * time.Second, why: "too many conversations started from your address",
		},
		{
			name: "a visitor's address viewing more pages than its limit is refused; another address and another tenant are not",
			call: trackPageView, stored: pageViews,
			pass: []string{"acme/198.51.100.1", "acme/198.51.100.1", "acme/198.51.100.1"}, refused: "acme/198.51.100.1",
			others: []string{"acme/198.51.100.2", "globex/198.51.100.1"}, hint: 20 * time.Second, why: "too many page views from your address (at most 3 a minute)",
		},
		{
			name: "a tenant's page views past its limit are refused from every address; another tenant's are not",
			call: trackPageView, stored: pageViews,
			pass:    []string{"acme/198.51.100.1", "acme/198.51.100.1", "acme/198.51.100.1", "acme/198.51.100.2", "acme/198.51.100.2", "acme/198.51.100.2"},
			refused: "acme/198.51.100.3", others: []string{"globex/198.51.100.3"},
			hint: 200 * time.Millisecond, why: "this site's chat is too busy right now (at most 6 a second)",
		},
		{
			name: "availability checks count as page views",
			call: getAvailability,
			pass: []string{"acme/198.51.100.1", "acme/198.51.100.1", "acme/198.51.100.1"}, refused: "acme/198.51.100.1",
			others: []string{"acme/198.51.100.2"}, hint: 20 * time.Second, why: "too many page views from your address",
		},
		{
			name: "a visitor sending more messages than its limit is refused; another visitor of the tenant and another tenant's are not",
			call: visitorSends, stored: messages,
			pass: []string{"acme/vic", "acme/vic", "acme/vic"}, refused: "acme/vic",
			others: []string{"acme/val", "globex/vic"}, hint: 20 * time.Second, why: "you are sending messages too fast (at most 3 a minute)",
		},
		{
			name: "a tenant's messages past its limit are refused for every visitor; another tenant's are not",
			call: visitorSends, stored: messages,
			pass:    []string{"acme/vic", "acme/vic", "acme/vic", "acme/val", "acme/val", "acme/val"},
			refused: "acme/vio", others: []string{"globex/vic"},
			hint: 200 * time.Millisecond, why: "this site is receiving too many messages right now (at most 6 a second)",
		},
		{
			name: "an agent sending more messages than its limit is refused; the visitor and another tenant's agent are not",
			call: func(t *testing.T, c caller, m string) error {
				if c.who == "vic" {
					return visitorSends(t, c, m)
				}
				return agentSends(t, c, m)
			},
			stored: messages,
			pass:   []string{"acme/ann:vic", "acme/ann:vic", "acme/ann:vic"}, refused: "acme/ann:vic",
			others: []string{"acme/vic", "globex/gus:vic"}, hint: 20 * time.Second, why: "you are sending messages too fast (at most 3 a minute)",
		},
		{
			name: "a writer's draft updates past its limit are refused; another visitor's are not",
			call: visitorTypes, stored: drafts,
			pass: []string{"acme/vic", "acme/vic", "acme/vic"}, refused: "acme/vic",
			others: []string{"acme/val"}, hint: 400 * time.Millisecond, why: "you are sending draft updates too fast (at most 3 a second)",
		},
		{
			name: "a tenant's draft updates past its limit are refused for every writer; another tenant's are not",
			call: visitorTypes, stored: drafts,
			pass:    []string{"acme/vic", "acme/vic", "acme/vic", "acme/val", "acme/val", "acme/val"},
			refused: "acme/vio", others: []string{"globex/vic"},
			hint: 200 * time.Millisecond, why: "this site is receiving too many draft updates right now (at most 6 a second)",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Conversations the calls need are started first; then every bucket refills.
			for _, who := range append(append(c.pass, c.refused), c.others...) {
				cl := at(who)
				if _, conv, ok := strings.Cut(cl.who, ":"); ok {
					w.visitor(t, cl.tenant, conv)
				} else if !strings.Contains(cl.who, ".") {
					w.visitor(t, cl.tenant, cl.who)
				}
			}
			w.wait(time.Hour)
			count := func(m string) int {
				if c.stored == "" {
					return 0
				}
				var n int
				if err := w.env.Owner.QueryRow(ctxT(t), c.stored, m).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			for i, who := range c.pass {
				m := mark(at(who))
				if err := c.call(t, at(who), m); err != nil {
					t.Fatalf("call %d as %s: %v", i+1, who, err)
				}
				if c.stored != "" && count(m) != 1 {
					t.Fatalf("call %d as %s stored %d rows; want 1", i+1, who, count(m))
				}
			}
			m := mark(at(c.refused))
			err := c.call(t, at(c.refused), m)
			hint := refused(t, err, c.hint, c.why)
			if n := count(m); n != 0 {
				t.Errorf("the refused call stored %d rows", n)
			}
			for _, who := range c.others {
				if err := c.call(t, at(who), mark(at(who))); err != nil {
					t.Errorf("%s is limited too: %v", who, err)
				}
			}
			// Just before the hint's delay the same call is refused still (the hint rounds
			// up to a tenth of a second, or a second above ten); at it, served.
			early := 100 * time.Millisecond
			if hint >= 10*time.Second {
				early = time.Second
			}
			w.wait(hint - early)
			if err := c.call(t, at(c.refused), m); testenv.Code(err) != connect.CodeResourceExhausted {
				t.Errorf("before the hint's delay: got %v; want ResourceExhausted", err)
			}
			w.wait(early)
			if err := c.call(t, at(c.refused), m); err != nil {
				t.Fatalf("after the hint's delay: %v", err)
			}
			if c.stored != "" && count(m) != 1 {
				t.Errorf("the call served after the hint stored %d rows; want 1", count(m))
			}
		})
	}
}

func TestATokenHoldsNoMoreStreamsThanItsCapUntilOneCloses(t *testing.T) {
	w := newWorld(t, small(), loopback)
	vic, val := w.visitor(t, "acme", "vic"), w.visitor(t, "acme", "val")
	ann := w.agent(t, "acme", "ann")
	subscribe := func(ctx context.Context, v *visitor) error {
		stream, err := v.client.Subscribe(ctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: v.conv}))
		if err != nil {
			return err
		}
		if !stream.Receive() {
			return stream.Err()
		}
		return nil
	}
	agentStream := func(ctx context.Context, _ *visitor) error {
		stream, err := w.chat("192.0.2.2", ann.token).AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
		if err != nil {
			return err
		}
		if !stream.Receive() {
			return stream.Err()
		}
		return nil
	}
	for _, c := range []struct {
		name  string
		open  func(context.Context, *visitor) error
		cap   int
		other *visitor
	}{
		{"a visitor's token", subscribe, 2, val},
		{"an agent's token", agentStream, 3, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cancels []context.CancelFunc
			for i := range c.cap {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				cancels = append(cancels, cancel)
				if err := c.open(ctx, vic); err != nil {
					t.Fatalf("stream %d: %v", i+1, err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			refused(t, c.open(ctx, vic), 5*time.Second, fmt.Sprintf("this token holds %d streams open, as many as it may; close one", c.cap))
			if c.other != nil {
				if err := c.open(ctx, c.other); err != nil {
					t.Errorf("another visitor's token is refused too: %v", err)
				}
			}
			cancels[0]()
			deadline := time.Now().Add(10 * time.Second)
			for {
				err := c.open(ctx, vic)
				if err == nil {
					break
				}
				if testenv.Code(err) != connect.CodeResourceExhausted || time.Now().After(deadline) {
					t.Fatalf("once a stream closed, opening one: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func TestWidgetKeyGuessingFromOneAddressIsCutOffWhileTheRightKeyFromAnotherWorks(t *testing.T) {
	w := newWorld(t, small(), loopback)
	key := w.env.Tenants["acme"].WidgetKey
	availability := func(addr, key string) error {
		_, err := w.chat(addr, "").GetAvailability(ctxT(t), connect.NewRequest(&chatv1.GetAvailabilityRequest{WidgetKey: key, BusinessUnit: "sales"}))
		return err
	}
	guesser, visitor := "203.0.113.66", "198.51.100.7"
	for i := range 3 {
		if err := availability(guesser, fmt.Sprintf("wk_guess%d", i)); testenv.Code(err) != connect.CodeNotFound {
			t.Fatalf("guess %d: got %v; want NotFound", i+1, err)
		}
	}
	// Known or not, a key from the guessing address gets the same answer: nothing to learn.
	for _, k := range []string{"wk_guess3", key} {
		refused(t, availability(guesser, k), 20*time.Minute, "too many unknown widget keys from your address (at most 3 an hour)")
	}
	if err := availability(visitor, key); err != nil {
		t.Errorf("the right key from another address: %v", err)
	}
	w.wait(20 * time.Minute)
	if err := availability(guesser, key); err != nil {
		t.Errorf("the right key from the guessing address after the hint: %v", err)
	}
}

func TestAVisitorCannotDodgeALimitPerAddressByNamingAnotherAddress(t *testing.T) {
	// No proxy is trusted: X-Forwarded-For is the visitor's own word.
	w := newWorld(t, small(), nil)
	for i := range 3 {
		if _, err := w.chat(fmt.Sprintf("198.51.100.%d", i+1), "").GetAvailability(ctxT(t), connect.NewRequest(&chatv1.GetAvailabilityRequest{
			WidgetKey: fmt.Sprintf("wk_guess%d", i), BusinessUnit: "sales"})); testenv.Code(err) != connect.CodeNotFound {
			t.Fatalf("guess %d: got %v; want NotFound", i+1, err)
		}
	}
	_, err := w.chat("198.51.100.200", "").GetAvailability(ctxT(t), connect.NewRequest(&chatv1.GetAvailabilityRequest{
		WidgetKey: w.env.Tenants["acme"].WidgetKey, BusinessUnit: "sales"}))
	refused(t, err, 20*time.Minute, "too many unknown widget keys from your address")
}

func TestSignInGuessingIsCutOffPerAccountAndPerAddress(t *testing.T) {
	w := newWorld(t, small(), loopback)
	signIn := func(addr, tenant, username, password string) error {
		client := authv1connect.NewAuthServiceClient(w.env.HTTP, w.base, connect.WithInterceptors(forwardedFor(addr)))
		_, err := client.Login(ctxT(t), connect.NewRequest(&authv1.LoginRequest{Tenant: tenant, Username: username, Password: password}))
		return err
	}
	sessions := func() int {
		var n int
		if err := w.env.Owner.QueryRow(ctxT(t), `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("an account that failed its limit is refused even the right password, from anywhere; another account is not", func(t *testing.T) {
		w.wait(2 * time.Hour)
		for i := range 2 {
			if err := signIn("198.51.100.1", "acme", "ann", "wrong"); testenv.Code(err) != connect.CodeUnauthenticated {
				t.Fatalf("wrong password %d: got %v; want Unauthenticated", i+1, err)
			}
		}
		before := sessions()
		refused(t, signIn("198.51.100.2", "acme", "ANN", testenv.Password), 30*time.Minute, "too many failed sign-ins to this account (at most 2 an hour)")
		if n := sessions(); n != before {
			t.Errorf("the refused sign-in made %d sessions", n-before)
		}
		if err := signIn("198.51.100.1", "globex", "gus", testenv.Password); err != nil {
			t.Errorf("another account: %v", err)
		}
		w.wait(30 * time.Minute)
		if err := signIn("198.51.100.2", "acme", "ann", testenv.Password); err != nil {
			t.Errorf("after the hint: %v", err)
		}
	})
	t.Run("an address that failed its limit is refused for every account; another address is not", func(t *testing.T) {
		w.wait(2 * time.Hour)
		for i, user := range []string{"nobody", "ann", "gus", "admin"} {
			tenant := "acme"
			if user == "gus" {
				tenant = "globex"
			}
			if err := signIn("203.0.113.9", tenant, user, "wrong"); testenv.Code(err) != connect.CodeUnauthenticated {
				t.Fatalf("wrong sign-in %d: got %v; want Unauthenticated", i+1, err)
			}
		}
		refused(t, signIn("203.0.113.9", "globex", "gus", testenv.Password), 15*time.Minute, "too many failed sign-ins from your address (at most 4 an hour)")
		if err := signIn("198.51.100.4", "globex", "gus", testenv.Password); err != nil {
			t.Errorf("another address: %v", err)
		}
	})
}

func TestATenantsOwnLimitsTakeEffectOnARunningServerWithoutRestart(t *testing.T) {
	w := newWorld(t, small(), loopback)
	vic, gil := w.visitor(t, "acme", "vic"), w.visitor(t, "globex", "gil")
	n := 0
	send := func(v *visitor) error {
		n++
		_, err := v.client.SendMessage(ctxT(t), connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.conv, ClientMessageId: fmt.Sprint(n), Text: "hello"}))
		return err
	}
	// passes says how many messages in a row a visitor sends before a refusal (up to max),
	// and the refusal.
	passes := func(v *visitor, max int) (int, error) {
		w.wait(time.Hour)
		for i := range max {
			if err := send(v); err != nil {
				return i, err
			}
		}
		return max, nil
	}
	// until applies config and waits until the acme visitor's limit is want.
	until := func(config string, want int) {
		t.Helper()
		w.env.Apply(t, config)
		deadline := time.Now().Add(15 * time.Second)
		for {
			got, err := passes(vic, want+1)
			if got == want {
				refused(t, err, time.Minute/time.Duration(want), fmt.Sprintf("at most %d a minute", want))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("acme's visitors still send %d messages in a row (%v); want %d", got, err, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got, _ := passes(vic, 10); got != 3 {
		t.Fatalf("with the server's limits a visitor sends %d messages in a row; want 3", got)
	}
	raised := `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec: {limits: {visitorMessagesPerMinute: 5, messagesPerSecond: 100}}
`
	until(raised, 5)
	if got, _ := passes(gil, 10); got != 3 {
		t.Errorf("another tenant's visitor sends %d messages in a row; want the server's 3", got)
	}
	until(`
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec: {limits: {visitorMessagesPerMinute: 2}}
`, 2)
	until(`
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
`, 3)
}

func TestAnOversizedRequestIsRefusedBeforeDecodingAndALongTextStaysInvalid(t *testing.T) {
	w := newWorld(t, small(), loopback)
	vic := w.visitor(t, "acme", "vic")
	for _, c := range []struct {
		name string
		text string
		code connect.Code
		says string
	}{
		{"a request over the size limit is ResourceExhausted", strings.Repeat("x", 20<<10), connect.CodeResourceExhausted, "larger than configured max"},
		{"a text over its limit is InvalidArgument naming the field", strings.Repeat("x", chat.MaxMessageBytes+1), connect.CodeInvalidArgument, "text: 4097 bytes is over the limit of 4096 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := vic.client.SendMessage(ctxT(t), connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: vic.conv, ClientMessageId: c.name, Text: c.text}))
			if testenv.Code(err) != c.code || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v; want %s saying %q", err, c.code, c.says)
			}
			var n int
			if err := w.env.Owner.QueryRow(ctxT(t), `SELECT count(*) FROM events WHERE kind = 'message'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d messages stored (%v); want none", n, err)
			}
		})
	}
}

func TestASpentLimitRefusesAMessageBeforeItIsReadAndAForgedTokenSpendsNothing(t *testing.T) {
	w := newWorld(t, small(), loopback)
	vic := w.visitor(t, "acme", "vic")
	send := func(c chatv1connect.ChatServiceClient, id string) error {
		_, err := c.SendMessage(ctxT(t), connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: vic.conv, ClientMessageId: id, Text: "hello"}))
		return err
	}
	for i := range 3 {
		if err := send(vic.client, fmt.Sprintf("m%d", i)); err != nil {
			t.Fatalf("message %d of the visitor's 3 a minute: %v", i, err)
		}
	}
	// A token that names the visitor's tenant and conversation but whose secret is made up.
	parts := strings.Split(vic.token, ".")
	forged := w.chat("192.0.2.1", strings.Join(append(parts[:3], "made-up-secret"), "."))

	t.Run("a message that is not even protobuf is refused as spent, not read and found invalid", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, w.base+chatv1connect.ChatServiceSendMessageProcedure, strings.NewReader("not protobuf"))
		req.Header.Set("Content-Type", "application/proto")
		req.Header.Set("Authorization", "Bearer "+vic.token)
		res, err := w.env.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), `"resource_exhausted"`) || !strings.Contains(string(body), "you are sending messages too fast") {
			t.Fatalf("HTTP %d %s; want 429, resource_exhausted: you are sending messages too fast", res.StatusCode, body)
		}
	})
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"a Connect client is refused with the hint", func() error { return send(vic.client, "proto") }},
		{"a Connect client in JSON is refused with the same hint", func() error {
			return send(w.env.ChatAt(w.base, vic.token, connect.WithProtoJSON(), connect.WithInterceptors(forwardedFor("192.0.2.1"))), "json")
		}},
		{"a gRPC client is refused with the same hint", func() error {
			return send(w.env.ChatAt(w.base, vic.token, connect.WithGRPC(), connect.WithInterceptors(forwardedFor("192.0.2.1"))), "grpc")
		}},
		{"a gRPC-Web client is refused with the same hint", func() error {
			return send(w.env.ChatAt(w.base, vic.token, connect.WithGRPCWeb(), connect.WithInterceptors(forwardedFor("192.0.2.1"))), "grpc-web")
		}},
		{"a forged token naming the spent conversation is refused like the real one", func() error { return send(forged, "forged") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if testenv.Code(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "you are sending messages too fast") {
				t.Fatalf("got %v; want ResourceExhausted: you are sending messages too fast", err)
			}
			if d, ok := limits.RetryDelay(err); !ok || d != 20*time.Second {
				t.Errorf("retry hint %s (%v); want 20s", d, ok)
			}
		})
	}

	t.Run("once the limit refilled a forged token is unauthenticated and spends nothing of the visitor's", func(t *testing.T) {
		w.wait(20 * time.Second)
		for i := range 5 {
			if err := send(forged, fmt.Sprintf("forged%d", i)); testenv.Code(err) != connect.CodeUnauthenticated {
				t.Fatalf("forged call %d: %v; want Unauthenticated", i, err)
			}
		}
		if err := send(vic.client, "m3"); err != nil {
			t.Fatalf("the visitor's message after the refill: %v", err)
		}
		var n int
		if err := w.env.Owner.QueryRow(ctxT(t), `SELECT count(*) FROM events WHERE kind = 'message'`).Scan(&n); err != nil || n != 4 {
			t.Errorf("%d messages stored (%v); want the visitor's 4", n, err)
		}
	})
}

func TestASpentSiteRefusesAWidgetCallBeforeItIsReadAndAnotherSiteStillStarts(t *testing.T) {
	w := newWorld(t, small(), loopback)
	key := w.env.Tenants["acme"].WidgetKey
	start := func(tenant, addr string) error {
		_, err := w.chat(addr, "").StartConversation(ctxT(t), connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: w.env.Tenants[tenant].WidgetKey, BusinessUnit: "sales"}))
		return err
	}
	// The site's 6 a minute, each from an address of its own (3 a minute each).
	for i := range 6 {
		if err := start("acme", fmt.Sprintf("198.51.100.%d", i+1)); err != nil {
			t.Fatalf("conversation %d of the site's 6 a minute: %v", i, err)
		}
	}
	// Bodies that name the site's key and then are not a valid request: read and decoded,
	// they are InvalidArgument; refused before, ResourceExhausted.
	invalidProto := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), key)
	invalidProto = protowire.AppendBytes(protowire.AppendTag(invalidProto, 2, protowire.BytesType), []byte{0xff, 0xfe})
	invalidJSON := []byte(`{"widgetKey": "` + key + `", "businessUnit": 5}`)
	post := func(t *testing.T, contentType string, body []byte) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, w.base+chatv1connect.ChatServiceStartConversationProcedure, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Forwarded-For", "198.51.100.99")
		res, err := w.env.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, c := range []struct {
		name, contentType string
		body              []byte
	}{
		{"in protobuf", "application/proto", invalidProto},
		{"in JSON", "application/json", invalidJSON},
	} {
		t.Run("a call that is not even valid is refused as spent, "+c.name, func(t *testing.T) {
			status, body := post(t, c.contentType, c.body)
			if status != http.StatusTooManyRequests || !strings.Contains(body, `"resource_exhausted"`) ||
				!strings.Contains(body, "this site is starting too many conversations right now (at most 6 a minute)") {
				t.Fatalf("HTTP %d %s; want 429, resource_exhausted: this site is starting too many conversations right now", status, body)
			}
		})
	}
	t.Run("a Connect client is refused with the hint", func(t *testing.T) {
		err := start("acme", "198.51.100.98")
		if testenv.Code(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "this site is starting too many conversations right now") {
			t.Fatalf("got %v; want ResourceExhausted: this site is starting too many conversations right now", err)
		}
		if d, ok := limits.RetryDelay(err); !ok || d != 10*time.Second {
			t.Errorf("retry hint %s (%v); want 10s", d, ok)
		}
	})
	t.Run("another site's conversation starts", func(t *testing.T) {
		if err := start("globex", "198.51.100.1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("after the refill the invalid calls are read and found invalid, and the site starts one", func(t *testing.T) {
		w.wait(10 * time.Second)
		for _, ct := range []string{"application/proto", "application/json"} {
			body := invalidProto
			if ct == "application/json" {
				body = invalidJSON
			}
			if status, answer := post(t, ct, body); status != http.StatusBadRequest || !strings.Contains(answer, `"invalid_argument"`) {
				t.Fatalf("%s: HTTP %d %s; want 400, invalid_argument", ct, status, answer)
			}
		}
		if err := start("acme", "198.51.100.97"); err != nil {
			t.Fatalf("the site's conversation after the refill: %v", err)
		}
		var n int
		if err := w.env.Owner.QueryRow(ctxT(t), `SELECT count(*) FROM conversations c JOIN tenants t USING (tenant_id) WHERE t.name = 'acme'`).Scan(&n); err != nil || n != 7 {
			t.Errorf("acme has %d conversations (%v); want the 6 and the one after the refill", n, err)
		}
	})
}
