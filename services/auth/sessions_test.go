package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
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

// config is one tenant with a unit, two agents and a supervisor; another tenant beside it.
const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  supervisors:
    - {name: sam, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, businessUnits: [sales], maxConversations: 20}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ben, namespace: acme}
spec: {agent: ben, businessUnits: [sales], maxConversations: 20}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
`

// noticed is how long a revocation may take to reach every replica: far below the
// replicas' token caches (8–12 s for staff, about a minute for visitors), so that a pass
// shows the notice did it, not the cache running out.
const noticed = 5 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// stream is a streaming call held open in the background: the first message is awaited,
// then how it ends is kept.
type stream struct {
	first chan struct{}
	ended chan error
}

func hold(t *testing.T, open func(ctx context.Context) (receive func() bool, end func() error)) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	receive, end := open(ctx)
	s := &stream{first: make(chan struct{}), ended: make(chan error, 1)}
	go func() {
		n := 0
		for receive() {
			if n++; n == 1 {
				close(s.first)
			}
		}
		s.ended <- end()
	}()
	select {
	case <-s.first:
	case err := <-s.ended:
		t.Fatalf("the stream ended before its first message: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no first message on the stream within 10s")
	}
	return s
}

func agentStream(client interface {
	AgentStream(context.Context, *connect.Request[chatv1.AgentStreamRequest]) (*connect.ServerStreamForClient[chatv1.AgentStreamResponse], error)
}) func(ctx context.Context) (func() bool, func() error) {
	return func(ctx context.Context) (func() bool, func() error) {
		s, err := client.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
		if err != nil {
			return func() bool { return false }, func() error { return err }
		}
		return s.Receive, s.Err
	}
}

func subscribe(client interface {
	Subscribe(context.Context, *connect.Request[chatv1.SubscribeRequest]) (*connect.ServerStreamForClient[chatv1.SubscribeResponse], error)
}, conv string) func(ctx context.Context) (func() bool, func() error) {
	return func(ctx context.Context) (func() bool, func() error) {
		s, err := client.Subscribe(ctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: conv}))
		if err != nil {
			return func() bool { return false }, func() error { return err }
		}
		return s.Receive, s.Err
	}
}

// endsUnauthenticated waits for the stream to end with Unauthenticated.
func (s *stream) endsUnauthenticated(t *testing.T, where string) {
	t.Helper()
	select {
	case err := <-s.ended:
		if testenv.Code(err) != connect.CodeUnauthenticated {
			t.Fatalf("the stream on %s ended with %v, want Unauthenticated", where, err)
		}
	case <-time.After(noticed):
		t.Fatalf("the stream on %s is still open %v after its token ended", where, noticed)
	}
}

// refusedEverywhere polls call on every replica until it is Unauthenticated, for at most
// noticed.
func refusedEverywhere(t *testing.T, env *testenv.Env, call func(base string) error) {
	t.Helper()
	start := time.Now()
	for i, r := range env.Replicas {
		deadline := start.Add(noticed)
		for {
			err := call(r.Base)
			if testenv.Code(err) == connect.CodeUnauthenticated {
				t.Logf("replica %d refuses the token %v after it ended", i+1, time.Since(start).Round(time.Millisecond))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d still answers %v after %v", i+1, err, noticed)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestEndedTokensAreRefusedOnEveryReplicaAtOnce ends tokens in every way they end early,
// with the token cached on two replicas and a stream open on each: every replica refuses
// it within moments (not when its cache runs out), and the streams end with
// Unauthenticated.
func TestEndedTokensAreRefusedOnEveryReplicaAtOnce(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	env.StartReplica(t, server.Config{})
	ctx := ctxT(t)
	owner := env.Owner
	acme := env.Tenants["acme"].ID

	// ben stays online on the first replica so that visitors' conversations are served.
	ben := env.Login(t, "acme", "ben")
	hold(t, agentStream(env.Chat(ben)))

	staffCases := []struct {
		name string
		end  func(t *testing.T, token string)
	}{
		{"the agent logs out", func(t *testing.T, token string) {
			if _, err := env.Auth(token).Logout(ctx, connect.NewRequest(&authv1.LogoutRequest{})); err != nil {
				t.Fatal(err)
			}
		}},
		{"a tenant admin revokes all the agent's sessions", func(t *testing.T, _ string) {
			admin := env.Login(t, "acme", "admin")
			res, err := env.Auth(admin).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{Username: "ann", All: true}))
			if err != nil || res.Msg.Revoked < 1 {
				t.Fatalf("revoking ann's sessions: %v, %v", res, err)
			}
		}},
		{"the agent revokes the session by its id from another session", func(t *testing.T, token string) {
			other := env.Login(t, "acme", "ann")
			list, err := env.Auth(other).ListSessions(ctx, connect.NewRequest(&authv1.ListSessionsRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Msg.Sessions) != 2 {
				t.Fatalf("ann's sessions: %v", list.Msg.Sessions)
			}
			var id string
			for _, s := range list.Msg.Sessions {
				if !s.Current {
					id = s.Id
				}
			}
			if _, err := env.Auth(other).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{SessionIds: []string{id}})); err != nil {
				t.Fatal(err)
			}
			if _, err := env.Auth(other).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{})); err != nil {
				t.Fatalf("the session that revoked the other one stops working too: %v", err)
			}
		}},
		{"the session expires (its expiry moved into the past)", func(t *testing.T, _ string) {
			if _, err := owner.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second'
				WHERE tenant_id = $1 AND account_id = (SELECT account_id FROM accounts WHERE tenant_id = $1 AND username = 'ann')`, acme); err != nil {
				t.Fatal(err)
			}
		}},
		{"the account's password changes", func(t *testing.T, _ string) {
			hash, err := auth.HashPassword("a new password")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := owner.Exec(ctx, `UPDATE accounts SET password_hash = $2 WHERE tenant_id = $1 AND username = 'ann'`, acme, hash); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				hash, _ := auth.HashPassword(testenv.Password)
				owner.Exec(context.Background(), `UPDATE accounts SET password_hash = $2 WHERE tenant_id = $1 AND username = 'ann'`, acme, hash) //nolint:errcheck
			})
		}},
		{"the account is removed", func(t *testing.T, _ string) {
			if _, err := owner.Exec(ctx, `DELETE FROM accounts WHERE tenant_id = $1 AND username = 'ann'`, acme); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { env.Apply(t, config) })
		}},
	}
	for _, c := range staffCases {
		t.Run("a staff token ends when "+c.name, func(t *testing.T) {
			token := env.Login(t, "acme", "ann")
			var streams []*stream
			for _, r := range env.Replicas {
				// Cached on the replica, and a stream open there.
				if _, err := env.AuthAt(r.Base, token).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{})); err != nil {
					t.Fatal(err)
				}
				streams = append(streams, hold(t, agentStream(env.ChatAt(r.Base, token))))
			}
			c.end(t, token)
			refusedEverywhere(t, env, func(base string) error {
				_, err := env.AuthAt(base, token).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{}))
				return err
			})
			for i, s := range streams {
				s.endsUnauthenticated(t, env.Replicas[i].Base)
			}
		})
	}

	t.Run("a visitor token ends when its expiry passes", func(t *testing.T) {
		res, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: "sales",
			FirstMessage: &chatv1.Message{ClientMessageId: uuid.NewString(), Text: "hello"}}))
		if err != nil || res.Msg.Conversation == nil {
			t.Fatalf("starting a conversation: %v %v", res, err)
		}
		token, conv := res.Msg.VisitorToken, res.Msg.Conversation.Id
		var streams []*stream
		for _, r := range env.Replicas {
			streams = append(streams, hold(t, subscribe(env.ChatAt(r.Base, token), conv)))
		}
		if _, err := owner.Exec(ctx, `UPDATE conversations SET visitor_token_expires_at = now() - interval '1 second'
			WHERE tenant_id = $1 AND conversation_id = $2`, acme, conv); err != nil {
			t.Fatal(err)
		}
		refusedEverywhere(t, env, func(base string) error {
			_, err := env.ChatAt(base, token).GetConversation(ctx, connect.NewRequest(&chatv1.GetConversationRequest{ConversationId: conv}))
			return err
		})
		for i, s := range streams {
			s.endsUnauthenticated(t, env.Replicas[i].Base)
		}
	})

	t.Run("an API key revoked on one replica is refused by the other at once", func(t *testing.T) {
		admin := env.Login(t, "acme", "admin")
		created, err := env.Auth(admin).CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "shop"}))
		if err != nil {
			t.Fatal(err)
		}
		record := func(base string) error {
			c := conversionv1connect.NewConversionServiceClient(env.HTTP, base, connect.WithInterceptors(testenv.Bearer(created.Msg.Key)))
			_, err := c.RecordConversion(ctx, connect.NewRequest(&conversionv1.RecordConversionRequest{OrderId: uuid.NewString(), Amount: "1.00", Currency: "EUR", VisitorId: uuid.NewString()}))
			return err
		}
		for _, r := range env.Replicas {
			// Cached: the key is good, the order names nobody.
			if code := testenv.Code(record(r.Base)); code == connect.CodeUnauthenticated || code == connect.CodePermissionDenied {
				t.Fatalf("a live key: %v", code)
			}
		}
		if _, err := env.Auth(admin).RevokeApiKey(ctx, connect.NewRequest(&authv1.RevokeApiKeyRequest{Name: "shop"})); err != nil {
			t.Fatal(err)
		}
		refusedEverywhere(t, env, record)
	})
}

