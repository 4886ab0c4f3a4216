package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// The drills' load: visitors and agents chatting, a supervisor whispering, and every
// party following its conversations live, as the widget, the agent workspace and the
// supervisor's console do. Every client records what it was acknowledged and what it
// received; the audit holds those records against the database.

// crashAgents serve both units with room for every conversation of the drill.
const crashAgents = 5

func crashConfig(s crashSettings) string {
	var b strings.Builder
	b.WriteString(`
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
`)
	for _, unit := range []string{"sales", "support"} {
		fmt.Fprintf(&b, `---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: %s, namespace: acme}
spec:
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats]}
`, unit)
	}
	for i := 1; i <= crashAgents; i++ {
		fmt.Fprintf(&b, `---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: agent%d, namespace: acme}
spec: {agent: agent%d, businessUnits: [sales, support], maxConversations: %d}
`, i, i, (s.visitors+crashAgents-1)/crashAgents+1)
	}
	return b.String()
}

// Client behaviour.
const (
	// callTimeout is every call's deadline: a call that takes longer hung.
	callTimeout = 10 * time.Second
	// sendPace is the mean time between a sender's messages.
	sendPace = time.Second
	// whisperEvery is which conversations the supervisor whispers in (every n-th).
	whisperEvery = 4
	// watchedAlone is how many conversations the supervisor also watches one by one.
	watchedAlone = 2
	// giveUp bounds how long, after the load stops, a sender keeps retrying the message
	// it was sending.
	giveUp = time.Minute
	// settleWait bounds how long, after the load stops, the streams may take to deliver
	// every stored event.
	settleWait = time.Minute
)

// load is the clients of one drill.
type load struct {
	t        *testing.T
	env      *testenv.Env
	settings crashSettings
	bases    []string
	// strict: no process dies, so every error a client sees must be Unavailable with a
	// hint to retry.
	strict bool

	visitorHTTP, staffHTTP *http.Client

	visitors  []*crashVisitor
	quietened map[string]bool
	senders   []*sender
	subs      []*subscriber

	stopSending chan struct{}
	sendersDone sync.WaitGroup
	giveUpCtx   context.Context
	giveUpStop  context.CancelFunc
	streamsCtx  context.Context
	streamsStop context.CancelFunc
	streamsDone sync.WaitGroup

	ackedTotal atomic.Int64
	// kills and outages are the faults injected, for the figures.
	kills, outages int

	errMu      sync.Mutex
	errors     map[connect.Code]int
	violations []string
}

type crashVisitor struct {
	name, unit, base string
	conv, token      string
	// quiet, once closed, stops the conversation's senders after their next
	// acknowledged message.
	quiet chan struct{}
}

func newLoad(t *testing.T, env *testenv.Env, s crashSettings, bases []string, strict bool) *load {
	env.Base = bases[0] // where the clients sign in
	l := &load{t: t, env: env, settings: s, bases: bases, strict: strict, errors: map[connect.Code]int{}, quietened: map[string]bool{}, stopSending: make(chan struct{})}
	// Visitors speak the Connect protocol over HTTP/1.1, as the widget in a browser does;
	// staff use HTTP/2 (h2c).
	visitorTransport := &http.Transport{MaxIdleConnsPerHost: 4 * s.visitors}
	l.visitorHTTP = &http.Client{Transport: visitorTransport}
	l.staffHTTP = env.HTTP
	l.giveUpCtx, l.giveUpStop = context.WithCancel(context.Background())
	l.streamsCtx, l.streamsStop = context.WithCancel(context.Background())
	t.Cleanup(func() {
		l.giveUpStop()
		l.streamsStop()
		visitorTransport.CloseIdleConnections()
	})
	return l
}

// base is the replica the i-th client of a kind talks to: with two replicas, a visitor
// and its agent are on different ones, so their messages cross between replicas.
func (l *load) base(i int) string { return l.bases[i%len(l.bases)] }

func (l *load) acked() int64 { return l.ackedTotal.Load() }

