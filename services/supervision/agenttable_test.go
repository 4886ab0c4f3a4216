package supervision_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/store"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// noonZone is a fixed-offset zone where it is about noon now, so that "today" holds the
// last hours whatever the hour the test runs at.
func noonZone() *time.Location {
	offset := 12 - time.Now().UTC().Hour() // -11…12
	name := "Etc/GMT"
	switch {
	case offset > 0:
		name += fmt.Sprintf("-%d", offset) // Etc/GMT-7 is UTC+7
	case offset < 0:
		name += fmt.Sprintf("+%d", -offset)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// sam supervises sales only; sue support only; bob works in both units, ann in sales and
// cat in support.
func agentTableConfig(zone string) string {
	return `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  businessHours: {timeZone: ` + zone + `, weekly: [{days: [Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday], open: "00:00", close: "24:00"}]}
  supervisors:
    - {name: sam, permissions: [Supervise]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec:
  supervisors:
    - {name: sue, permissions: [SuperviseOpenChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, displayName: Ann, businessUnits: [sales], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: bob, namespace: acme}
spec: {agent: bob, displayName: Bob, businessUnits: [sales, support], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, displayName: Cat, businessUnits: [support], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
spec:
  supervisors:
    - {name: gina, permissions: [Supervise, SuperviseOpenChats, AllChats]}
`
}

func TestTheAgentTableShowsEachAgentsDay(t *testing.T) {
	zone := noonZone()
	env := testenv.Start(t, cluster, agentTableConfig(zone.String()))
	ctx := context.Background()
	now := time.Now().In(zone)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := env.Owner.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	id := func(sql string, args ...any) uuid.UUID {
		t.Helper()
		var v uuid.UUID
		if err := env.Owner.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	annID := id(`SELECT agent_id FROM agents WHERE name = 'ann' AND tenant_id = $1`, env.Tenants["acme"].ID)
	bobID := id(`SELECT agent_id FROM agents WHERE name = 'bob' AND tenant_id = $1`, env.Tenants["acme"].ID)

	// Ann's day: two conversations, one closed after 5 minutes, rated 4, with three sales.
	ann, _ := agentOnline(t, env, "acme", "ann")
	conv1, visitor1, _ := visitorStart(t, env, "sales")
	conv2, _, _ := visitorStart(t, env, "sales")
	for _, c := range []*chatv1.Conversation{conv1, conv2} {
		if c.Agent != "ann" {
			t.Fatalf("%s went to %q, not ann", c.Id, c.Agent)
		}
		if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: c.Id})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ann.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: conv1.Id})); err != nil {
		t.Fatal(err)
	}
	if _, err := visitor1.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: conv1.Id, Csat: 4})); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE conversations SET assigned_at = now() - interval '10 minutes', closed_at = now() - interval '5 minutes' WHERE conversation_id = $1`, conv1.Id)
	key, err := env.Auth(env.Login(t, "acme", "admin")).CreateApiKey(ctx, connect.NewRequest(&authv1.CreateApiKeyRequest{Name: "shop"}))
	if err != nil {
		t.Fatal(err)
	}
	shop := conversionv1connect.NewConversionServiceClient(env.HTTP, env.Base, connect.WithInterceptors(testenv.Bearer(key.Msg.Key)))
	for i, sale := range [][2]string{{"100.00", "EUR"}, {"20.5", "EUR"}, {"5", "USD"}} {
		if _, err := shop.RecordConversion(ctx, connect.NewRequest(&conversionv1.RecordConversionRequest{
			OrderId: fmt.Sprint("order-", i), Amount: sale[0], Currency: sale[1], ConversationId: conv1.Id})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ann.SetStatus(ctx, connect.NewRequest(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AWAY})); err != nil {
		t.Fatal(err)
	}
	// Earlier today ann was online from an hour before midnight to an hour after, and away
	// for half an hour later: 90 minutes of today.
	exec(`INSERT INTO agent_status_intervals (tenant_id, agent_id, started_at, status, ended_at) VALUES
		($1, $2, $3::timestamptz - interval '1 hour', 'available', $3::timestamptz + interval '1 hour'),
		($1, $2, $3::timestamptz + interval '1 hour', 'offline', $3::timestamptz + interval '2 hours'),
		($1, $2, $3::timestamptz + interval '2 hours', 'away', $3::timestamptz + interval '150 minutes')`,
		env.Tenants["acme"].ID, annID, midnight)
	// Yesterday's work counts nowhere today.
	exec(`WITH v AS (INSERT INTO visitors (tenant_id) VALUES ($1) RETURNING visitor_id),
		c AS (INSERT INTO conversations (tenant_id, unit_id, visitor_id, agent_id, state, visitor_token_hash, created_at, assigned_at, closed_at)
			SELECT $1, u.unit_id, v.visitor_id, $2, 'closed', '\x00', $3::timestamptz - interval '3 hours', $3::timestamptz - interval '3 hours', $3::timestamptz - interval '1 hour'
			FROM v, business_units u WHERE u.tenant_id = $1 AND u.name = 'sales' RETURNING conversation_id, unit_id),
		r AS (INSERT INTO ratings (tenant_id, conversation_id, csat, rated_at) SELECT $1, conversation_id, 1, $3::timestamptz - interval '30 minutes' FROM c)
		INSERT INTO conversions (tenant_id, order_id, amount, currency, conversation_id, agent_id, unit_id, occurred_at)
		SELECT $1, 'yesterday', 999, 'EUR', conversation_id, $2, unit_id, $3::timestamptz - interval '30 minutes' FROM c`,
		env.Tenants["acme"].ID, annID, midnight)

	// Bob's day: one open conversation in sales and one in support, and a signal on the
	// sales one; cat, of support only, is not in the sales table.
	agentOnline(t, env, "acme", "bob")
	conv3, _, _ := visitorStart(t, env, "sales")
	conv4, _, _ := visitorStart(t, env, "support")
	if conv3.Agent != "bob" || conv4.Agent != "bob" {
		t.Fatalf("conversations went to %q and %q, not bob", conv3.Agent, conv4.Agent)
	}
	raise := func(conv *chatv1.Conversation, unit string) {
		t.Helper()
		err := pgx.BeginFunc(ctx, env.Owner, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('switchboard.tenant_id', $1, true)`, env.Tenants["acme"].ID.String()); err != nil {
				return err
			}
			convID := uuid.MustParse(conv.Id)
			var unitID uuid.UUID
			if err := tx.QueryRow(ctx, `SELECT unit_id FROM business_units WHERE tenant_id = sb_current_tenant() AND name = $1`, unit).Scan(&unitID); err != nil {
				return err
			}
			_, _, err := store.RaiseSignal(ctx, tx, &store.Signal{Objective: "first-response", Metric: "firstResponseTime",
				Level: store.LevelCritical, Source: store.SourceLive, Subject: store.ConversationSubject(convID),
				Conversation: uuid.NullUUID{UUID: convID, Valid: true}, Agent: uuid.NullUUID{UUID: bobID, Valid: true},
				Unit: uuid.NullUUID{UUID: unitID, Valid: true}, Value: 130, Threshold: 120, Summary: "first response 2m10s"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	raise(conv3, "sales")
	raise(conv4, "support")

	t.Run("status changes are recorded as intervals", func(t *testing.T) {
		var history string
		if err := env.Owner.QueryRow(ctx, `SELECT string_agg(status, ' ' ORDER BY started_at) FROM agent_status_intervals
			WHERE agent_id = $1 AND started_at > now() - interval '1 minute'`, annID).Scan(&history); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(history, "offline available away") {
			t.Fatalf("ann's recent statuses: %q; want … offline available away", history)
		}
	})

	sam := env.Supervision(env.Login(t, "acme", "sam"))
	res, err := sam.GetAgentTable(ctx, connect.NewRequest(&supervisionv1.GetAgentTableRequest{BusinessUnit: "sales"}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.TimeZone != zone.String() || res.Msg.Day != now.Format(time.DateOnly) {
		t.Errorf("day %s in %s; want %s in %s", res.Msg.Day, res.Msg.TimeZone, now.Format(time.DateOnly), zone)
	}
	if len(res.Msg.Rows) != 2 || res.Msg.Rows[0].Agent != "ann" || res.Msg.Rows[1].Agent != "bob" {
		t.Fatalf("rows %v; want ann and bob", res.Msg.Rows)
	}
	a, b := res.Msg.Rows[0], res.Msg.Rows[1]
	near := func(got, want float64) bool { return math.Abs(got-want) < 0.05 }

	t.Run("ann's row", func(t *testing.T) {
		if a.DisplayName != "Ann" || a.Status != chatv1.AgentStatus_AGENT_STATUS_AWAY {
			t.Errorf("name %q status %v", a.DisplayName, a.Status)
		}
		if a.PresenceSeconds < 5400 || a.PresenceSeconds > 5460 {
			t.Errorf("presence %ds; want 90 minutes and the seconds online now", a.PresenceSeconds)
		}
		if a.Contacts != 2 {
			t.Errorf("contacts %d; want 2", a.Contacts)
		}
		if !near(a.AverageHandlingSeconds, 300) {
			t.Errorf("average handling %vs; want 300", a.AverageHandlingSeconds)
		}
		if want := 2 / (float64(a.PresenceSeconds) / 3600); !near(a.ContactsPerHour, want) || a.ContactsPerHour < 1.3 || a.ContactsPerHour > 1.34 {
			t.Errorf("contacts per hour %v; want about 1.33", a.ContactsPerHour)
		}
		if fmt.Sprint(a.Turnover) != fmt.Sprint([]*supervisionv1.Money{{Currency: "EUR", Amount: "120.50"}, {Currency: "USD", Amount: "5"}}) {
			t.Errorf("turnover %v; want EUR 120.50 and USD 5", a.Turnover)
		}
		if a.Transactions != 3 || !near(a.ConversionRate, 0.5) {
			t.Errorf("transactions %d, conversion rate %v; want 3 and 0.5", a.Transactions, a.ConversionRate)
		}
		if a.Satisfaction != 4 || a.Ratings != 1 {
			t.Errorf("satisfaction %v of %d ratings; want 4 of 1", a.Satisfaction, a.Ratings)
		}
		if a.InProgressUnit != 1 || a.InProgressAll != 1 || a.SignalActive || len(a.Signals) != 0 {
			t.Errorf("in progress %d/%d, signal %v %v; want 1/1 and none", a.InProgressUnit, a.InProgressAll, a.SignalActive, a.Signals)
		}
	})

	t.Run("bob's row", func(t *testing.T) {
		if b.Status != chatv1.AgentStatus_AGENT_STATUS_AVAILABLE || b.Contacts != 2 || b.Transactions != 0 || len(b.Turnover) != 0 ||
			b.ConversionRate != 0 || b.Ratings != 0 || b.Satisfaction != 0 || b.AverageHandlingSeconds != 0 {
			t.Errorf("bob: %v", b)
		}
		if b.InProgressUnit != 1 || b.InProgressAll != 2 {
			t.Errorf("in progress %d in sales, %d in all; want 1 and 2", b.InProgressUnit, b.InProgressAll)
		}
		if b.PresenceSeconds > 60 {
			t.Errorf("presence %ds; bob came online just now", b.PresenceSeconds)
		}
		// The signal in support, which sam does not supervise, stays hidden from sam.
		if !b.SignalActive || len(b.Signals) != 1 || b.Signals[0].ConversationId != conv3.Id ||
			b.Signals[0].Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL || b.Signals[0].Agent != "bob" {
			t.Errorf("signals %v; want the critical one on %s", b.Signals, conv3.Id)
		}
	})

	t.Run("the tenant admin sees every signal of the agent", func(t *testing.T) {
		res, err := env.Supervision(env.Login(t, "acme", "admin")).GetAgentTable(ctx, connect.NewRequest(&supervisionv1.GetAgentTableRequest{BusinessUnit: "sales"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Msg.Rows) != 2 || len(res.Msg.Rows[1].Signals) != 2 {
			t.Fatalf("the admin's table: %v", res.Msg.Rows)
		}
	})

	t.Run("support's table lists its own agents and a UTC day", func(t *testing.T) {
		res, err := env.Supervision(env.Login(t, "acme", "sue")).GetAgentTable(ctx, connect.NewRequest(&supervisionv1.GetAgentTableRequest{BusinessUnit: "support"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Msg.Rows) != 2 || res.Msg.Rows[0].Agent != "bob" || res.Msg.Rows[1].Agent != "cat" || res.Msg.TimeZone != "UTC" {
			t.Fatalf("support's table: %v in %s", res.Msg.Rows, res.Msg.TimeZone)
		}
		if r := res.Msg.Rows[0]; r.InProgressUnit != 1 || r.InProgressAll != 2 || len(r.Signals) != 1 || r.Signals[0].ConversationId != conv4.Id {
			t.Fatalf("bob in support: %v", r)
		}
	})

	t.Run("callers without a grant on the unit are refused", func(t *testing.T) {
		for _, c := range []struct {
			caller, token, unit string
			code                connect.Code
		}{
			{"an agent", env.Login(t, "acme", "ann"), "sales", connect.CodePermissionDenied},
			{"a visitor", "", "sales", connect.CodeUnauthenticated},
			{"a supervisor of another unit", env.Login(t, "acme", "sue"), "sales", connect.CodePermissionDenied},
			{"a supervisor, for an unknown unit", env.Login(t, "acme", "sam"), "nowhere", connect.CodeNotFound},
			{"a supervisor, for no unit", env.Login(t, "acme", "sam"), "", connect.CodeInvalidArgument},
			{"another tenant's supervisor, for a unit only acme has", env.Login(t, "globex", "gina"), "support", connect.CodeNotFound},
		} {
			_, err := env.Supervision(c.token).GetAgentTable(ctx, connect.NewRequest(&supervisionv1.GetAgentTableRequest{BusinessUnit: c.unit}))
			if testenv.Code(err) != c.code {
				t.Errorf("%s: %v; want %v", c.caller, err, c.code)
			}
		}
		// Another tenant's supervisor asking for "sales" gets her own tenant's unit.
		res, err := env.Supervision(env.Login(t, "globex", "gina")).GetAgentTable(ctx, connect.NewRequest(&supervisionv1.GetAgentTableRequest{BusinessUnit: "sales"}))
		if err != nil || len(res.Msg.Rows) != 0 {
			t.Errorf("gina's sales table: %v, %v; want globex's, without agents", res, err)
		}
	})
}