// TestVisitorTokensOutliveTheirConversationByADay: a visitor rates and reads a closed
// conversation with its token, which stops a day after the close.
func TestVisitorTokensOutliveTheirConversationByADay(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	ben := env.Login(t, "acme", "ben")
	hold(t, agentStream(env.Chat(ben)))
	res, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: "sales",
		FirstMessage: &chatv1.Message{ClientMessageId: uuid.NewString(), Text: "hello"}}))
	if err != nil || res.Msg.Conversation == nil {
		t.Fatalf("starting a conversation: %v %v", res, err)
	}
	visitor := env.Chat(res.Msg.VisitorToken)
	conv := res.Msg.Conversation.Id
	if _, err := visitor.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: conv})); err != nil {
		t.Fatal(err)
	}
	if _, err := visitor.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: conv, Csat: 5})); err != nil {
		t.Fatalf("rating after the close: %v", err)
	}
	events, err := visitor.ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: conv}))
	if err != nil || len(events.Msg.Events) == 0 {
		t.Fatalf("reading the transcript after the close: %v %v", events, err)
	}
	var grace time.Duration
	if err := env.Owner.QueryRow(ctx, `SELECT extract(epoch FROM visitor_token_expires_at - closed_at)::bigint * interval '1 second'
		FROM conversations WHERE conversation_id = $1`, conv).Scan(&grace); err != nil {
		t.Fatal(err)
	}
	if grace != 24*time.Hour {
		t.Fatalf("the visitor token ends %v after the close, want 24h", grace)
	}
	// A day later (the close moved back, as the schema owner).
	if _, err := env.Owner.Exec(ctx, `UPDATE conversations SET closed_at = closed_at - interval '1 day', visitor_token_expires_at = visitor_token_expires_at - interval '1 day'
		WHERE conversation_id = $1`, conv); err != nil {
		t.Fatal(err)
	}
	refusedEverywhere(t, env, func(base string) error {
		_, err := env.ChatAt(base, res.Msg.VisitorToken).ListEvents(ctx, connect.NewRequest(&chatv1.ListEventsRequest{ConversationId: conv}))
		return err
	})
}

