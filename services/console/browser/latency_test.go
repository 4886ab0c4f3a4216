package browser_test

import (
	"context"
	"encoding/json"
	"flag"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
)

var (
	latencyMessages  = flag.Int("latency.messages", 200, "messages the visitor sends in BenchmarkSupervisorBrowserLatency")
	latencyPerSecond = flag.Int("latency.rate", 5, "messages per second the visitor sends in BenchmarkSupervisorBrowserLatency")
)

// latencyReport is the JSON line latency.mjs prints.
type latencyReport struct {
	Benchmark    string  `json:"benchmark"`
	Messages     int     `json:"messages"`
	PerSecond    int     `json:"perSecond"`
	Seen         int     `json:"seen"`
	Misses       int     `json:"misses"`
	FailedSends  int     `json:"failedSends"`
	P50Ms        float64 `json:"p50Ms"`
	P90Ms        float64 `json:"p90Ms"`
	P99Ms        float64 `json:"p99Ms"`
	MaxMs        float64 `json:"maxMs"`
	ArrivedP50Ms float64 `json:"arrivedP50Ms"`
	AckP50Ms     float64 `json:"ackP50Ms"`
	AckP99Ms     float64 `json:"ackP99Ms"`
}

// BenchmarkSupervisorBrowserLatency measures, for each of 200 messages a visitor sends
// through the API at 5 per second, the time until its text appears in the browser of Sam,
// who watches the chat in My supervised chats while Ann answers it through the API.
// One run is one op; the figures are its custom metrics (make bench-console).
func BenchmarkSupervisorBrowserLatency(b *testing.B) {
	node := requireBrowser(b)
	env, s := newScenario(b, "latency")
	ctx := context.Background()
	ann := agentOnline(b, env, "ann")
	v := startChat(b, env, "sales", "Lena Latency", "Hello, I am timing you.")
	if _, err := ann.client.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: v.conversation})); err != nil {
		b.Fatal(err)
	}
	sam := env.Supervision(env.Login(b, "acme", "sam"))
	if _, err := sam.AddSupervisedChat(ctx, connect.NewRequest(&supervisionv1.AddSupervisedChatRequest{ConversationId: v.conversation})); err != nil {
		b.Fatal(err)
	}
	s.ConversationID, s.VisitorName, s.VisitorToken = v.conversation, "Lena Latency", v.token
	s.Messages, s.PerSecond = *latencyMessages, *latencyPerSecond

	var rep latencyReport
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := runScript(b, node, "latency.mjs", s, 5*time.Minute)
		rep = parseLatencyReport(b, out)
		b.Log("\n" + out)
	}
	b.ReportMetric(rep.P50Ms, "p50-ms")
	b.ReportMetric(rep.P90Ms, "p90-ms")
	b.ReportMetric(rep.P99Ms, "p99-ms")
	b.ReportMetric(rep.MaxMs, "max-ms")
	b.ReportMetric(float64(rep.Misses), "misses")
	b.ReportMetric(rep.ArrivedP50Ms, "arrived-p50-ms")
	b.ReportMetric(rep.AckP50Ms, "ack-p50-ms")
}

func parseLatencyReport(b *testing.B, out string) latencyReport {
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, `{"benchmark":`) {
			continue
		}
		var rep latencyReport
		if err := json.Unmarshal([]byte(line), &rep); err != nil {
			b.Fatalf("latency.mjs's report %q: %v", line, err)
		}
		return rep
	}
	b.Fatalf("latency.mjs printed no report:\n%s", out)
	return latencyReport{}
}