// start signs the agents in with their streams open, starts the conversations, has the
// agents accept them, then starts every stream and sender.
func (l *load) start() {
	t := l.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tenant := l.env.Tenants["acme"]

	agentChats := map[string]chatv1connect.ChatServiceClient{}
	for i := 1; i <= crashAgents; i++ {
		name := fmt.Sprintf("agent%d", i)
		token := l.env.Login(t, "acme", name)
		client := chatv1connect.NewChatServiceClient(l.staffHTTP, l.base(i), connect.WithInterceptors(testenv.Bearer(token)))
		agentChats[name] = client
		sub := l.subscriber(name, false)
		l.follow(sub, func(ctx context.Context, cursors map[string]int64) error {
			req := &chatv1.AgentStreamRequest{}
			for conv, after := range cursors {
				req.Resume = append(req.Resume, &chatv1.ConversationCursor{ConversationId: conv, AfterSeq: after})
			}
			stream, err := client.AgentStream(ctx, connect.NewRequest(req))
			if err != nil {
				return err
			}
			defer stream.Close()
			for stream.Receive() {
				switch m := stream.Msg(); {
				case m.GetAssignment() != nil:
					sub.know(m.GetAssignment().GetConversation().GetId())
				case m.GetEvent() != nil:
					sub.receive(m.GetEvent())
				}
			}
			return stream.Err()
		})
	}
	// Routing needs the agents online.
	l.waitFor(ctx, "every agent online", func() (bool, error) {
		var online int
		err := l.env.Owner.QueryRow(ctx, `SELECT count(*) FROM agents WHERE tenant_id = $1 AND status = 'available'`, tenant.ID).Scan(&online)
		return online == crashAgents, err
	})

	for i := range l.settings.visitors {
		v := &crashVisitor{name: fmt.Sprintf("visitor%02d", i+1), unit: []string{"sales", "support"}[i%2], base: l.base(i), quiet: make(chan struct{})}
		chat := chatv1connect.NewChatServiceClient(l.visitorHTTP, v.base)
		res, err := chat.StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: tenant.WidgetKey, BusinessUnit: v.unit, VisitorName: v.name}))
		if err != nil {
			t.Fatalf("%s starting a conversation: %v", v.name, err)
		}
		if st := res.Msg.GetConversation().GetState(); st != chatv1.ConversationState_CONVERSATION_STATE_ASSIGNED {
			t.Fatalf("%s's conversation is %s, want it assigned: the drill's agents have room for every conversation", v.name, st)
		}
		v.conv, v.token = res.Msg.Conversation.Id, res.Msg.VisitorToken
		l.visitors = append(l.visitors, v)
	}
	agentOf := map[string]string{}
	for name, client := range agentChats {
		res, err := client.ListMyConversations(ctx, connect.NewRequest(&chatv1.ListMyConversationsRequest{}))
		if err != nil {
			t.Fatalf("%s listing its conversations: %v", name, err)
		}
		for _, c := range res.Msg.Conversations {
			if _, err := client.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: c.Id})); err != nil {
				t.Fatalf("%s accepting %s: %v", name, c.Id, err)
			}
			agentOf[c.Id] = name
		}
	}

	// Every party follows its conversations from the start and sends with client ids.
	sam := l.env.Login(t, "acme", "sam")
	var watched []string
	for i, v := range l.visitors {
		agent := agentOf[v.conv]
		if agent == "" {
			t.Fatalf("%s's conversation %s has no agent after routing", v.name, v.conv)
		}
		watched = append(watched, v.conv)
		chat := chatv1connect.NewChatServiceClient(l.visitorHTTP, v.base, connect.WithInterceptors(testenv.Bearer(v.token)))
		sub := l.subscriber(v.name, true)
		sub.know(v.conv)
		l.follow(sub, func(ctx context.Context, cursors map[string]int64) error {
			stream, err := chat.Subscribe(ctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: v.conv, AfterSeq: cursors[v.conv]}))
			if err != nil {
				return err
			}
			defer stream.Close()
			for stream.Receive() {
				sub.receive(stream.Msg().GetEvent())
			}
			return stream.Err()
		})
		l.send(v.name, "visitor", v.conv, v.quiet, func(ctx context.Context, id, text string) (*chatv1.Event, error) {
			res, err := chat.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.conv, ClientMessageId: id, Text: text}))
			if err != nil {
				return nil, err
			}
			return res.Msg.Event, nil
		})
		agentChat := agentChats[agent]
		l.send(agent+"-"+v.name, "agent", v.conv, v.quiet, func(ctx context.Context, id, text string) (*chatv1.Event, error) {
			res, err := agentChat.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.conv, ClientMessageId: id, Text: text}))
			if err != nil {
				return nil, err
			}
			return res.Msg.Event, nil
		})
		if i%whisperEvery == 0 {
			sup := supervisionv1connect.NewSupervisionServiceClient(l.staffHTTP, l.base(i+1), connect.WithInterceptors(testenv.Bearer(sam)))
			l.send("sam-"+v.name, "supervisor", v.conv, v.quiet, func(ctx context.Context, id, text string) (*chatv1.Event, error) {
				res, err := sup.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: v.conv, ClientMessageId: id, Text: text}))
				if err != nil {
					return nil, err
				}
				return res.Msg.Event, nil
			})
		}
	}
	// The supervisor's console: every chat on one stream (gRPC), and a few alone
	// (gRPC-Web), on different replicas.
	if len(watched) > 50 {
		watched = watched[:50]
	}
	many := supervisionv1connect.NewSupervisionServiceClient(l.staffHTTP, l.base(0), connect.WithGRPC(), connect.WithInterceptors(testenv.Bearer(sam)))
	sub := l.subscriber("sam-all", false)
	for _, conv := range watched {
		sub.know(conv)
	}
	l.follow(sub, func(ctx context.Context, cursors map[string]int64) error {
		req := &supervisionv1.WatchConversationsRequest{}
		for _, conv := range watched {
			req.Conversations = append(req.Conversations, &supervisionv1.ConversationCursor{ConversationId: conv, AfterSeq: cursors[conv]})
		}
		stream, err := many.WatchConversations(ctx, connect.NewRequest(req))
		if err != nil {
			return err
		}
		defer stream.Close()
		for stream.Receive() {
			if r := stream.Msg().GetRefused(); r != nil {
				l.violation("sam-all: conversation %s refused: %s", r.ConversationId, r.Reason)
			}
			sub.receive(stream.Msg().GetEvent())
		}
		return stream.Err()
	})
	for i := range min(watchedAlone, len(l.visitors)) {
		conv := l.visitors[i].conv
		one := supervisionv1connect.NewSupervisionServiceClient(l.staffHTTP, l.base(i+1), connect.WithGRPCWeb(), connect.WithInterceptors(testenv.Bearer(sam)))
		sub := l.subscriber(fmt.Sprintf("sam-%s", l.visitors[i].name), false)
		sub.know(conv)
		l.follow(sub, func(ctx context.Context, cursors map[string]int64) error {
			stream, err := one.WatchConversation(ctx, connect.NewRequest(&supervisionv1.WatchConversationRequest{ConversationId: conv, AfterSeq: cursors[conv]}))
			if err != nil {
				return err
			}
			defer stream.Close()
			for stream.Receive() {
				sub.receive(stream.Msg().GetEvent())
			}
			return stream.Err()
		})
	}
	l.t.Logf("load: %d conversations, %d senders, %d streams, on %s", len(l.visitors), len(l.senders), len(l.subs), strings.Join(l.bases, " and "))
}

