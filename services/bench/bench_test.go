package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

func TestRunMeasuresDeliveryAndTheRawInsertYardstick(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{
		Conversations: []int{20},
		Duration:      2 * time.Second,
		Warmup:        500 * time.Millisecond,
		DatabaseURL:   pgtest.NewDatabase(t, cluster),
		Logf:          t.Logf,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var out strings.Builder
	if err := Print(&out, rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", out.String())

	if len(rep.Rounds) != 1 {
		t.Fatalf("%d rounds, want 1", len(rep.Rounds))
	}
	rd := rep.Rounds[0]
	if len(rd.Errors) > 0 {
		t.Fatalf("round errors: %q", rd.Errors)
	}
	if rd.Agents != 1 {
		t.Errorf("%d agents for 20 conversations, want 1", rd.Agents)
	}
	tp := rd.Throughput
	if tp == nil || tp.Rate <= 0 || tp.Delivered == 0 {
		t.Fatalf("throughput = %+v, want messages delivered", tp)
	}
	if tp.Undelivered != 0 || tp.SendErrors != 0 {
		t.Errorf("throughput phase: %d acknowledged messages undelivered, %d send errors", tp.Undelivered, tp.SendErrors)
	}
	if tp.Latency.Samples != tp.Delivered || tp.Latency.P50Ms <= 0 || tp.Latency.P99Ms < tp.Latency.P50Ms {
		t.Errorf("throughput latency = %+v for %d messages", tp.Latency, tp.Delivered)
	}
	if rd.RawInsert == nil || rd.RawInsert.Rate <= 0 {
		t.Fatalf("raw INSERT = %+v, want commits", rd.RawInsert)
	}
	if rd.Ratio <= 0 {
		t.Errorf("ratio = %v", rd.Ratio)
	}
	p := rd.Paced
	if p == nil || p.Delivered == 0 || p.Undelivered != 0 {
		t.Fatalf("paced = %+v, want every message delivered", p)
	}
	if p.TargetRate != tp.Rate/2 {
		t.Errorf("paced target %v, want half of %v", p.TargetRate, tp.Rate)
	}
	st := rd.Steady
	if st == nil || st.Delivered == 0 || st.Undelivered != 0 {
		t.Fatalf("steady = %+v, want every message delivered", st)
	}
	if st.IntervalMs != 1000 {
		t.Errorf("steady interval %v ms, want each conversation every second", st.IntervalMs)
	}
	if rep.Machine.PostgresVersion == "" || rep.Machine.Fsync == "" || rep.Protocol != "HTTP/2.0" {
		t.Errorf("machine = %+v, protocol %q", rep.Machine, rep.Protocol)
	}
	for _, target := range rep.Targets {
		if target.Result == "" {
			t.Errorf("target %q not judged", target.Goal)
		}
	}
}
