package supervisionbench

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

func TestRunDeliversEveryWatchedEventAndMeasuresSearchAndExport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{
		Conversations:        20,
		Supervisors:          4,
		WatchesPerSupervisor: 5,
		Pace:                 250 * time.Millisecond,
		DraftsPerMessage:     2,
		Warmup:               250 * time.Millisecond,
		Duration:             time.Second,
		Stored:               500,
		SearchRuns:           3,
		ExportRows:           []int{100, 500},
		DatabaseURL:          pgtest.NewDatabase(t, cluster),
		Logf:                 t.Logf,
	})
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

	f := rep.FanOut
	if f == nil {
		t.Fatal("no fan-out results")
	}
	if f.WatchStreams != 20 || f.WatchedConversations == 0 || f.WatchedConversations > 20 {
		t.Errorf("%d watch streams on %d conversations, want 20 streams on 1–20 conversations", f.WatchStreams, f.WatchedConversations)
	}
	for _, k := range []struct {
		name string
		s    EventStats
	}{{"messages", f.Messages}, {"drafts", f.Drafts}} {
		s := k.s
		if s.Sent == 0 || s.Watched == 0 || s.Deliveries < s.Watched {
			t.Errorf("%s: %d sent, %d in watched conversations, %d deliveries; want each watched one delivered at least once", k.name, s.Sent, s.Watched, s.Deliveries)
		}
		if s.Undelivered != 0 || s.SendErrors != 0 {
			t.Errorf("%s: %d (event, supervisor) pairs undelivered, %d send errors; want every event at every watching supervisor", k.name, s.Undelivered, s.SendErrors)
		}
		if s.Latency.Samples != s.Deliveries || s.Latency.P50Ms <= 0 || s.Latency.P99Ms < s.Latency.P50Ms {
			t.Errorf("%s: latency %+v for %d deliveries", k.name, s.Latency, s.Deliveries)
		}
	}
	if f.DuplicateDeliveries != 0 {
		t.Errorf("%d events arrived twice on one watch stream", f.DuplicateDeliveries)
	}
	if sg := f.Signals; sg == nil || sg.Missing != 0 || sg.Warning.Samples != 20 || sg.Critical.Samples != 20 || len(sg.Problems) != 0 {
		t.Errorf("signals: %+v; want a warning and a critical signal of each of the 20 conversations on the supervisor's stream", sg)
	}

	s := rep.Search
	if s == nil || s.Stored != 500 || s.Events < 500*6 || s.Ratings == 0 {
		t.Fatalf("search store = %+v, want 500 conversations with their events and some ratings", s)
	}
	if len(s.Kinds) == 0 || s.Overall.Samples != len(s.Kinds)*3 {
		t.Errorf("%d query kinds, %d samples; want 3 of each", len(s.Kinds), s.Overall.Samples)
	}
	for _, k := range s.Kinds {
		if strings.HasPrefix(k.Name, "text: a common word") || strings.HasPrefix(k.Name, "page") {
			if k.MeanRows == 0 {
				t.Errorf("%s found nothing: the seeded conversations are not indexed", k.Name)
			}
		}
	}
	if len(rep.Exports) != 2 {
		t.Fatalf("%d exports, want 2", len(rep.Exports))
	}
	for _, x := range rep.Exports {
		if x.RowsGot != x.Rows || x.RowsPerSecond <= 0 || x.HeapSamples == 0 {
			t.Errorf("export %+v: want every row, a rate and heap samples", x)
		}
	}
	for _, target := range rep.Targets {
		if target.Result == NotMeasured {
			t.Errorf("target %q not measured", target.Goal)
		}
	}
	if rep.Machine.PostgresVersion == "" || rep.Protocol != "HTTP/2.0" {
		t.Errorf("machine = %+v, protocol %q", rep.Machine, rep.Protocol)
	}
}