// quieten picks n conversations still chatting (the same ones for the same seed) whose
// senders are to stop after their next acknowledged message: call the returned func to say
// when. Their last messages are then the ones sent at that moment, which streams must still
// get, though nothing comes after them to reveal a gap.
func (l *load) quieten(n int) (names []string, now func()) {
	var picked []*crashVisitor
	for _, v := range l.visitors {
		if len(picked) == n {
			break
		}
		if !l.quietened[v.conv] {
			l.quietened[v.conv] = true
			picked = append(picked, v)
			names = append(names, v.name)
		}
	}
	return names, func() {
		for _, v := range picked {
			close(v.quiet)
		}
	}
}

func (l *load) waitFor(ctx context.Context, what string, cond func() (bool, error)) {
	l.t.Helper()
	for {
		ok, err := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			l.t.Fatalf("waiting for %s: %v (last error %v)", what, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sawError counts an error a client got; in a strict drill anything but a retryable
// Unavailable is a violation, and so is a call that outlived its deadline.
func (l *load) sawError(who string, err error) {
	code := connect.CodeOf(err)
	l.errMu.Lock()
	if l.errors[code]++; l.errors[code] == 1 {
		l.t.Logf("first %s error, %s: %v", code, who, err)
	}
	l.errMu.Unlock()
	if !l.strict {
		return
	}
	var ce *connect.Error
	switch {
	case errors.As(err, &ce) && ce.Code() == connect.CodeUnavailable && strings.Contains(strings.ToLower(ce.Message()), "retry"):
	case code == connect.CodeDeadlineExceeded:
		l.violation("%s: a call hung past its %s deadline (at %s): %v", who, callTimeout, time.Now().UTC().Format("15:04:05.000"), err)
	default:
		l.violation("%s: %v (want Unavailable with a hint to retry)", who, err)
	}
}

func (l *load) violation(format string, args ...any) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	l.violations = append(l.violations, fmt.Sprintf(format, args...))
}

// pause is a short randomised wait between retries.
func pause(rng *rand.Rand) time.Duration {
	return 100*time.Millisecond + time.Duration(rng.Int64N(int64(200*time.Millisecond)))
}

// sender sends one party's messages to one conversation, one at a time, each retried
// with the same client id until acknowledged.
type sender struct {
	name, kind, conv string
	// Written by the sender's goroutine, read after it ended.
	acked    []sentMessage
	unacked  []string // the message the sender gave up on at the end, if any
	attempts int
	retried  int // messages acknowledged only after more than one attempt
}

type sentMessage struct {
	id   string
	seq  int64
	text string
}

func (l *load) send(name, kind, conv string, quiet <-chan struct{}, call func(ctx context.Context, id, text string) (*chatv1.Event, error)) {
	s := &sender{name: name, kind: kind, conv: conv}
	rng := rand.New(rand.NewPCG(l.settings.seed, uint64(len(l.senders)+1000)))
	l.senders = append(l.senders, s)
	l.sendersDone.Add(1)
	go func() {
		defer l.sendersDone.Done()
		for n := 1; ; n++ {
			select {
			case <-l.stopSending:
				return
			case <-time.After(sendPace/2 + time.Duration(rng.Int64N(int64(sendPace)))):
			}
			id := fmt.Sprintf("%s-%05d", name, n)
			text := "message " + id
			for attempt := 1; ; attempt++ {
				s.attempts++
				ctx, cancel := context.WithTimeout(l.giveUpCtx, callTimeout)
				e, err := call(ctx, id, text)
				cancel()
				if err == nil {
					if got := e.GetMessage().GetClientMessageId(); got != id || e.GetMessage().GetText() != text {
						l.violation("%s: sending %s was acknowledged with message %q %q", name, id, got, e.GetMessage().GetText())
					}
					s.acked = append(s.acked, sentMessage{id: id, seq: e.GetSeq(), text: text})
					l.ackedTotal.Add(1)
					if attempt > 1 {
						s.retried++
					}
					select {
					case <-quiet:
						return
					default:
					}
					break
				}
				if l.giveUpCtx.Err() != nil {
					s.unacked = append(s.unacked, id)
					return
				}
				l.sawError(name, err)
				time.Sleep(pause(rng))
			}
		}
	}()
}

// subscriber is one stream's record: for each conversation, the sequence numbers of the
// stored events it received, in the order received.
type subscriber struct {
	name    string
	visitor bool

	mu        sync.Mutex
	got       map[string][]int64
	last      map[string]int64
	leaks     []string
	connects  int
	resumes   int
	delivered int
	// resuming: the stream was reopened with after_seq > 0 and has not delivered yet; it
	// counts as a resume once it delivers.
	resuming bool
}

func (l *load) subscriber(name string, visitor bool) *subscriber {
	s := &subscriber{name: name, visitor: visitor, got: map[string][]int64{}, last: map[string]int64{}}
	l.subs = append(l.subs, s)
	return s
}

// know adds a conversation the stream follows (an agent learns its own from assignments).
func (s *subscriber) know(conv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.last[conv]; !ok && conv != "" {
		s.last[conv] = 0
	}
}

func (s *subscriber) receive(e *chatv1.Event) {
	if e.GetMessage() == nil && e.GetSystem() == nil {
		return // typing and drafts are live only: no sequence of their own
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := e.ConversationId
	s.got[c] = append(s.got[c], e.Seq)
	s.last[c] = max(s.last[c], e.Seq)
	s.delivered++
	if s.resuming {
		s.resuming = false
		s.resumes++
	}
	if s.visitor && e.GetAuthor().GetKind() == chatv1.AuthorKind_AUTHOR_KIND_SUPERVISOR {
		s.leaks = append(s.leaks, fmt.Sprintf("seq %d %q", e.Seq, e.GetMessage().GetText()))
	}
}

// cursors are where the stream resumes: the last sequence number it has of each
// conversation.
func (s *subscriber) cursors() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.last))
	resumed := false
	for c, seq := range s.last {
		out[c] = seq
		resumed = resumed || seq > 0
	}
	s.connects++
	s.resuming = resumed
	return out
}