// TestSessionsAreListedAndRevokedByTheirAccountAndTenantAdmins covers who sees and ends
// which sessions, and that bad requests name the problem and revoke nothing.
func TestSessionsAreListedAndRevokedByTheirAccountAndTenantAdmins(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	login := func(username, agent string) string {
		t.Helper()
		c := env.Auth("")
		req := connect.NewRequest(&authv1.LoginRequest{Tenant: "acme", Username: username, Password: testenv.Password})
		req.Header().Set("User-Agent", agent)
		res, err := c.Login(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.Token
	}
	desk := login("ann", "Firefox on the desk")
	laptop := login("ann", "Chrome on the laptop")
	admin := login("admin", "the admin's browser")
	sam := login("sam", "sam's browser")
	globex := env.Login(t, "globex", "admin")

	list := func(token, username string) ([]*authv1.Session, error) {
		res, err := env.Auth(token).ListSessions(ctx, connect.NewRequest(&authv1.ListSessionsRequest{Username: username}))
		if err != nil {
			return nil, err
		}
		return res.Msg.Sessions, nil
	}
	works := func(token string) bool {
		_, err := env.Auth(token).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{}))
		return err == nil
	}

	t.Run("an account lists its own sessions, newest first, the current one marked", func(t *testing.T) {
		got, err := list(desk, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].UserAgent != "Chrome on the laptop" || got[1].UserAgent != "Firefox on the desk" || got[0].Current || !got[1].Current {
			t.Fatalf("ann's sessions from the desk: %v", got)
		}
		if got[1].ExpiresAt.AsTime().Sub(got[1].CreatedAt.AsTime()).Round(time.Second) != auth.TokenTTL {
			t.Fatalf("a session lasts %v", got[1].ExpiresAt.AsTime().Sub(got[1].CreatedAt.AsTime()))
		}
		if got[1].LastUsedAt == nil {
			t.Fatal("the session used for this call has no last use")
		}
	})

	var laptopID string
	t.Run("a tenant admin lists another account's sessions", func(t *testing.T) {
		got, err := list(admin, "ann")
		if err != nil || len(got) != 2 || got[0].Current || got[1].Current {
			t.Fatalf("ann's sessions seen by the admin: %v %v", got, err)
		}
		laptopID = got[0].Id
	})

	refused := []struct {
		name  string
		token string
		call  func(token string) error
		code  connect.Code
		msg   string
	}{
		{"a supervisor listing an agent's sessions", sam, func(token string) error { _, err := list(token, "ann"); return err },
			connect.CodePermissionDenied, "only tenant admins"},
		{"an agent listing a name that does not exist", desk, func(token string) error { _, err := list(token, "nobody"); return err },
			connect.CodePermissionDenied, "only tenant admins"},
		{"a tenant admin listing a name that does not exist", admin, func(token string) error { _, err := list(token, "nobody"); return err },
			connect.CodeNotFound, `no account named "nobody"`},
		{"another tenant's admin listing the agent's sessions", globex, func(token string) error { _, err := list(token, "ann"); return err },
			connect.CodeNotFound, `no account named "ann"`},
		{"another tenant's admin revoking the laptop's session", globex, func(token string) error {
			_, err := env.Auth(token).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{Username: "ann", SessionIds: []string{laptopID}}))
			return err
		}, connect.CodeNotFound, `no account named "ann"`},
		{"a supervisor revoking the agent's sessions", sam, func(token string) error {
			_, err := env.Auth(token).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{Username: "ann", All: true}))
			return err
		}, connect.CodePermissionDenied, "only tenant admins"},
		{"a supervisor revoking the laptop's session as its own", sam, func(token string) error {
			_, err := env.Auth(token).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{SessionIds: []string{laptopID}}))
			return err
		}, connect.CodeNotFound, "is not a live session of this account; nothing was revoked"},
		{"a request naming sessions and all", admin, func(token string) error {
			_, err := env.Auth(token).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{Username: "ann", SessionIds: []string{laptopID}, All: true}))
			return err
		}, connect.CodeInvalidArgument, "session_ids: name sessions or set all, not both"},
		{"a request naming nothing", admin, func(token string) error {
			_, err := env.Auth(token).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{Username: "ann"}))
			return err
		}, connect.CodeInvalidArgument, "session_ids: name at least one session, or set all"},
		{"a request naming a malformed id", admin, func(token string) error {
			_, err := env.Auth(token).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{Username: "ann", SessionIds: []string{laptopID, "laptop"}}))
			return err
		}, connect.CodeInvalidArgument, `session_ids[1]: "laptop" is not a session id`},
		{"a request naming an unknown session beside a live one", admin, func(token string) error {
			_, err := env.Auth(token).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{Username: "ann", SessionIds: []string{laptopID, uuid.NewString()}}))
			return err
		}, connect.CodeNotFound, "nothing was revoked"},
	}
	for _, c := range refused {
		t.Run(c.name+" is refused and revokes nothing", func(t *testing.T) {
			err := c.call(c.token)
			if testenv.Code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %v saying %q", err, c.code, c.msg)
			}
			if !works(desk) || !works(laptop) {
				t.Fatal("a refused request revoked a session")
			}
		})
	}

	t.Run("a tenant admin revokes the laptop's session and the desk's goes on", func(t *testing.T) {
		res, err := env.Auth(admin).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{Username: "ann", SessionIds: []string{laptopID}}))
		if err != nil || res.Msg.Revoked != 1 {
			t.Fatalf("revoking the laptop: %v %v", res, err)
		}
		if works(laptop) || !works(desk) {
			t.Fatalf("after revoking the laptop: laptop works %v, desk works %v", works(laptop), works(desk))
		}
		got, err := list(desk, "")
		if err != nil || len(got) != 1 || !got[0].Current {
			t.Fatalf("ann's sessions after: %v %v", got, err)
		}
	})

	t.Run("revoking all of one's own sessions ends the current one too", func(t *testing.T) {
		res, err := env.Auth(sam).RevokeSessions(ctx, connect.NewRequest(&authv1.RevokeSessionsRequest{All: true}))
		if err != nil || res.Msg.Revoked != 1 {
			t.Fatalf("sam revoking all: %v %v", res, err)
		}
		if works(sam) {
			t.Fatal("sam's token works after revoking all")
		}
	})

	t.Run("visitors and API keys have no sessions", func(t *testing.T) {
		key, err := env.Auth(admin).CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "shop"}))
		if err != nil {
			t.Fatal(err)
		}
		// An API key opens the ConversionService only.
		if _, err := list(key.Msg.Key, ""); testenv.Code(err) != connect.CodePermissionDenied {
			t.Fatalf("an API key listing sessions: %v", err)
		}
	})
}

