package reportsbench

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

// A small run seeds, folds and times every report, and the answers cover the seeded data.
func TestRunSeedsFoldsAndTimesEveryReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{Conversations: 2000, Runs: 2, DatabaseURL: pgtest.NewDatabase(t, cluster), Logf: t.Logf})
	if rep != nil {
		var out strings.Builder
		if err := Print(&out, rep); err != nil {
			t.Fatal(err)
		}
		t.Logf("report:\n%s", out.String())
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Conversations != 2000+openConversations || rep.Messages == 0 || rep.PageViews == 0 || rep.Offline != 2000/offlineShare {
		t.Errorf("seeded %d conversations, %d messages, %d page views, %d offline messages", rep.Conversations, rep.Messages, rep.PageViews, rep.Offline)
	}
	if rep.RollupRows["report_queue"] != 0 || rep.RollupRows["report_hours"] == 0 || rep.RollupRows["report_visitor_days"] == 0 {
		t.Errorf("rollups after folding: %v", rep.RollupRows)
	}
	if len(rep.Queries) != 9 || len(rep.Targets) != 2 {
		t.Fatalf("%d reports timed and %d targets, want 9 and 2", len(rep.Queries), len(rep.Targets))
	}
	for _, q := range rep.Queries {
		if q.Latency.Samples != 2 || q.Latency.P50Ms <= 0 || q.Check == "" {
			t.Errorf("%s: %+v %q", q.Name, q.Latency, q.Check)
		}
	}
	// About 30/365 of the conversations fall in the 30-day range; none may be lost.
	if c := rep.Queries[0].Check; !strings.HasPrefix(c, "30 days: ") || strings.HasPrefix(c, "30 days: 0 conversations") {
		t.Errorf("the 30-day daily report answered %q", c)
	}
	if c := rep.Queries[3].Check; !strings.HasPrefix(c, "12 months: ") {
		t.Errorf("the monthly report answered %q", c)
	}
}