// follow keeps a stream open, reconnecting on any end with the cursors it has.
func (l *load) follow(s *subscriber, open func(ctx context.Context, cursors map[string]int64) error) {
	rng := rand.New(rand.NewPCG(l.settings.seed, uint64(len(l.subs)+2000)))
	l.streamsDone.Add(1)
	go func() {
		defer l.streamsDone.Done()
		for {
			err := open(l.streamsCtx, s.cursors())
			if l.streamsCtx.Err() != nil {
				return
			}
			if err == nil {
				err = errors.New("the stream ended without an error")
			}
			l.sawError(s.name, err)
			time.Sleep(pause(rng))
		}
	}()
}

// finish stops the senders (each finishes the message it is sending), waits until every
// stream has what is stored, closes the streams and audits.
func (l *load) finish() figures {
	t := l.t
	t.Helper()
	close(l.stopSending)
	stopped := make(chan struct{})
	go func() { l.sendersDone.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(giveUp):
		l.giveUpStop()
		<-stopped
	}
	stored := l.readStored()
	deadline := time.Now().Add(settleWait)
	for !l.caughtUp(stored) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	l.streamsStop()
	l.streamsDone.Wait()
	return l.audit(stored)
}

// storedEvent is an event as the database has it.
type storedEvent struct {
	seq        int64
	authorKind string
	visibility string
	clientID   string
	body       string
}