// TestSessionsThatEndedAMonthAgoAreDeleted: ended sessions are kept a month, then go;
// live ones stay, and deleting dead ones revokes nothing.
func TestSessionsThatEndedAMonthAgoAreDeleted(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	live := env.Login(t, "acme", "ann")
	for _, end := range []string{
		`UPDATE sessions SET expires_at = now() - interval '31 days' WHERE session_id = $1`,
		`UPDATE sessions SET revoked_at = now() - interval '31 days' WHERE session_id = $1`,
		`UPDATE sessions SET expires_at = now() - interval '29 days' WHERE session_id = $1`,
		`UPDATE sessions SET revoked_at = now() - interval '29 days' WHERE session_id = $1`,
	} {
		env.Login(t, "acme", "ann")
		var id string
		if err := env.Owner.QueryRow(ctx, `SELECT session_id FROM sessions ORDER BY created_at DESC LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Owner.Exec(ctx, end, id); err != nil {
			t.Fatal(err)
		}
	}
	n, err := env.Replicas[0].Server.DB.ForgetEndedSessions(ctx)
	if err != nil || n != 2 {
		t.Fatalf("deleted %d sessions (%v), want the 2 that ended 31 days ago", n, err)
	}
	var left int
	if err := env.Owner.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&left); err != nil || left != 3 {
		t.Fatalf("%d sessions left (%v), want the live one and the 2 that ended 29 days ago", left, err)
	}
	if _, err := env.Auth(live).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{})); err != nil {
		t.Fatalf("the live session: %v", err)
	}
}

// TestAStreamEndsWhenItsTokenExpires: an agent's stream outlives no token; its session is
// shortened to end in two seconds, as if signed in twelve hours ago.
func TestAStreamEndsWhenItsTokenExpires(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := ctxT(t)
	token := env.Login(t, "acme", "ann")
	s := hold(t, agentStream(env.Chat(token)))
	if _, err := env.Owner.Exec(ctx, `UPDATE sessions SET expires_at = now() + interval '2 seconds'
		WHERE account_id = (SELECT account_id FROM accounts WHERE username = 'ann')`); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.ended:
		if testenv.Code(err) != connect.CodeUnauthenticated {
			t.Fatalf("the stream ended with %v, want Unauthenticated", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the stream is still open a minute after its token expired")
	}
	if _, err := env.Auth(token).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{})); testenv.Code(err) != connect.CodeUnauthenticated {
		t.Fatalf("the expired token: %v", err)
	}
}
