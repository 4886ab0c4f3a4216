package floodbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	// The test binary is also the workers the benchmark runs apart.
	switch os.Getenv(workerEnv) {
	case "flood":
		exit(FloodWorker(context.Background(), os.Stdin, os.Stdout))
	case "victim":
		exit(VictimWorker(context.Background(), os.Stdin, os.Stdout))
	}
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

// workerEnv names the worker the test binary is when set.
const workerEnv = "FLOODBENCH_WORKER"

func exit(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// worker is the command line of a worker process: this test binary, told which.
func worker(which string) []string {
	return []string{"env", workerEnv + "=" + which, os.Args[0]}
}

// runLogged runs the benchmark and logs its report, which it returns printed too.
func runLogged(t *testing.T, ctx context.Context, o Options) (*Report, string) {
	t.Helper()
	rep, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var out strings.Builder
	if err := Print(&out, rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", out.String())
	return rep, out.String()
}

// A short run of the benchmark, so that it never rots: it asserts what was measured and
// that the flood was refused with retry hints, never how fast anything was.
func TestRunMeasuresTheVictimAloneUnderTheFloodAndAloneAgain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, _ := runLogged(t, ctx, Options{
		Conversations: 5,
		Warmup:        500 * time.Millisecond,
		Duration:      2 * time.Second,
		Rounds:        1,
		FloodRate:     300,
		FloodClients:  20,
		// Limits the short flood passes at once.
		FlooderLimits:   &v1alpha1.TenantLimits{ConversationsPerMinute: ptr.To[int32](6), VisitorMessagesPerMinute: ptr.To[int32](2)},
		FloodStartShare: 0.5,
		// Both tenants' clients in processes of their own, as `bench flood` runs them.
		FloodCommand:  worker("flood"),
		VictimCommand: worker("victim"),
		Nice:          19,
		DatabaseURL:   pgtest.NewDatabase(t, cluster),
		Logf:          t.Logf,
	})
	if len(rep.Phases) != 3 {
		t.Fatalf("%d phases; want alone, flood, alone again", len(rep.Phases))
	}
	for _, p := range append(rep.Phases, rep.Alone, rep.Flooded) {
		if p.Delivered == 0 || p.Undelivered != 0 || p.SendErrors != 0 || p.Latency.Samples != p.Delivered {
			t.Errorf("phase %s: %+v; want every victim message delivered and timed", p.Name, p)
		}
	}
	for _, p := range []Phase{rep.Alone, rep.Flooded} {
		if p.CPU.ProcessCores <= 0 || p.LoadAverage <= 0 {
			t.Errorf("pooled phase %s: server cores %.2f, load average %.2f; want its phases' means", p.Name, p.CPU.ProcessCores, p.LoadAverage)
		}
	}
	if rep.Flooded.FloodCores <= 0 || rep.Flooded.FloodCores != rep.Phases[1].FloodCores {
		t.Errorf("pooled flood cores %.2f; want the flood phase's %.2f, measured apart", rep.Flooded.FloodCores, rep.Phases[1].FloodCores)
	}
	var victim float64
	for _, p := range rep.Phases {
		victim += p.VictimCores
	}
	if victim <= 0 {
		t.Errorf("victim cores %.2f over the phases; want the victim's clients measured apart", victim)
	}
	if !rep.Flood.Separate || rep.Flood.Priority == "" {
		t.Errorf("flood separate %v, priority %q; want a worker process of lowered priority", rep.Flood.Separate, rep.Flood.Priority)
	}
	f := rep.Flood
	if f.Attempted == 0 || f.Refused == 0 || f.AcceptedStarts+f.AcceptedMessages == 0 {
		t.Errorf("flood %+v; want calls both refused and served", f)
	}
	if f.RefusedWithoutHint != 0 || len(f.Errors) != 0 {
		t.Errorf("flood %+v; want every refusal with a retry hint and no other error", f)
	}
	if rep.Verdict == "" || rep.Detail == "" {
		t.Errorf("target not judged: %q %q", rep.Verdict, rep.Detail)
	}
}

// The floor's short run: the flood goes to a bare server in the server's process, which
// refuses all of it with the retry hint the flood counts, while the victim is measured
// alike.
func TestTheFloorFloodsABareServerAndMeasuresTheVictimAlike(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, report := runLogged(t, ctx, Options{Conversations: 5, Warmup: 500 * time.Millisecond, Duration: 2 * time.Second, Rounds: 1,
		FloodRate: 300, FloodClients: 20, FloodStartShare: 0.25, Floor: true,
		FloodCommand: worker("flood"), VictimCommand: worker("victim"), Nice: 19,
		DatabaseURL: pgtest.NewDatabase(t, cluster), Logf: t.Logf})
	if !rep.Floor || !strings.Contains(report, "bare net/http server") {
		t.Error("the report does not say the flood went to a bare server")
	}
	for _, p := range rep.Phases {
		if p.Delivered == 0 || p.Undelivered != 0 || p.SendErrors != 0 {
			t.Errorf("phase %s: %+v; want every victim message delivered", p.Name, p)
		}
	}
	// Calls still in flight when the flood stopped, one a client at most, are not counted.
	if f := rep.Flood; f.Refused == 0 || f.Refused < f.Attempted-20 || f.AcceptedMessages+f.AcceptedStarts != 0 || len(f.Errors) != 0 || f.RefusedWithoutHint != 0 {
		t.Errorf("flood %+v; want every call refused with a retry hint, none served", f)
	}
}

// The flood worker runs at the priority asked for: the command, started as the bench
// starts it, reports its own scheduling policy and niceness.
func TestTheFloodWorkerRunsAtTheLoweredPriority(t *testing.T) {
	report := []string{"sh", "-c", `chrt -p $$; echo "nice $(nice)"`}
	for _, c := range []struct {
		nice     int
		idle     bool
		priority string
		want     []string
	}{
		{nice: 19, priority: "nice 19", want: []string{"SCHED_OTHER", "nice 19"}},
		{nice: 19, idle: true, priority: "SCHED_IDLE", want: []string{"SCHED_IDLE"}},
		{nice: 0, priority: "", want: []string{"SCHED_OTHER", "nice 0"}},
	} {
		args, priority := lowered(report, c.nice, c.idle, t.Logf)
		if priority != c.priority {
			t.Errorf("nice %d, idle %v: priority %q, want %q", c.nice, c.idle, priority, c.priority)
		}
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("nice %d, idle %v: the worker reports %q, want %q in it", c.nice, c.idle, out, w)
			}
		}
	}
}