// readStored reads every event of the drill's conversations as the schema owner, past
// row-level security and the services.
func (l *load) readStored() map[string][]storedEvent {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := l.env.Owner.Query(ctx, `SELECT conversation_id::text, seq, author_kind, visibility, coalesce(client_message_id, ''), body
		FROM events WHERE tenant_id = $1 ORDER BY conversation_id, seq`, l.env.Tenants["acme"].ID)
	if err != nil {
		l.t.Fatalf("reading the stored events: %v", err)
	}
	defer rows.Close()
	out := map[string][]storedEvent{}
	for rows.Next() {
		var conv string
		var e storedEvent
		if err := rows.Scan(&conv, &e.seq, &e.authorKind, &e.visibility, &e.clientID, &e.body); err != nil {
			l.t.Fatal(err)
		}
		out[conv] = append(out[conv], e)
	}
	if err := rows.Err(); err != nil {
		l.t.Fatal(err)
	}
	return out
}

// expected is what a stream should have received of a conversation: every stored event,
// or for a visitor those visible to it.
func expected(s *subscriber, events []storedEvent) []int64 {
	var out []int64
	for _, e := range events {
		if !s.visitor || e.visibility == "all" {
			out = append(out, e.seq)
		}
	}
	return out
}

func (l *load) caughtUp(stored map[string][]storedEvent) bool {
	for _, s := range l.subs {
		s.mu.Lock()
		for conv, last := range s.last {
			want := expected(s, stored[conv])
			if len(want) > 0 && last < want[len(want)-1] {
				s.mu.Unlock()
				return false
			}
		}
		s.mu.Unlock()
	}
	return true
}

// figures are a drill's outcome, quoted in the README.
type figures struct {
	kills, outages      int
	acked, lost, dups   int
	storedUnacked       int
	retried, attempts   int
	resumes, reconnects int
	delivered           int
	errors              map[connect.Code]int
}

func (f figures) String() string {
	codes := make([]string, 0, len(f.errors))
	for code, n := range f.errors {
		codes = append(codes, fmt.Sprintf("%s %d", code, n))
	}
	sort.Strings(codes)
	faults := fmt.Sprintf("kills %d", f.kills)
	if f.outages > 0 {
		faults = fmt.Sprintf("outages %d", f.outages)
	}
	return fmt.Sprintf("%s, messages acknowledged %d, lost %d, duplicates %d, stored unacknowledged %d, sends retried %d (%d attempts), streams resumed with after_seq %d (%d reconnect attempts), events delivered %d, errors seen by clients: %s",
		faults, f.acked, f.lost, f.dups, f.storedUnacked, f.retried, f.attempts, f.resumes, f.reconnects, f.delivered, strings.Join(codes, ", "))
}

