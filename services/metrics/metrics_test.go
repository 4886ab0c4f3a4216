package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5/pgconn"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
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
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, businessUnits: [sales], maxConversations: 3}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: bo, namespace: acme}
spec: {agent: bo, businessUnits: [sales], maxConversations: 2}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
`

func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// value finds the sample of a family with exactly these labels; ok is false when none.
func value(f *dto.MetricFamily, labels map[string]string) (float64, bool) {
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		if fmt.Sprint(got) != fmt.Sprint(labels) {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsShowEachUnitsConversationsAgentsAndSlots(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ann := env.Chat(env.Login(t, "acme", "ann"))
	stream, err := ann.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	res, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: "sales", FirstMessage: &chatv1.Message{ClientMessageId: "1", Text: "hi"}}))
	if err != nil || res.Msg.Conversation.GetAgent() != "ann" {
		t.Fatalf("starting a conversation: %v, %v", res, err)
	}

	families := scrape(t, env.Base)
	for name, typ := range map[string]dto.MetricType{
		"switchboard_conversations": dto.MetricType_GAUGE, "switchboard_agents": dto.MetricType_GAUGE, "switchboard_slots": dto.MetricType_GAUGE,
		"switchboard_streams": dto.MetricType_GAUGE, "switchboard_db_pool_connections": dto.MetricType_GAUGE,
		"switchboard_db_pool_acquires_total": dto.MetricType_COUNTER, "switchboard_db_pool_acquire_wait_seconds_total": dto.MetricType_COUNTER,
		"switchboard_metrics_scrape_errors": dto.MetricType_GAUGE, "go_goroutines": dto.MetricType_GAUGE,
		"go_gc_heap_live_bytes": dto.MetricType_GAUGE, "process_open_fds": dto.MetricType_GAUGE,
	} {
		f := families[name]
		if f == nil || f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("%s: %v; want a documented %v", name, f, typ)
		}
	}
	unit := func(extra, v string) map[string]string {
		return map[string]string{"tenant": "acme", "business_unit": "sales", extra: v}
	}
	for _, c := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"switchboard_conversations", unit("state", "open"), 1},
		{"switchboard_conversations", unit("state", "queued"), 0},
		{"switchboard_agents", unit("status", "available"), 1},
		{"switchboard_agents", unit("status", "offline"), 1},
		{"switchboard_slots", unit("kind", "used"), 1},
		{"switchboard_slots", unit("kind", "free"), 2},
		{"switchboard_agents", map[string]string{"tenant": "globex", "business_unit": "sales", "status": "available"}, 0},
		{"switchboard_metrics_scrape_errors", map[string]string{}, 0},
	} {
		if got, ok := value(families[c.family], c.labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v); want %v", c.family, c.labels, got, ok, c.want)
		}
	}
	if v, _ := value(families["switchboard_streams"], map[string]string{}); v < 1 {
		t.Errorf("switchboard_streams = %v with ann's stream open", v)
	}
	t.Run("a unit's counters start at zero, so that rate() sees the first increment", func(t *testing.T) {
		// A second scrape: the first one started the series of units it saw.
		families := scrape(t, env.Base)
		for _, c := range []struct {
			family, label, value string
		}{{"switchboard_ratings_total", "value", "thumb_down"}, {"switchboard_ratings_total", "value", "csat_1"},
			{"switchboard_messages_total", "author_kind", "agent"}, {"switchboard_first_response_seconds", "", ""}} {
			labels := map[string]string{"tenant": "globex", "business_unit": "sales"}
			if c.label != "" {
				labels[c.label] = c.value
			}
			if got, ok := value(families[c.family], labels); !ok || got != 0 {
				t.Errorf("%s%v = %v (present %v); want a series at 0", c.family, labels, got, ok)
			}
		}
	})

	t.Run("messages, ratings, first responses and handling times are counted", func(t *testing.T) {
		conv := res.Msg.Conversation.Id
		if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv})); err != nil {
			t.Fatal(err)
		}
		if _, err := ann.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv, ClientMessageId: "a1", Text: "hello!"})); err != nil {
			t.Fatal(err)
		}
		visitor := env.Chat(res.Msg.VisitorToken)
		for _, id := range []string{"2", "2"} { // the resend is not a second message
			if _, err := visitor.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv, ClientMessageId: id, Text: "thanks"})); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ann.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: conv})); err != nil {
			t.Fatal(err)
		}
		if _, err := visitor.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: conv, Thumb: chatv1.Thumb_THUMB_UP, Csat: 5,
			Criteria: []*chatv1.CriterionScore{{Criterion: chatv1.RatingCriterion_RATING_CRITERION_WELCOME, Score: 4}}})); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			f := scrape(t, env.Base)
			type want struct {
				family string
				labels map[string]string
				value  float64
			}
			var wrong []string
			for _, w := range []want{
				{"switchboard_messages_total", unit("author_kind", "visitor"), 2},
				{"switchboard_messages_total", unit("author_kind", "agent"), 1},
				{"switchboard_ratings_total", unit("value", "thumb_up"), 1},
				{"switchboard_ratings_total", unit("value", "csat_5"), 1},
				{"switchboard_rating_criterion_scores_total", map[string]string{"tenant": "acme", "business_unit": "sales", "criterion": "welcome", "score": "4"}, 1},
				{"switchboard_first_response_seconds", map[string]string{"tenant": "acme", "business_unit": "sales"}, 1},
				{"switchboard_handling_duration_seconds", map[string]string{"tenant": "acme", "business_unit": "sales"}, 1},
			} {
				if got, _ := value(f[w.family], w.labels); got != w.value {
					wrong = append(wrong, fmt.Sprintf("%s%v = %v, want %v", w.family, w.labels, got, w.value))
				}
				if typ := f[w.family].GetType(); typ != dto.MetricType_COUNTER && typ != dto.MetricType_HISTOGRAM {
					wrong = append(wrong, w.family+" is neither a counter nor a histogram")
				}
			}
			if len(wrong) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal(strings.Join(wrong, "\n"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("a deleted tenant's series disappear", func(t *testing.T) {
		stream.Close()
		// The agent going offline writes beside the cascade; PostgreSQL may pick the delete
		// as a deadlock's victim, and the operator retries it as this does.
		for attempt := 1; ; attempt++ {
			_, err := env.Owner.Exec(context.Background(), `DELETE FROM tenants WHERE name IN ('globex', 'acme')`)
			if err == nil {
				break
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "40P01" || attempt == 5 {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			var left []string
			for name, f := range scrape(t, env.Base) {
				for _, m := range f.Metric {
					for _, l := range m.Label {
						if l.GetName() == "tenant" && (l.GetValue() == "globex" || l.GetValue() == "acme") {
							left = append(left, name)
						}
					}
				}
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("series of the deleted tenant remain: %s", strings.Join(left, ", "))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestMessagesCountUnderTheUnitAfterATransfer moves a conversation to another unit: the
// visitor's next message counts there.
func TestMessagesCountUnderTheUnitAfterATransfer(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ann := env.Chat(env.Login(t, "acme", "ann"))
	stream, err := ann.AgentStream(ctx, connect.NewRequest(&chatv1.AgentStreamRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() {
		t.Fatal(stream.Err())
	}
	res, err := env.Chat("").StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: "sales", FirstMessage: &chatv1.Message{ClientMessageId: "1", Text: "hi"}}))
	if err != nil {
		t.Fatal(err)
	}
	conv := res.Msg.Conversation.Id
	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: conv})); err != nil {
		t.Fatal(err)
	}
	count := func(unit string) float64 {
		v, _ := value(scrape(t, env.Base)["switchboard_messages_total"], map[string]string{"tenant": "acme", "business_unit": unit, "author_kind": "visitor"})
		return v
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("the first message counted in sales", func() bool { return count("sales") == 1 })
	if _, err := ann.TransferConversation(ctx, connect.NewRequest(&chatv1.TransferConversationRequest{ConversationId: conv,
		Target: &chatv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "support"}})); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Chat(res.Msg.VisitorToken).SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv, ClientMessageId: "2", Text: "still there?"})); err != nil {
		t.Fatal(err)
	}
	waitFor("the message after the transfer counted in support", func() bool { return count("support") == 1 })
	if got := count("sales"); got != 1 {
		t.Fatalf("sales counts %v visitor messages; want only the one before the transfer", got)
	}
}
