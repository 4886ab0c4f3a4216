package hostile_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
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

// config: acme's unit sales, where ann takes the conversations and sam supervises with
// every permission; support, where nobody is online (a conversation started there becomes
// an offline message, so fuzzed starts do not fill ann's capacity); cat, an agent whose
// sessions the session rpcs name. globex is another tenant, for names that cross over.
const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  offlineMessages: true
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec:
  offlineMessages: true
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, businessUnits: [sales], maxConversations: 50}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, businessUnits: [support], maxConversations: 1}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
`

// widgetKey is acme's widget key, set in the database so that seeds can carry it.
const widgetKey = "hostile-fuzz-widget-key"

// caller is who calls; the fuzzer picks one by a byte.
type caller uint8

const (
	visitor caller = iota
	agent
	supervisor
	admin
	nobody
	apiKey
	closedVisitor
	callers // the number of callers
)

var callerNames = [callers]string{visitor: "the visitor of an open conversation", agent: "the agent of that conversation",
	supervisor: "a supervisor with every permission", admin: "the tenant admin", nobody: "no token",
	apiKey: "the tenant's API key", closedVisitor: "the visitor of a closed conversation"}

// logins are the staff callers' accounts.
var logins = map[caller]string{agent: "ann", supervisor: "sam", admin: "admin"}

// Seeds name the fixture's rows by placeholders of the same length as the ids (36 bytes),
// replaced in every body before it is sent: the corpus is the same in every process,
// whose databases each have their own ids, and a body keeps its wire framing.
const (
	openConversation   = "0000f022-0000-4000-8000-000000000001"
	closedConversation = "0000f022-0000-4000-8000-000000000002"
	visitorOfOpen      = "0000f022-0000-4000-8000-000000000003"
	sessionOfCat       = "0000f022-0000-4000-8000-000000000004"
)

// fixture is one process's world: a replica on its own database, the callers' tokens and
// the rows the placeholders stand for.
type fixture struct {
	env    *testenv.Env
	tokens [callers]string
	ids    map[string]string // placeholder → the real id
	// offline ends ann's stream.
	offline context.CancelFunc
}

// newFixture starts the world on cluster; nil (in a fuzz worker process, where pgtest.Main
// starts none) starts a cluster of the process's own, stopped with the fixture.
func newFixture(tb testing.TB, c *localpg.Cluster) *fixture {
	tb.Helper()
	if c == nil {
		c = ownCluster(tb)
	}
	ctx := context.Background()
	env := testenv.Prepare(tb, pgtest.NewDatabase(tb, c), config)
	if _, err := env.Owner.Exec(ctx, `UPDATE tenants SET widget_key = $1 WHERE name = 'acme'`, widgetKey); err != nil {
		tb.Fatal(err)
	}
	env.Base = env.StartReplica(tb, server.Config{}).Base
	f := &fixture{env: env, ids: map[string]string{}}
	for who, name := range logins {
		f.tokens[who] = env.Login(tb, "acme", name)
	}

	if err := f.online(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.offline() })

	env.Login(tb, "acme", "cat")
	sessions, err := env.Auth(f.tokens[admin]).ListSessions(ctx, connect.NewRequest(&authv1.ListSessionsRequest{Username: "cat"}))
	if err != nil || len(sessions.Msg.Sessions) == 0 || len(sessions.Msg.Sessions[0].Id) != len(sessionOfCat) {
		tb.Fatalf("cat's session: %v %v", sessions, err)
	}
	f.ids[sessionOfCat] = sessions.Msg.Sessions[0].Id
	if _, err := env.Auth(f.tokens[admin]).CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "doomed"})); err != nil {
		tb.Fatal(err)
	}
	if err := f.newAPIKey(ctx); err != nil {
		tb.Fatal(err)
	}

	closed, token, err := f.startConversation(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	f.ids[closedConversation] = closed
	f.tokens[closedVisitor] = token
	if _, err := env.Chat(f.tokens[agent]).CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: closed})); err != nil {
		tb.Fatal(err)
	}
	if err := f.renew(ctx); err != nil {
		tb.Fatal(err)
	}
	return f
}

// ownCluster starts a private cluster for a fuzz worker process. The fuzzing coordinator
// stops a worker by closing its input, then by SIGINT a second later, maybe while the
// cluster is still starting: the cluster is stopped either way, at once (nothing in it is
// worth a checkpoint), and its folder removed.
func ownCluster(tb testing.TB) *localpg.Cluster {
	tb.Helper()
	dir, err := os.MkdirTemp("", "hostile-")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var c *localpg.Cluster
	stop := func() {
		mu.Lock()
		defer mu.Unlock()
		if c != nil {
			c.StopImmediate() //nolint:errcheck
		}
		os.RemoveAll(dir)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sigs; ok {
			stop()
			os.Exit(1)
		}
	}()
	tb.Cleanup(func() {
		signal.Stop(sigs)
		stop()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started, err := localpg.Start(ctx, localpg.Options{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	mu.Lock()
	c = started
	mu.Unlock()
	return started
}

var errNobodyOnline = errors.New("starting a conversation: nobody online in sales, an offline message was left")

// startConversation starts a conversation in sales as a new visitor; ann accepts it when
// it went to her.
func (f *fixture) startConversation(ctx context.Context) (id, token string, err error) {
	res, err := f.env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: widgetKey, BusinessUnit: "sales", VisitorName: "Vic", VisitorEmail: "vic@example.com",
		FirstMessage: &chatv1.Message{ClientMessageId: uuid.NewString(), Text: "hello"}}))
	if err != nil {
		return "", "", fmt.Errorf("starting a conversation: %w", err)
	}
	c := res.Msg.Conversation
	if c == nil {
		return "", "", errNobodyOnline
	}
	if c.Agent == "ann" {
		if _, err := f.env.Chat(f.tokens[agent]).AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: c.Id})); err != nil {
			return "", "", fmt.Errorf("accepting the conversation: %w", err)
		}
	}
	f.ids[visitorOfOpen] = c.VisitorId
	return c.Id, res.Msg.VisitorToken, nil
}

// online makes ann available with a stream open until the next online or the end, so
// that sales' conversations go to her.
func (f *fixture) online(ctx context.Context) error {
	if f.offline != nil {
		f.offline()
	}
	ann := f.env.Chat(f.tokens[agent])
	if _, err := ann.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AVAILABLE})); err != nil {
		return fmt.Errorf("ann available: %w", err)
	}
	streamCtx, cancel := context.WithCancel(context.Background())
	f.offline = cancel
	s, err := ann.AgentStream(streamCtx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil || !s.Receive() {
		return fmt.Errorf("ann online: %v %v", err, s.Err())
	}
	go func() {
		for s.Receive() {
		}
	}()
	return nil
}

// renew gives the visitor a new open conversation, after a call may have ended or moved
// the last one. Fuzzed calls may have set ann away or ended a stream of hers: she is
// brought back when nobody took the conversation.
func (f *fixture) renew(ctx context.Context) error {
	id, token, err := f.startConversation(ctx)
	if errors.Is(err, errNobodyOnline) {
		if err := f.online(ctx); err != nil {
			return err
		}
		id, token, err = f.startConversation(ctx)
	}
	if err != nil {
		return err
	}
	f.ids[openConversation] = id
	f.tokens[visitor] = token
	return nil
}

// newAPIKey gives the API key caller a fresh key, after a call may have revoked the last.
func (f *fixture) newAPIKey(ctx context.Context) error {
	res, err := f.env.Auth(f.tokens[admin]).CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "fuzz-" + uuid.NewString()}))
	if err != nil {
		return fmt.Errorf("creating an API key: %w", err)
	}
	f.tokens[apiKey] = res.Msg.Key
	return nil
}

// relogin signs the staff callers in again, after a call may have revoked their sessions.
func (f *fixture) relogin(ctx context.Context) error {
	for who, name := range logins {
		res, err := f.env.Auth("").Login(ctx, connect.NewRequest(&authv1.LoginRequest{Tenant: "acme", Username: name, Password: testenv.Password}))
		if err != nil {
			return fmt.Errorf("signing %s in again: %w", name, err)
		}
		f.tokens[who] = res.Msg.Token
	}
	return nil
}

// body replaces the placeholders in a fuzzed body by the fixture's ids.
func (f *fixture) body(in []byte) []byte {
	out := in
	for placeholder, id := range f.ids {
		if bytes.Contains(out, []byte(placeholder)) {
			out = bytes.ReplaceAll(out, []byte(placeholder), []byte(id))
		}
	}
	return out
}
