package supervisionbench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-chat/switchboard/services/bench"
)

// Report is what a run measured. A phase that did not run has a nil field (or no rows),
// and Errors say why.
type Report struct {
	Command         string      `json:"command,omitempty"`
	StartedAt       time.Time   `json:"startedAt"`
	Machine         Machine     `json:"machine"`
	Database        string      `json:"database"`
	Protocol        string      `json:"protocol"`
	HTTPConnections int         `json:"httpConnections"`
	MaxConns        int32       `json:"maxConns"`
	Seed            uint64      `json:"seed"`
	FanOut          *FanOut     `json:"fanOut,omitempty"`
	Search          *Search     `json:"search,omitempty"`
	Exports         []ExportRun `json:"exports,omitempty"`
	Targets         []Target    `json:"targets"`
	Errors          []string    `json:"errors,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	NumCPU          int    `json:"numCPU"`
	GOMAXPROCS      int    `json:"gomaxprocs"`
	CPUModel        string `json:"cpuModel,omitempty"`
	GoVersion       string `json:"goVersion"`
	OS              string `json:"os"`
	PostgresVersion string `json:"postgresVersion"`
	Fsync           string `json:"fsync"`
	SharedBuffers   string `json:"sharedBuffers"`
	WorkMem         string `json:"workMem"`
}

// Latency is a distribution of times, as the message benchmark reports it.
type Latency = bench.Latency

// CPU is what the measured window used, in cores, as the message benchmark reports it.
type CPU = bench.CPU

// FanOut is the live watching phase.
type FanOut struct {
	Conversations int `json:"conversations"`
	Agents        int `json:"agents"`
	AgentCapacity int `json:"agentCapacity"`
	Supervisors   int `json:"supervisors"`
	// WatchStreams is the number of WatchConversation streams; WatchedConversations the
	// distinct conversations they watch; WatchedBy counts conversations by their number
	// of watching supervisors.
	WatchStreams         int         `json:"watchStreams"`
	WatchedConversations int         `json:"watchedConversations"`
	WatchedBy            map[int]int `json:"watchedBy"`
	MaxWatchers          int         `json:"maxWatchers"`
	// PaceMs is how often each conversation's agent acts; DraftsPerMessage how many of
	// those actions are draft updates before each message.
	PaceMs           float64 `json:"paceMs"`
	DraftsPerMessage int     `json:"draftsPerMessage"`
	Warmup           string  `json:"warmup"`
	Duration         string  `json:"duration"`
	SetupSeconds     float64 `json:"setupSeconds"`
	// Messages and Drafts are the events sent in the measured window.
	Messages EventStats `json:"messages"`
	Drafts   EventStats `json:"drafts"`
	// MaxClientLagMs is the longest a send started after it was due.
	MaxClientLagMs float64 `json:"maxClientLagMs"`
	// DrainMs is how long the wait for the last deliveries took after the sends ended.
	DrainMs             float64  `json:"drainMs"`
	CPU                 CPU      `json:"cpu"`
	WatchRestarts       int      `json:"watchRestarts"`
	AgentStreamRestarts int      `json:"agentStreamRestarts"`
	DuplicateDeliveries int      `json:"duplicateDeliveries"`
	Problems            []string `json:"problems,omitempty"`
	// Signals measures live signals raised on the same conversations meanwhile.
	Signals *Signals `json:"signals,omitempty"`
}

// EventStats is one kind of event of the fan-out phase.
type EventStats struct {
	// Rate is Sent per second of the window; Sent counts every conversation's sends
	// started in the window, SendErrors those that failed.
	Rate       float64 `json:"rate"`
	Sent       int     `json:"sent"`
	SendErrors int     `json:"sendErrors"`
	// Watched counts the acknowledged sends of the window in watched conversations,
	// Deliveries their arrivals on watch streams (one per watching supervisor).
	Watched    int `json:"watched"`
	Deliveries int `json:"deliveries"`
	// Undelivered counts (event, watch) pairs of every acknowledged event, warmup
	// included, that never arrived.
	Undelivered int `json:"undelivered"`
	// Latency is from the start of the send call to the arrival on a watch stream, one
	// sample per delivery; AckLatency is the send call itself.
	Latency    Latency `json:"latency"`
	AckLatency Latency `json:"ackLatency"`
}

// Search is the seeded store and the search phase.
type Search struct {
	Stored        int     `json:"stored"`
	Open          int     `json:"open"`
	Events        int     `json:"events"`
	Ratings       int     `json:"ratings"`
	SeedSeconds   float64 `json:"seedSeconds"`
	IndexSeconds  float64 `json:"indexSeconds"`
	VacuumSeconds float64 `json:"vacuumSeconds"`
	// Runs is how many times each kind was timed.
	Runs    int         `json:"runs"`
	Kinds   []QueryKind `json:"kinds,omitempty"`
	Overall Latency     `json:"overall"`
}

// QueryKind is one kind of search query, timed through the API.
type QueryKind struct {
	Name     string  `json:"name"`
	Example  string  `json:"example"`
	Latency  Latency `json:"latency"`
	MeanRows float64 `json:"meanRows"`
}

// ExportRun is one CSV export.
type ExportRun struct {
	Rows          int     `json:"rows"`
	Filter        string  `json:"filter"`
	RowsGot       int     `json:"rowsGot"`
	Bytes         int64   `json:"bytes"`
	Pieces        int     `json:"pieces"`
	Seconds       float64 `json:"seconds"`
	RowsPerSecond float64 `json:"rowsPerSecond"`
	FirstPieceMs  float64 `json:"firstPieceMs"`
	// The Go heap of the process (server and client) after a collection before the
	// export, and the most the samples saw above it during the export.
	BaselineHeapAllocMiB  float64 `json:"baselineHeapAllocMiB"`
	BaselineHeapInuseMiB  float64 `json:"baselineHeapInuseMiB"`
	PeakHeapAllocAboveMiB float64 `json:"peakHeapAllocAboveMiB"`
	PeakHeapInuseAboveMiB float64 `json:"peakHeapInuseAboveMiB"`
	HeapSamples           int     `json:"heapSamples"`
	// The heap the collector found live after a collection, before the export and at
	// most during it (0 above the baseline when no collection ran), and the largest heap
	// goal it set: HeapAlloc climbs towards the goal as garbage accumulates, so the peak
	// above the baseline measures the collector's pacing as much as the export.
	BaselineLiveHeapMiB  float64 `json:"baselineLiveHeapMiB"`
	PeakLiveHeapAboveMiB float64 `json:"peakLiveHeapAboveMiB"`
	PeakHeapGoalMiB      float64 `json:"peakHeapGoalMiB"`
	// AllocatedMiB is everything allocated during the export; GCs the collections.
	AllocatedMiB float64 `json:"allocatedMiB"`
	GCs          int     `json:"gcs"`
}

// Target is one goal of the issue, judged.
type Target struct {
	Goal   string `json:"goal"`
	Result string `json:"result"` // PASS, MISS or NOT MEASURED
	Detail string `json:"detail"`
}

// Judgements of a target.
const (
	Pass        = "PASS"
	Miss        = "MISS"
	NotMeasured = "NOT MEASURED"
)

// Goals of the issue.
const (
	goalWatchP99Ms  = 50.0
	goalSearchP99Ms = 200.0
	goalSignalP99Ms = 1000.0
	// An export's memory is flat when the peak live heap above the baseline at the
	// largest size is within this factor of the smallest's, plus the slack below.
	goalExportFactor   = 1.5
	goalExportSlackMiB = 4.0
)

func judge(ok bool) string {
	if ok {
		return Pass
	}
	return Miss
}

func evaluate(rep *Report) []Target {
	var out []Target
	fo := rep.FanOut
	for _, k := range []struct {
		name string
		pick func(*FanOut) EventStats
	}{{"messages", func(f *FanOut) EventStats { return f.Messages }}, {"drafts", func(f *FanOut) EventStats { return f.Drafts }}} {
		t := Target{Goal: fmt.Sprintf("p99 send-to-supervisor under %.0f ms, %s", goalWatchP99Ms, k.name), Result: NotMeasured}
		if fo != nil && k.pick(fo).Latency.Samples > 0 {
			s := k.pick(fo)
			t.Result = judge(s.Latency.P99Ms < goalWatchP99Ms)
			t.Detail = fmt.Sprintf("p99 %s ms over %d deliveries (%d %s at %.0f/s in all)", ms(s.Latency.P99Ms), s.Deliveries, s.Sent, k.name, s.Rate)
		}
		out = append(out, t)
	}
	t := Target{Goal: "every acknowledged message and draft of a watched conversation reached every watching supervisor", Result: NotMeasured}
	if fo != nil && fo.Messages.Deliveries+fo.Drafts.Deliveries > 0 {
		lost := fo.Messages.Undelivered + fo.Drafts.Undelivered
		t.Result = judge(lost == 0)
		t.Detail = fmt.Sprintf("%d (event, supervisor) pairs undelivered after a drain of at most %s; %d watch stream restarts", lost, drainTimeout, fo.WatchRestarts)
	}
	out = append(out, t)

	t = Target{Goal: fmt.Sprintf("live signal p99 from threshold crossing to the supervisor's stream under %.0f ms, with every signal delivered", goalSignalP99Ms), Result: NotMeasured}
	if fo != nil && fo.Signals != nil && fo.Signals.Warning.Samples > 0 {
		sg := fo.Signals
		worst := max(sg.Warning.P99Ms, sg.Critical.P99Ms)
		t.Result = judge(worst < goalSignalP99Ms && sg.Missing == 0)
		t.Detail = fmt.Sprintf("p99 %s ms (warning) and %s ms (critical) over %d open conversations; %d missing", ms(sg.Warning.P99Ms), ms(sg.Critical.P99Ms), sg.Conversations, sg.Missing)
	}
	out = append(out, t)

	t = Target{Goal: fmt.Sprintf("all-chats search p99 under %.0f ms", goalSearchP99Ms), Result: NotMeasured}
	if s := rep.Search; s != nil && s.Overall.Samples > 0 {
		t.Result = judge(s.Overall.P99Ms < goalSearchP99Ms)
		t.Detail = fmt.Sprintf("p99 %s ms over %d queries on %d conversations", ms(s.Overall.P99Ms), s.Overall.Samples, s.Stored)
		var slow []string
		for _, k := range s.Kinds {
			if k.Latency.P99Ms >= goalSearchP99Ms {
				slow = append(slow, fmt.Sprintf("%s %s ms", k.Name, ms(k.Latency.P99Ms)))
			}
		}
		if len(slow) > 0 {
			t.Detail += "; over the target: " + strings.Join(slow, ", ")
		}
	}
	out = append(out, t)

	t = Target{Goal: "export memory flat in the row count", Result: NotMeasured}
	if runs := completeExports(rep.Exports); len(runs) >= 2 {
		small, large := runs[0], runs[len(runs)-1]
		// Judged on what the export keeps live; HeapAlloc only climbs to the collector's
		// goal (GOGC times the live heap), which a small export may end before reaching.
		t.Result = judge(large.PeakLiveHeapAboveMiB <= goalExportFactor*small.PeakLiveHeapAboveMiB+goalExportSlackMiB)
		var peaks []string
		for _, r := range runs {
			peaks = append(peaks, fmt.Sprintf("%.1f / %.1f MiB at %d rows", r.PeakLiveHeapAboveMiB, r.PeakHeapAllocAboveMiB, r.RowsGot))
		}
		t.Detail = fmt.Sprintf("peak live heap / peak HeapAlloc above the baseline: %s; HeapAlloc climbs to the collector's goal (%.0f MiB at most), not with the rows",
			strings.Join(peaks, ", "), large.PeakHeapGoalMiB)
	}
	return append(out, t)
}

// completeExports are the exports that ran to the end, smallest first.
func completeExports(runs []ExportRun) []ExportRun {
	var out []ExportRun
	for _, r := range runs {
		if r.RowsGot == r.Rows && r.Rows > 0 {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b ExportRun) int { return a.Rows - b.Rows })
	return out
}

// Print writes the report for people.
func Print(w io.Writer, rep *Report) error {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "Switchboard supervision bench, %s\n", rep.StartedAt.Format(time.RFC3339))
	if rep.Command != "" {
		fmt.Fprintf(&b, "  command   %s\n", rep.Command)
	}
	cpu := fmt.Sprintf("%d CPUs", m.NumCPU)
	if m.CPUModel != "" {
		cpu += " (" + m.CPUModel + ")"
	}
	fmt.Fprintf(&b, "  machine   %s, GOMAXPROCS %d, %s %s; server, clients and PostgreSQL share it\n", cpu, m.GOMAXPROCS, m.GoVersion, m.OS)
	fmt.Fprintf(&b, "  postgres  %s: fsync=%s, shared_buffers=%s, work_mem=%s; %s\n", m.PostgresVersion, m.Fsync, m.SharedBuffers, m.WorkMem, rep.Database)
	fmt.Fprintf(&b, "  clients   Connect protocol, protobuf, %s without TLS over %d connections to the in-process server on loopback; server pool %d connections; seed %d\n",
		rep.Protocol, rep.HTTPConnections, rep.MaxConns, rep.Seed)

	if f := rep.FanOut; f != nil {
		var by []string
		for n := 1; n <= f.MaxWatchers; n++ {
			if c := f.WatchedBy[n]; c > 0 {
				by = append(by, fmt.Sprintf("%d by %d", c, n))
			}
		}
		fmt.Fprintf(&b, "\nFan-out: %d open conversations, %d agents (capacity %d) with an AgentStream each, %d supervisors watching %d each:\n",
			f.Conversations, f.Agents, f.AgentCapacity, f.Supervisors, f.WatchStreams/max(f.Supervisors, 1))
		fmt.Fprintf(&b, "  %d watch streams on %d distinct conversations (watched %s); setup %.1fs\n", f.WatchStreams, f.WatchedConversations, strings.Join(by, ", "), f.SetupSeconds)
		fmt.Fprintf(&b, "  each conversation's agent acts every %s ms: %d draft updates of the growing reply, then the reply; warmup %s, measured %s\n\n",
			ms(f.PaceMs), f.DraftsPerMessage, f.Warmup, f.Duration)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "event\tsent/s\tsent\twatched\tdeliveries\tsend-to-supervisor p50 / p99 / max\tsend call p50 / p99\tundelivered\tsend errors\t")
		for _, k := range []struct {
			name string
			s    EventStats
		}{{"message", f.Messages}, {"draft", f.Drafts}} {
			s := k.s
			fmt.Fprintf(tw, "%s\t%.0f\t%d\t%d\t%d\t%s / %s / %s ms\t%s / %s ms\t%d\t%d\t\n", k.name, s.Rate, s.Sent, s.Watched, s.Deliveries,
				ms(s.Latency.P50Ms), ms(s.Latency.P99Ms), ms(s.Latency.MaxMs), ms(s.AckLatency.P50Ms), ms(s.AckLatency.P99Ms), s.Undelivered, s.SendErrors)
		}
		tw.Flush()
		fmt.Fprintf(&b, "\n  client lag behind schedule at most %s ms; drain %s ms; watch stream restarts %d, agent stream restarts %d, duplicate deliveries %d\n",
			ms(f.MaxClientLagMs), ms(f.DrainMs), f.WatchRestarts, f.AgentStreamRestarts, f.DuplicateDeliveries)
		fmt.Fprintf(&b, "  CPU in the window: %s\n", cpuText(f.CPU))
		for _, p := range f.Problems {
			fmt.Fprintf(&b, "  problem: %s\n", p)
		}
		if sg := f.Signals; sg != nil {
			fmt.Fprintf(&b, "\n  live signals: objective %s, %d conversations cross warning after %s and critical after %s, watched on one supervisor's WatchOpenChats\n",
				sg.Objective, sg.Conversations, sg.WarningAfter, sg.CriticalAfter)
			fmt.Fprintf(&b, "    threshold crossed to stream, warning  p50 / p99 / max: %s / %s / %s ms over %d signals\n", ms(sg.Warning.P50Ms), ms(sg.Warning.P99Ms), ms(sg.Warning.MaxMs), sg.Warning.Samples)
			fmt.Fprintf(&b, "    threshold crossed to stream, critical p50 / p99 / max: %s / %s / %s ms over %d signals\n", ms(sg.Critical.P50Ms), ms(sg.Critical.P99Ms), ms(sg.Critical.MaxMs), sg.Critical.Samples)
			fmt.Fprintf(&b, "    signals that never arrived: %d\n", sg.Missing)
			for _, p := range sg.Problems {
				fmt.Fprintf(&b, "    problem: %s\n", p)
			}
		}
	}

	if s := rep.Search; s != nil {
		fmt.Fprintf(&b, "\nSearch: %d stored conversations (%d open), %d events, %d ratings over a year; COPY %.1fs, search indexer %.1fs, VACUUM ANALYZE %.1fs\n",
			s.Stored, s.Open, s.Events, s.Ratings, s.SeedSeconds, s.IndexSeconds, s.VacuumSeconds)
		if len(s.Kinds) > 0 {
			fmt.Fprintf(&b, "  SearchChats through the API as a supervisor with AllChats on the 4 units, page size 50, %d runs of each kind interleaved (after one untimed round)\n\n", s.Runs)
			tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "  query\tfirst example\trows\tp50 ms\tp99 ms\tmax ms")
			for _, k := range s.Kinds {
				fmt.Fprintf(tw, "  %s\t%s\t%.0f\t%s\t%s\t%s\n", k.Name, k.Example, k.MeanRows, ms(k.Latency.P50Ms), ms(k.Latency.P99Ms), ms(k.Latency.MaxMs))
			}
			fmt.Fprintf(tw, "  all queries\t\t\t%s\t%s\t%s\n", ms(s.Overall.P50Ms), ms(s.Overall.P99Ms), ms(s.Overall.MaxMs))
			tw.Flush()
		}
	}

	if len(rep.Exports) > 0 {
		fmt.Fprintf(&b, "\nExport: ExportChats through the API, the CSV read and discarded; the process's Go heap sampled every %s\n\n", heapSampleInterval)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "rows\tfilter\trows/s\tseconds\tMiB of CSV\tfirst piece ms\tbaseline HeapAlloc\tpeak HeapAlloc above\tpeak HeapInuse above\tpeak live heap above\theap goal\tallocated\tGCs\t")
		for _, r := range rep.Exports {
			fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.2f\t%.1f\t%s\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.1f MiB\t%.0f MiB\t%d\t\n", r.RowsGot, r.Filter, r.RowsPerSecond, r.Seconds,
				float64(r.Bytes)/mib, ms(r.FirstPieceMs), r.BaselineHeapAllocMiB, r.PeakHeapAllocAboveMiB, r.PeakHeapInuseAboveMiB,
				r.PeakLiveHeapAboveMiB, r.PeakHeapGoalMiB, r.AllocatedMiB, r.GCs)
		}
		tw.Flush()
	}

	for _, e := range rep.Errors {
		fmt.Fprintf(&b, "\nERROR  %s\n", e)
	}
	fmt.Fprintf(&b, "\nTargets\n")
	for _, t := range rep.Targets {
		fmt.Fprintf(&b, "  %-12s %s", t.Result, t.Goal)
		if t.Detail != "" {
			fmt.Fprintf(&b, ": %s", t.Detail)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func cpuText(c CPU) string {
	s := fmt.Sprintf("this process (clients and server) %.2f cores", c.ProcessCores)
	if c.PostgresCores >= 0 {
		s += fmt.Sprintf(", PostgreSQL %.2f", c.PostgresCores)
	}
	if c.OtherCores >= 0 {
		s += fmt.Sprintf(", other programs %.2f", c.OtherCores)
	}
	if c.MachineBusy >= 0 {
		s += fmt.Sprintf("; machine %.0f%% busy", c.MachineBusy*100)
	}
	return s
}
