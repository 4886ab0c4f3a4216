package authz_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// fixture is the matrix's world: acme and globex, ann online taking sales' conversations,
// and the tokens of every caller.
type fixture struct {
	env   *testenv.Env
	scene *scene
	ann   chatv1connect.ChatServiceClient
	// tokens are the callers' tokens that do not depend on the conversation, made once;
	// a spent one is made again.
	tokens map[caller]string
	// made is every acme conversation made here, whose ids no other tenant may see.
	made []*conversation
	// snapshotSQL checksums every tenant table.
	snapshotSQL string
	// subscribers is how many live subscriptions the server holds between cases: the
	// fixture's own agent stream.
	subscribers int
}

// logins are the callers who sign in: tenant and username.
var logins = map[caller][2]string{
	agentOwn:          {"acme", "ann"},
	agentOther:        {"acme", "ben"},
	supSupervise:      {"acme", "sergio"},
	supOpenChats:      {"acme", "olga"},
	supAllChats:       {"acme", "alma"},
	supAll:            {"acme", "sam"},
	supOtherUnit:      {"acme", "xena"},
	tenantAdmin:       {"acme", "admin"},
	foreignAgent:      {"globex", "gus"},
	foreignSupervisor: {"globex", "gina"},
	foreignAdmin:      {"globex", "admin"},
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	env := testenv.Start(t, cluster, config)
	f := &fixture{env: env, scene: &scene{}, tokens: map[caller]string{}}
	f.ann = env.Chat(env.Login(t, "acme", "ann"))
	online(t, f.ann)

	f.scene.victim = f.newConversation(t)
	f.scene.other = f.newConversation(t)
	f.scene.closed = f.newConversation(t)
	f.close(t, f.scene.closed)
	f.scene.expired = f.newConversation(t)
	f.close(t, f.scene.expired)
	if _, err := env.Owner.Exec(ctx, `UPDATE conversations SET visitor_token_expires_at = now() - interval '1 second' WHERE conversation_id = $1`,
		f.scene.expired.id); err != nil {
		t.Fatal(err)
	}
	env.Login(t, "acme", "cat") // cat has a session for the session rpcs to name

	admin := env.Auth(env.Login(t, "acme", "admin"))
	for _, name := range []string{"backend", "doomed"} {
		res, err := admin.CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: name}))
		if err != nil {
			t.Fatal(err)
		}
		if name == "backend" {
			f.tokens[apiKey] = res.Msg.Key
		}
	}

	expired := env.Login(t, "acme", "admin")
	sessions, err := env.Auth(expired).ListSessions(ctx, connect.NewRequest(&authv1.ListSessionsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions.Msg.Sessions {
		if s.Current {
			if _, err := env.Owner.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE session_id = $1`, s.Id); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.tokens[expiredStaff] = expired

	revoked := env.Login(t, "acme", "admin")
	if _, err := env.Auth(revoked).Logout(ctx, connect.NewRequest(&authv1.LogoutRequest{})); err != nil {
		t.Fatal(err)
	}
	f.tokens[revokedStaff] = revoked

	acmeID, globexID := env.Tenants["acme"].ID.String(), env.Tenants["globex"].ID.String()
	f.tokens[flippedStaff] = flip(env.Login(t, "acme", "admin"))
	f.tokens[tenantSwappedStaff] = strings.Replace(env.Login(t, "globex", "admin"), globexID, acmeID, 1)
	f.tokens[foreignVisitor] = f.globexVisitorToken(t)
	f.tokens[tenantSwappedVisitor] = strings.Replace(f.tokens[foreignVisitor], globexID, acmeID, 1)
	admin2 := env.Login(t, "acme", "admin")
	f.tokens[truncated] = admin2[:len(admin2)-8]
	f.tokens[garbage] = "garbage"
	f.tokens[noToken] = ""
	f.snapshotSQL = f.snapshotQuery(t)
	f.subscribers = env.Replicas[0].Server.Hub.Subscribers()
	return f
}

// token is caller c's token for a call about conversation target.
func (f *fixture) token(t *testing.T, c caller, target *conversation) string {
	t.Helper()
	switch c {
	case visitorOwn, expiredVisitor:
		return target.token
	case visitorOther:
		return f.scene.other.token
	case flippedVisitor:
		return flip(target.token)
	case conversationSwapped:
		return strings.Replace(f.scene.other.token, f.scene.other.id, target.id, 1)
	}
	if token, ok := f.tokens[c]; ok {
		return token
	}
	login, ok := logins[c]
	if !ok {
		t.Fatalf("no token for %s", callerNames[c])
	}
	f.tokens[c] = f.env.Login(t, login[0], login[1])
	return f.tokens[c]
}

// flip flips one bit of a token's secret (its last part).
func flip(token string) string {
	b := []byte(token)
	i := len(b) - 5
	b[i] ^= 0x01
	return string(b)
}

// online opens an agent's stream for the rest of the test and waits until it is online.
func online(t *testing.T, client chatv1connect.ChatServiceClient) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := client.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Receive() {
		t.Fatalf("the agent stream ended: %v", s.Err())
	}
	go func() {
		for s.Receive() {
		}
	}()
}

// newConversation starts a conversation in sales, which goes to ann, who takes it up.
func (f *fixture) newConversation(t *testing.T) *conversation {
	t.Helper()
	ctx := context.Background()
	res, err := f.env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: f.env.Tenants["acme"].WidgetKey, BusinessUnit: "sales", VisitorName: "Vic",
		FirstMessage: &chatv1.Message{ClientMessageId: uuid.NewString(), Text: canary}}))
	if err != nil {
		t.Fatal(err)
	}
	c := res.Msg.Conversation
	if c == nil || c.Agent != "ann" {
		var agents string
		f.env.Owner.QueryRow(ctx, `SELECT string_agg(name || ':' || status || '/' || chosen_status || ':' || open_count, ' ') FROM agents`).Scan(&agents) //nolint:errcheck
		t.Fatalf("a new sales conversation went to %v (offline message %q), not to ann; agents %s", c, res.Msg.OfflineMessageId, agents)
	}
	if _, err := f.ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: c.Id})); err != nil {
		t.Fatal(err)
	}
	conv := &conversation{id: c.Id, visitorID: c.VisitorId, token: res.Msg.VisitorToken}
	f.made = append(f.made, conv)
	return conv
}

func (f *fixture) close(t *testing.T, c *conversation) {
	t.Helper()
	if _, err := f.env.Chat(c.token).CloseConversation(context.Background(), connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: c.id})); err != nil {
		t.Fatal(err)
	}
}

// globexVisitorToken starts a conversation in globex, with gus online meanwhile.
func (f *fixture) globexVisitorToken(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gus := f.env.Chat(f.env.Login(t, "globex", "gus"))
	s, err := gus.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil || !s.Receive() {
		t.Fatalf("gus online: %v %v", err, s.Err())
	}
	res, err := f.env.Chat("").StartConversation(context.Background(), connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: f.env.Tenants["globex"].WidgetKey, BusinessUnit: "sales"}))
	if err != nil || res.Msg.VisitorToken == "" {
		t.Fatalf("a globex conversation: %v %v", res, err)
	}
	return res.Msg.VisitorToken
}

// acmeSecrets are what another tenant's caller must never see.
func (f *fixture) acmeSecrets() []string {
	out := []string{canary, f.env.Tenants["acme"].ID.String()}
	for _, c := range f.made {
		out = append(out, c.id, c.visitorID)
	}
	return out
}

// renew gives the scene a fresh victim after a call ended or moved it.
func (f *fixture) renew(t *testing.T) {
	t.Helper()
	f.scene.victim = f.newConversation(t)
}

// Columns and tables left out of the snapshot, because they change by themselves: the
// last use of a session or key is noted on every authenticated call, refused or not; an
// agent's presence is refreshed while its stream is open; the search index and the report
// rollups are derived from the rows compared, by background workers, seconds later.
var (
	volatileColumns = map[string]bool{"sessions.last_used_at": true, "api_keys.last_used_at": true, "agent_presence.expires_at": true}
	derivedTables   = []string{"conversation_search", "report_"}
)

// snapshotQuery builds one query checksumming every row of every tenant table (as the
// schema owner, who sees every tenant).
func (f *fixture) snapshotQuery(t *testing.T) string {
	t.Helper()
	rows, err := f.env.Owner.Query(context.Background(), `SELECT c.table_name, string_agg(quote_ident(c.column_name), ', ' ORDER BY c.ordinal_position)
		FROM information_schema.columns c JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = 'public' AND tb.table_type = 'BASE TABLE'
		  AND c.table_name IN (SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id')
		  AND (c.table_name || '.' || c.column_name) <> ALL($1)
		GROUP BY c.table_name ORDER BY c.table_name`, keys(volatileColumns))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var table, columns string
		if err := rows.Scan(&table, &columns); err != nil {
			t.Fatal(err)
		}
		derived := false
		for _, d := range derivedTables {
			derived = derived || strings.HasPrefix(table, d)
		}
		if derived {
			continue
		}
		parts = append(parts, fmt.Sprintf(`SELECT %s || '=' || count(*) || ':' || md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM (SELECT %s FROM %s) r`,
			quoteLiteral(table), columns, table))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(parts) < 20 {
		t.Fatalf("only %d tenant tables found", len(parts))
	}
	return strings.Join(parts, " UNION ALL ")
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// snapshot is each tenant table's row count and checksum, one line per table.
func (f *fixture) snapshot(t *testing.T) string {
	t.Helper()
	rows, err := f.env.Owner.Query(context.Background(), f.snapshotSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// settledSnapshot waits until what the allowed calls before set off in the background is
// done: every stream they opened has ended on the server (an agent stream marks its agent
// offline before it lets go of its subscription), and two snapshots in a row agree.
func (f *fixture) settledSnapshot(t *testing.T) string {
	t.Helper()
	hub := f.env.Replicas[0].Server.Hub
	for deadline := time.Now().Add(10 * time.Second); hub.Subscribers() > f.subscribers; {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams still open on the server, want %d", hub.Subscribers(), f.subscribers)
		}
		time.Sleep(20 * time.Millisecond)
	}
	last := f.snapshot(t)
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		next := f.snapshot(t)
		if next == last {
			return next
		}
		last = next
	}
	t.Fatal("the tables never settled")
	return ""
}

// diff names the tables whose rows differ.
func diff(before, after string) string {
	a := strings.Split(after, "\n")
	var changed []string
	for i, line := range strings.Split(before, "\n") {
		if i < len(a) && a[i] != line {
			table, _, _ := strings.Cut(line, "=")
			changed = append(changed, table)
		}
	}
	return strings.Join(changed, ", ")
}