// audit holds every record against the database and fails the test on any difference.
func (l *load) audit(stored map[string][]storedEvent) figures {
	t := l.t
	t.Helper()
	f := figures{kills: l.kills, outages: l.outages, errors: l.errors}
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	// The stored conversations: sequence numbers without a gap, each client id once.
	byID := map[string][]storedEvent{}
	for conv, events := range stored {
		for i, e := range events {
			if e.seq != int64(i+1) {
				problem("conversation %s: stored seq %d at position %d", conv, e.seq, i+1)
			}
			if e.clientID != "" {
				byID[conv+"/"+e.clientID] = append(byID[conv+"/"+e.clientID], e)
			}
		}
	}
	for key, es := range byID {
		if len(es) > 1 {
			f.dups += len(es) - 1
			problem("message %s stored %d times", key, len(es))
		}
	}

	// Every acknowledged message stored once, as acknowledged, in its sender's order, and
	// nothing of the sender's stored that it was not told about.
	wantKind := map[string]struct{ author, visibility string }{
		"visitor": {"visitor", "all"}, "agent": {"agent", "all"}, "supervisor": {"supervisor", "staff"},
	}
	for _, s := range l.senders {
		f.attempts += s.attempts
		f.retried += s.retried
		f.acked += len(s.acked)
		for _, m := range s.acked {
			es := byID[s.conv+"/"+m.id]
			if len(es) == 0 {
				f.lost++
				problem("%s: message %s acknowledged with seq %d is not stored", s.name, m.id, m.seq)
				continue
			}
			e, want := es[0], wantKind[s.kind]
			if e.seq != m.seq || e.body != m.text || e.authorKind != want.author || e.visibility != want.visibility {
				problem("%s: message %s acknowledged as seq %d %q is stored as seq %d %q by %s visible to %s", s.name, m.id, m.seq, m.text, e.seq, e.body, e.authorKind, e.visibility)
			}
		}
		var order []string
		for _, e := range stored[s.conv] {
			if strings.HasPrefix(e.clientID, s.name+"-") {
				order = append(order, e.clientID)
			}
		}
		var sent []string
		for _, m := range s.acked {
			sent = append(sent, m.id)
		}
		if len(order) > len(sent) {
			f.storedUnacked += len(order) - len(sent)
			if !slices.Equal(order[len(sent):], s.unacked) {
				problem("%s: stored messages %v were never sent or are out of place", s.name, order[len(sent):])
			}
			order = order[:len(sent)]
		}
		if !slices.Equal(order, sent) {
			problem("%s: stored in the order %v, sent in the order %v", s.name, clip(order), clip(sent))
		}
	}

	// Every stream received each event of its conversations once, in order, without a
	// gap, and no whisper reached a visitor.
	for _, s := range l.subs {
		f.reconnects += s.connects - 1
		f.resumes += s.resumes
		f.delivered += s.delivered
		for _, leak := range s.leaks {
			problem("%s: a whisper reached the visitor: %s", s.name, leak)
		}
		for conv := range s.last {
			got, want := s.got[conv], expected(s, stored[conv])
			if !slices.Equal(got, want) {
				problem("%s: conversation %s: received %s; stored %s", s.name, conv, describe(got, want), describeRange(want))
			}
		}
		if s.visitor {
			for conv, seqs := range s.got {
				for _, seq := range seqs {
					if i := int(seq) - 1; i >= 0 && i < len(stored[conv]) && stored[conv][i].visibility != "all" {
						problem("%s: received seq %d of %s, which only staff may see", s.name, seq, conv)
					}
				}
			}
		}
	}
	l.errMu.Lock()
	problems = append(problems, l.violations...)
	l.errMu.Unlock()
	if f.acked == 0 {
		problem("no message was acknowledged: the load never ran")
	}
	if len(problems) > 0 {
		if len(problems) > 30 {
			problems = append(problems[:30], fmt.Sprintf("… and %d more", len(problems)-30))
		}
		t.Errorf("the audit found %d problems (%s):\n%s", len(problems), f, strings.Join(problems, "\n"))
	}
	return f
}

// describe says how a received sequence differs from the wanted one.
func describe(got, want []int64) string {
	seen := map[int64]int{}
	for _, s := range got {
		seen[s]++
	}
	var missing, twice []int64
	for _, s := range want {
		if seen[s] == 0 {
			missing = append(missing, s)
		}
	}
	for s, n := range seen {
		if n > 1 {
			twice = append(twice, s)
		}
	}
	slices.Sort(twice)
	out := fmt.Sprintf("%d events", len(got))
	if len(missing) > 0 {
		out += fmt.Sprintf(", missing %v", clip(missing))
	}
	if len(twice) > 0 {
		out += fmt.Sprintf(", more than once %v", clip(twice))
	}
	if len(missing) == 0 && len(twice) == 0 {
		out += fmt.Sprintf(" out of order: %v", clip(got))
	}
	return out
}

func describeRange(want []int64) string {
	if len(want) == 0 {
		return "none"
	}
	return fmt.Sprintf("%d events up to seq %d", len(want), want[len(want)-1])
}

func clip[T any](s []T) []T {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
