package conversion_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

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
spec: {agent: ann, businessUnits: [sales], maxConversations: 3}
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
spec: {agent: gus, businessUnits: [sales], maxConversations: 3}
`

// conversions is a ConversionService client calling with key.
func conversions(env *testenv.Env, key string) conversionv1connect.ConversionServiceClient {
	return conversionv1connect.NewConversionServiceClient(env.HTTP, env.Base, connect.WithInterceptors(testenv.Bearer(key)))
}

// apiKey has the tenant's admin make an API key.
func apiKey(t *testing.T, env *testenv.Env, tenant, name string) string {
	t.Helper()
	res, err := env.Auth(env.Login(t, tenant, "admin")).CreateApiKey(context.Background(), connect.NewRequest(&authv1.CreateApiKeyRequest{Name: name}))
	if err != nil {
		t.Fatalf("creating API key %s of %s: %v", name, tenant, err)
	}
	return res.Msg.Key
}

// chatted brings the agent online, has a visitor start a chat with it, and returns the
// conversation and the visitor's token.
func chatted(t *testing.T, env *testenv.Env, tenant, agent string) (*chatv1.Conversation, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	client := env.Chat(env.Login(t, tenant, agent))
	stream, err := client.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	go func() {
		for stream.Receive() {
		}
	}()
	res, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: env.Tenants[tenant].WidgetKey, BusinessUnit: "sales", VisitorName: "Vera",
		FirstMessage: &chatv1.Message{ClientMessageId: "1", Text: "I want to buy"}}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.Conversation.GetAgent() != agent {
		t.Fatalf("the conversation went to %q, want %s", res.Msg.Conversation.GetAgent(), agent)
	}
	return res.Msg.Conversation, res.Msg.VisitorToken
}

func rows(t *testing.T, env *testenv.Env) string {
	t.Helper()
	var s string
	if err := env.Owner.QueryRow(context.Background(), `SELECT coalesce(string_agg(concat_ws(',', order_id, amount, currency, conversation_id), ';' ORDER BY order_id), '')
		FROM conversions`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func scrape(t *testing.T, env *testenv.Env) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(env.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

func counter(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	for _, m := range families[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		if fmt.Sprint(got) == fmt.Sprint(labels) {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestASaleIsAttributedToTheConversationsAgentAndRecordedOnce(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	conv, _ := chatted(t, env, "acme", "ann")
	shop := conversions(env, apiKey(t, env, "acme", "shop"))

	first, err := shop.RecordConversion(ctx, connect.NewRequest(&conversionv1.RecordConversionRequest{
		OrderId: "A-1001", Amount: "129.90", Currency: "EUR", ConversationId: conv.Id}))
	if err != nil {
		t.Fatal(err)
	}
	c := first.Msg.Conversion
	if first.Msg.Duplicate || c.OrderId != "A-1001" || c.Amount != "129.90" || c.Currency != "EUR" || c.ConversationId != conv.Id ||
		c.Agent != "ann" || c.BusinessUnit != "sales" || c.OccurredAt == nil || c.RecordedAt == nil {
		t.Fatalf("recorded %v", first.Msg)
	}

	t.Run("a resend returns the stored sale and changes nothing", func(t *testing.T) {
		before := rows(t, env)
		again, err := shop.RecordConversion(ctx, connect.NewRequest(&conversionv1.RecordConversionRequest{
			OrderId: "A-1001", Amount: "129.9", Currency: "EUR", ConversationId: conv.Id}))
		if err != nil {
			t.Fatal(err)
		}
		if !again.Msg.Duplicate || again.Msg.Conversion.Amount != "129.90" || !again.Msg.Conversion.RecordedAt.AsTime().Equal(c.RecordedAt.AsTime()) {
			t.Fatalf("resend answered %v; want the first record, duplicate", again.Msg)
		}
		if after := rows(t, env); after != before {
			t.Fatalf("a resend changed the rows: %s → %s", before, after)
		}
	})

	t.Run("the same order id with another amount or currency is refused", func(t *testing.T) {
		for _, m := range []*conversionv1.RecordConversionRequest{
			{OrderId: "A-1001", Amount: "130.00", Currency: "EUR", ConversationId: conv.Id},
			{OrderId: "A-1001", Amount: "129.90", Currency: "USD", ConversationId: conv.Id},
		} {
			_, err := shop.RecordConversion(ctx, connect.NewRequest(m))
			if testenv.Code(err) != connect.CodeAlreadyExists || !strings.Contains(err.Error(), "order_id") {
				t.Errorf("%s %s: %v; want AlreadyExists naming order_id", m.Amount, m.Currency, err)
			}
		}
	})

	t.Run("a sale named by visitor goes to the visitor's latest conversation", func(t *testing.T) {
		// An older conversation of the same visitor, two days ago.
		if _, err := env.Owner.Exec(ctx, `INSERT INTO conversations (tenant_id, unit_id, visitor_id, state, visitor_token_hash, created_at, queued_at, closed_at)
			SELECT tenant_id, unit_id, visitor_id, 'closed', '\x00', now() - interval '2 days', now() - interval '2 days', now() - interval '2 days'
			FROM conversations WHERE conversation_id = $1`, conv.Id); err != nil {
			t.Fatal(err)
		}
		res, err := shop.RecordConversion(ctx, connect.NewRequest(&conversionv1.RecordConversionRequest{
			OrderId: "A-1002", Amount: "10.5", Currency: "EUR", VisitorId: conv.VisitorId,
			OccurredAt: timestamppb.New(time.Now().Add(-time.Minute))}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Msg.Conversion.ConversationId != conv.Id || res.Msg.Conversion.Agent != "ann" {
			t.Fatalf("attributed to %v; want %s of ann", res.Msg.Conversion, conv.Id)
		}
	})

	t.Run("a visitor without a conversation in 30 days cannot be credited", func(t *testing.T) {
		if _, err := env.Owner.Exec(ctx, `UPDATE conversations SET created_at = created_at - interval '31 days' WHERE visitor_id = $1`, conv.VisitorId); err != nil {
			t.Fatal(err)
		}
		defer env.Owner.Exec(ctx, `UPDATE conversations SET created_at = created_at + interval '31 days' WHERE visitor_id = $1`, conv.VisitorId) //nolint:errcheck
		before := rows(t, env)
		_, err := shop.RecordConversion(ctx, connect.NewRequest(&conversionv1.RecordConversionRequest{
			OrderId: "A-1003", Amount: "5", Currency: "EUR", VisitorId: conv.VisitorId}))
		if testenv.Code(err) != connect.CodeFailedPrecondition {
			t.Fatalf("got %v; want FailedPrecondition", err)
		}
		if after := rows(t, env); after != before {
			t.Fatalf("a refused sale changed the rows: %s → %s", before, after)
		}
	})

	t.Run("new sales are counted once per tenant, unit and currency", func(t *testing.T) {
		families := scrape(t, env)
		labels := map[string]string{"tenant": "acme", "business_unit": "sales", "currency": "EUR"}
		if n := counter(families, "switchboard_conversions_total", labels); n != 2 {
			t.Errorf("switchboard_conversions_total = %v; want 2 (the resend counts nothing)", n)
		}
		if v := counter(families, "switchboard_turnover_total", labels); v < 140.39 || v > 140.41 {
			t.Errorf("switchboard_turnover_total = %v; want 140.40", v)
		}
		if families["switchboard_turnover_total"].GetType() != dto.MetricType_COUNTER || families["switchboard_turnover_total"].GetHelp() == "" {
			t.Errorf("switchboard_turnover_total is not a documented counter")
		}
	})

	t.Run("a deleted tenant's conversion series disappear", func(t *testing.T) {
		if _, err := env.Owner.Exec(ctx, `DELETE FROM tenants WHERE name = 'acme'`); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"switchboard_conversions_total", "switchboard_turnover_total"} {
			for _, m := range scrape(t, env)[name].GetMetric() {
				for _, l := range m.Label {
					if l.GetName() == "tenant" && l.GetValue() == "acme" {
						t.Errorf("%s still has acme's series", name)
					}
				}
			}
		}
	})
}

func TestConcurrentResendsRecordOneSale(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	conv, _ := chatted(t, env, "acme", "ann")
	shop := conversions(env, apiKey(t, env, "acme", "shop"))
	const senders = 16
	var wg sync.WaitGroup
	results := make(chan *conversionv1.RecordConversionResponse, senders)
	errs := make(chan error, senders)
	start := make(chan struct{})
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := shop.RecordConversion(context.Background(), connect.NewRequest(&conversionv1.RecordConversionRequest{
				OrderId: "race-1", Amount: "49.99", Currency: "GBP", ConversationId: conv.Id}))
			if err != nil {
				errs <- err
				return
			}
			results <- res.Msg
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Errorf("a concurrent resend failed: %v", err)
	}
	fresh := 0
	for r := range results {
		if !r.Duplicate {
			fresh++
		}
		if r.Conversion.Amount != "49.99" || r.Conversion.OrderId != "race-1" {
			t.Errorf("answered %v", r.Conversion)
		}
	}
	if fresh != 1 {
		t.Errorf("%d answers say the sale was new; want exactly 1", fresh)
	}
	if got := rows(t, env); strings.Count(got, "race-1") != 1 {
		t.Errorf("stored %q; want one row", got)
	}
	if n := counter(scrape(t, env), "switchboard_conversions_total", map[string]string{"tenant": "acme", "business_unit": "sales", "currency": "GBP"}); n != 1 {
		t.Errorf("switchboard_conversions_total = %v after %d concurrent sends of one order; want 1", n, senders)
	}
}

func TestBadSalesAreRefusedNamingTheFieldAndChangeNothing(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	conv, _ := chatted(t, env, "acme", "ann")
	shop := conversions(env, apiKey(t, env, "acme", "shop"))
	ok := func(edit func(m *conversionv1.RecordConversionRequest)) *conversionv1.RecordConversionRequest {
		m := &conversionv1.RecordConversionRequest{OrderId: "B-1", Amount: "10.00", Currency: "EUR", ConversationId: conv.Id}
		edit(m)
		return m
	}
	for _, c := range []struct {
		name  string
		req   *conversionv1.RecordConversionRequest
		field string
	}{
		{"without an order id", ok(func(m *conversionv1.RecordConversionRequest) { m.OrderId = "" }), "order_id"},
		{"with an order id over 200 bytes", ok(func(m *conversionv1.RecordConversionRequest) { m.OrderId = strings.Repeat("é", 101) }), "order_id"},
		{"with a control character in the order id", ok(func(m *conversionv1.RecordConversionRequest) { m.OrderId = "A-1\r\nX-Injected: 1" }), "order_id"},
		{"without an amount", ok(func(m *conversionv1.RecordConversionRequest) { m.Amount = "" }), "amount"},
		{"with a comma for a dot", ok(func(m *conversionv1.RecordConversionRequest) { m.Amount = "10,00" }), "amount"},
		{"with five decimals", ok(func(m *conversionv1.RecordConversionRequest) { m.Amount = "1.00001" }), "amount"},
		{"with a negative amount", ok(func(m *conversionv1.RecordConversionRequest) { m.Amount = "-5" }), "amount"},
		{"with a zero amount", ok(func(m *conversionv1.RecordConversionRequest) { m.Amount = "0.00" }), "amount"},
		{"with an exponent", ok(func(m *conversionv1.RecordConversionRequest) { m.Amount = "1e3" }), "amount"},
		{"with not a number", ok(func(m *conversionv1.RecordConversionRequest) { m.Amount = "NaN" }), "amount"},
		{"with a lower-case currency", ok(func(m *conversionv1.RecordConversionRequest) { m.Currency = "eur" }), "currency"},
		{"with a four-letter currency", ok(func(m *conversionv1.RecordConversionRequest) { m.Currency = "EURO" }), "currency"},
		{"without conversation or visitor", ok(func(m *conversionv1.RecordConversionRequest) { m.ConversationId = "" }), "conversation_id"},
		{"with both conversation and visitor", ok(func(m *conversionv1.RecordConversionRequest) { m.VisitorId = conv.VisitorId }), "conversation_id"},
		{"with a conversation id that is not a UUID", ok(func(m *conversionv1.RecordConversionRequest) { m.ConversationId = "conv-1" }), "conversation_id"},
		{"with a visitor id that is not a UUID", ok(func(m *conversionv1.RecordConversionRequest) { m.ConversationId, m.VisitorId = "", "' OR 1=1 --" }), "visitor_id"},
		{"occurring next year", ok(func(m *conversionv1.RecordConversionRequest) {
			m.OccurredAt = timestamppb.New(time.Now().AddDate(1, 0, 0))
		}), "occurred_at"},
		{"occurring at an impossible time", ok(func(m *conversionv1.RecordConversionRequest) {
			m.OccurredAt = &timestamppb.Timestamp{Seconds: 1, Nanos: -1}
		}), "occurred_at"},
	} {
		t.Run("a sale "+c.name+" is refused", func(t *testing.T) {
			_, err := shop.RecordConversion(context.Background(), connect.NewRequest(c.req))
			if testenv.Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("got %v; want InvalidArgument naming %s", err, c.field)
			}
		})
	}
	if got := rows(t, env); got != "" {
		t.Fatalf("refused sales stored %q", got)
	}
}

func TestOnlyTheTenantsLiveAPIKeysRecordItsSales(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	conv, visitorToken := chatted(t, env, "acme", "ann")
	other, _ := chatted(t, env, "globex", "gus")
	acmeKey := apiKey(t, env, "acme", "shop")
	globexKey := apiKey(t, env, "globex", "shop")
	sale := func(order string) *conversionv1.RecordConversionRequest {
		return &conversionv1.RecordConversionRequest{OrderId: order, Amount: "1.00", Currency: "EUR", ConversationId: conv.Id}
	}
	acmeID := env.Tenants["acme"].ID.String()
	globexID := env.Tenants["globex"].ID.String()
	secret := strings.SplitN(acmeKey, ".", 3)[2]

	revoked := apiKey(t, env, "acme", "old")
	if _, err := conversions(env, revoked).RecordConversion(ctx, connect.NewRequest(sale("before-revoke"))); err != nil {
		t.Fatalf("the key before its revocation: %v", err)
	}
	if _, err := env.Auth(env.Login(t, "acme", "admin")).RevokeApiKey(ctx, connect.NewRequest(&authv1.RevokeApiKeyRequest{Name: "old"})); err != nil {
		t.Fatal(err)
	}
	before := rows(t, env)

	for _, c := range []struct {
		caller string
		token  string
		req    *conversionv1.RecordConversionRequest
		code   connect.Code
	}{
		{"nobody", "", sale("x1"), connect.CodeUnauthenticated},
		{"a made-up key", "sbi." + acmeID + ".not-the-secret", sale("x2"), connect.CodeUnauthenticated},
		{"acme's secret under globex's id", "sbi." + globexID + "." + secret, sale("x3"), connect.CodeUnauthenticated},
		{"a key without its tenant", "sbi." + secret, sale("x4"), connect.CodeUnauthenticated},
		{"a revoked key", revoked, sale("x5"), connect.CodeUnauthenticated},
		{"the tenant admin's token", env.Login(t, "acme", "admin"), sale("x6"), connect.CodePermissionDenied},
		{"an agent's token", env.Login(t, "acme", "ann"), sale("x7"), connect.CodePermissionDenied},
		{"the visitor's token", visitorToken, sale("x8"), connect.CodePermissionDenied},
		{"a staff token with the key's prefix", "sbi" + strings.TrimPrefix(env.Login(t, "acme", "sam"), "sbs"), sale("x9"), connect.CodeUnauthenticated},
		{"globex's key, for acme's conversation", globexKey, sale("x10"), connect.CodeNotFound},
		{"globex's key, for acme's visitor", globexKey, &conversionv1.RecordConversionRequest{OrderId: "x11", Amount: "1", Currency: "EUR", VisitorId: conv.VisitorId}, connect.CodeNotFound},
		{"acme's key, for globex's conversation", acmeKey, &conversionv1.RecordConversionRequest{OrderId: "x12", Amount: "1", Currency: "EUR", ConversationId: other.Id}, connect.CodeNotFound},
		{"acme's key, for globex's visitor", acmeKey, &conversionv1.RecordConversionRequest{OrderId: "x13", Amount: "1", Currency: "EUR", VisitorId: other.VisitorId}, connect.CodeNotFound},
	} {
		t.Run(c.caller+" is refused", func(t *testing.T) {
			_, err := conversions(env, c.token).RecordConversion(ctx, connect.NewRequest(c.req))
			if testenv.Code(err) != c.code {
				t.Fatalf("got %v; want %v", err, c.code)
			}
		})
	}
	if after := rows(t, env); after != before {
		t.Fatalf("refused calls changed the rows: %s → %s", before, after)
	}

	t.Run("an API key opens no other service", func(t *testing.T) {
		checks := map[string]error{}
		_, checks["AuthService.WhoAmI"] = env.Auth(acmeKey).WhoAmI(ctx, connect.NewRequest(&authv1.WhoAmIRequest{}))
		_, checks["AuthService.ListApiKeys"] = env.Auth(acmeKey).ListApiKeys(ctx, connect.NewRequest(&authv1.ListApiKeysRequest{}))
		_, checks["AuthService.CreateApiKey"] = env.Auth(acmeKey).CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "more"}))
		_, checks["SupervisionService.ListOpenChats"] = env.Supervision(acmeKey).ListOpenChats(ctx, connect.NewRequest(&supervisionv1.ListOpenChatsRequest{}))
		_, checks["SupervisionService.GetAgentTable"] = env.Supervision(acmeKey).GetAgentTable(ctx, connect.NewRequest(&supervisionv1.GetAgentTableRequest{BusinessUnit: "sales"}))
		var chat chatv1connect.ChatServiceClient = env.Chat(acmeKey)
		_, checks["ChatService.SendMessage"] = chat.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: "k", Text: "from the key"}))
		_, checks["ChatService.SetStatus"] = chat.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AWAY}))
		stream, err := chat.Subscribe(ctx, connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: conv.Id}))
		if err == nil {
			stream.Receive()
			err = stream.Err()
		}
		checks["ChatService.Subscribe"] = err
		for call, err := range checks {
			if testenv.Code(err) != connect.CodePermissionDenied {
				t.Errorf("%s with an API key: %v; want PermissionDenied", call, err)
			}
		}
	})

	t.Run("the tenant's live key still works", func(t *testing.T) {
		if _, err := conversions(env, acmeKey).RecordConversion(ctx, connect.NewRequest(sale("ok-1"))); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAdminsManageAPIKeys(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	admin := env.Auth(env.Login(t, "acme", "admin"))
	created, err := admin.CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "shop-backend"}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Msg.Key, "sbi."+env.Tenants["acme"].ID.String()+".") || created.Msg.ApiKey.GetName() != "shop-backend" {
		t.Fatalf("created %v", created.Msg)
	}
	var stored []byte
	if err := env.Owner.QueryRow(ctx, `SELECT secret_hash FROM api_keys WHERE name = 'shop-backend'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), strings.SplitN(created.Msg.Key, ".", 3)[2]) {
		t.Fatal("the key's secret is stored in clear")
	}

	t.Run("only tenant admins manage keys", func(t *testing.T) {
		for _, who := range []string{"sam", "ann"} {
			c := env.Auth(env.Login(t, "acme", who))
			_, err1 := c.CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "mine"}))
			_, err2 := c.ListApiKeys(ctx, connect.NewRequest(&authv1.ListApiKeysRequest{}))
			_, err3 := c.RevokeApiKey(ctx, connect.NewRequest(&authv1.RevokeApiKeyRequest{Name: "shop-backend"}))
			for _, err := range []error{err1, err2, err3} {
				if testenv.Code(err) != connect.CodePermissionDenied {
					t.Errorf("%s: %v; want PermissionDenied", who, err)
				}
			}
		}
		_, err := env.Auth("").ListApiKeys(ctx, connect.NewRequest(&authv1.ListApiKeysRequest{}))
		if testenv.Code(err) != connect.CodeUnauthenticated {
			t.Errorf("without a token: %v", err)
		}
		// Another tenant's admin sees none of acme's keys and cannot revoke them.
		globex := env.Auth(env.Login(t, "globex", "admin"))
		list, err := globex.ListApiKeys(ctx, connect.NewRequest(&authv1.ListApiKeysRequest{}))
		if err != nil || len(list.Msg.ApiKeys) != 0 {
			t.Errorf("globex's admin lists %v, %v", list, err)
		}
		if _, err := globex.RevokeApiKey(ctx, connect.NewRequest(&authv1.RevokeApiKeyRequest{Name: "shop-backend"})); testenv.Code(err) != connect.CodeNotFound {
			t.Errorf("globex's admin revoking acme's key: %v", err)
		}
	})

	t.Run("bad names and taken names are refused", func(t *testing.T) {
		for _, name := range []string{"", "Shop", "shop backend", strings.Repeat("a", 64), "-shop"} {
			if _, err := admin.CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: name})); testenv.Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "name") {
				t.Errorf("name %q: %v; want InvalidArgument naming name", name, err)
			}
		}
		if _, err := admin.CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "shop-backend"})); testenv.Code(err) != connect.CodeAlreadyExists {
			t.Errorf("a taken name: %v; want AlreadyExists", err)
		}
	})

	t.Run("a key's use is noted and the list shows no secret", func(t *testing.T) {
		conv, _ := chatted(t, env, "acme", "ann")
		if _, err := conversions(env, created.Msg.Key).RecordConversion(ctx, connect.NewRequest(&conversionv1.RecordConversionRequest{
			OrderId: "1", Amount: "1", Currency: "EUR", ConversationId: conv.Id})); err != nil {
			t.Fatal(err)
		}
		list, err := admin.ListApiKeys(ctx, connect.NewRequest(&authv1.ListApiKeysRequest{}))
		if err != nil || len(list.Msg.ApiKeys) != 1 {
			t.Fatalf("list: %v %v", list, err)
		}
		k := list.Msg.ApiKeys[0]
		if k.Name != "shop-backend" || k.LastUsedAt == nil || time.Since(k.LastUsedAt.AsTime()) > time.Minute {
			t.Errorf("listed %v; want shop-backend, used just now", k)
		}
		if strings.Contains(list.Msg.String(), strings.SplitN(created.Msg.Key, ".", 3)[2]) {
			t.Error("the list shows the secret")
		}
	})

	t.Run("a revoked key fails at once and its name can be used again", func(t *testing.T) {
		if _, err := admin.RevokeApiKey(ctx, connect.NewRequest(&authv1.RevokeApiKeyRequest{Name: "shop-backend"})); err != nil {
			t.Fatal(err)
		}
		_, err := conversions(env, created.Msg.Key).RecordConversion(ctx, connect.NewRequest(&conversionv1.RecordConversionRequest{
			OrderId: "2", Amount: "1", Currency: "EUR", VisitorId: "00000000-0000-0000-0000-000000000000"}))
		if testenv.Code(err) != connect.CodeUnauthenticated {
			t.Fatalf("the revoked key: %v; want Unauthenticated", err)
		}
		if _, err := admin.RevokeApiKey(ctx, connect.NewRequest(&authv1.RevokeApiKeyRequest{Name: "shop-backend"})); testenv.Code(err) != connect.CodeNotFound {
			t.Errorf("revoking again: %v; want NotFound", err)
		}
		if _, err := admin.CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "shop-backend"})); err != nil {
			t.Errorf("reusing the name: %v", err)
		}
	})
}
