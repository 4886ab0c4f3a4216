package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured. Numbers are never filled in for a phase that did not
// run: its field is nil and the round's Errors say why.
type Report struct {
	Command         string    `json:"command,omitempty"`
	StartedAt       time.Time `json:"startedAt"`
	Machine         Machine   `json:"machine"`
	Database        string    `json:"database"`
	Protocol        string    `json:"protocol"`
	HTTPConnections int       `json:"httpConnections"`
	MaxConns        int32     `json:"maxConns"`
	Warmup          string    `json:"warmup"`
	Duration        string    `json:"duration"`
	Rounds          []Round   `json:"rounds"`
	Targets         []Target  `json:"targets"`
}

// Machine describes where the run happened.
type Machine struct {
	NumCPU            int    `json:"numCPU"`
	GOMAXPROCS        int    `json:"gomaxprocs"`
	CPUModel          string `json:"cpuModel,omitempty"`
	GoVersion         string `json:"goVersion"`
	OS                string `json:"os"`
	PostgresVersion   string `json:"postgresVersion"`
	Fsync             string `json:"fsync"`
	SynchronousCommit string `json:"synchronousCommit"`
	WALSyncMethod     string `json:"walSyncMethod"`
	SharedBuffers     string `json:"sharedBuffers"`
}

// Round is one concurrency's results.
type Round struct {
	Conversations int         `json:"conversations"`
	Agents        int         `json:"agents"`
	SetupSeconds  float64     `json:"setupSeconds"`
	Throughput    *Throughput `json:"throughput,omitempty"`
	RawInsert     *RawInsert  `json:"rawInsert,omitempty"`
	// Ratio is the API rate over the raw INSERT rate; 0 when either is missing.
	Ratio float64 `json:"ratio"`
	Paced *Paced  `json:"paced,omitempty"`
	// Steady is the open-loop phase at a fixed pace per conversation (Options.SteadyInterval).
	Steady         *Paced   `json:"steady,omitempty"`
	StreamRestarts int      `json:"streamRestarts"`
	Errors         []string `json:"errors,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

// Latency is a distribution of send-to-delivery (or commit) times.
type Latency struct {
	Samples int     `json:"samples"`
	P50Ms   float64 `json:"p50Ms"`
	P99Ms   float64 `json:"p99Ms"`
	MaxMs   float64 `json:"maxMs"`
}

// CPU is what a phase's measured window used.
type CPU struct {
	// ProcessSeconds and ProcessCores are this process's CPU (clients and server together).
	ProcessSeconds float64 `json:"processSeconds"`
	ProcessCores   float64 `json:"processCores"`
	// PostgresCores is the private PostgreSQL's CPU; -1 if unknown (--database-url).
	PostgresCores float64 `json:"postgresCores"`
	// MachineBusy is the busy fraction of all CPUs (PostgreSQL included); -1 if unknown.
	MachineBusy float64 `json:"machineBusy"`
	// OtherCores is what the rest of the machine used (other programs); -1 if unknown.
	OtherCores float64 `json:"otherCores"`
}

// Throughput is the closed-loop phase.
type Throughput struct {
	// Rate is messages acknowledged in the window and delivered, per second.
	Rate      float64 `json:"rate"`
	Delivered int     `json:"delivered"`
	Latency   Latency `json:"latency"`
	// LittleMs is N / Rate: what the latency at saturation should be.
	LittleMs float64 `json:"littleMs"`
	// Undelivered counts messages of the phase acknowledged but never delivered.
	Undelivered int      `json:"undelivered"`
	SendErrors  int      `json:"sendErrors"`
	Duplicates  int      `json:"duplicates"`
	CPU         CPU      `json:"cpu"`
	Problems    []string `json:"problems,omitempty"`
}

// RawInsert is the yardstick phase.
type RawInsert struct {
	// Rate is commits per second in the window.
	Rate     float64  `json:"rate"`
	Commits  int      `json:"commits"`
	Latency  Latency  `json:"latency"`
	Errors   int      `json:"errors"`
	CPU      CPU      `json:"cpu"`
	Problems []string `json:"problems,omitempty"`
}

// Paced is an open-loop phase: at half the measured throughput, or at a steady pace.
type Paced struct {
	TargetRate float64 `json:"targetRate"`
	// IntervalMs is how often each conversation sends.
	IntervalMs float64 `json:"intervalMs"`
	// Rate is messages due in the window, acknowledged and delivered, per second.
	Rate        float64 `json:"rate"`
	Sent        int     `json:"sent"`
	Delivered   int     `json:"delivered"`
	Latency     Latency `json:"latency"`
	Undelivered int     `json:"undelivered"`
	SendErrors  int     `json:"sendErrors"`
	// MaxClientLagMs is the longest a send started after it was due.
	MaxClientLagMs float64  `json:"maxClientLagMs"`
	CPU            CPU      `json:"cpu"`
	Problems       []string `json:"problems,omitempty"`
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
	goalRatio       = 0.5
	goalP99         = 50.0 // ms
	goalP99Conversa = 1000
)

func evaluate(rep *Report) []Target {
	var out []Target
	for _, rd := range rep.Rounds {
		t := Target{Goal: fmt.Sprintf("API rate at least %.0f%% of the raw INSERT rate at N=%d", goalRatio*100, rd.Conversations)}
		switch {
		case rd.Throughput == nil || rd.RawInsert == nil || rd.RawInsert.Rate == 0:
			t.Result, t.Detail = NotMeasured, "a phase failed"
		case rd.Ratio >= goalRatio:
			t.Result, t.Detail = Pass, fmt.Sprintf("ratio %.2f (%.0f / %.0f)", rd.Ratio, rd.Throughput.Rate, rd.RawInsert.Rate)
		default:
			t.Result, t.Detail = Miss, fmt.Sprintf("ratio %.2f (%.0f / %.0f)", rd.Ratio, rd.Throughput.Rate, rd.RawInsert.Rate)
		}
		out = append(out, t)
	}
	// The latency target is judged at a load that does not move with the result: every
	// conversation sending at a steady pace (one message a second by default, several times
	// a real chat's). Half of the measured saturation is reported too, for information: with
	// group commit a message costs less the busier the server is, so half the saturated rate
	// takes far more than half the machine, and the better the throughput, the closer that
	// load sits to the knee.
	for _, phase := range []struct {
		info bool
		pick func(Round) *Paced
		name string
	}{
		{false, func(rd Round) *Paced { return rd.Steady }, "steady pace"},
		{true, func(rd Round) *Paced { return rd.Paced }, "half of saturation, for information"},
	} {
		t := Target{Goal: fmt.Sprintf("p99 send-to-delivery under %.0f ms at N=%d (%s)", goalP99, goalP99Conversa, phase.name),
			Result: NotMeasured, Detail: fmt.Sprintf("N=%d was not part of the run", goalP99Conversa)}
		for _, rd := range rep.Rounds {
			if rd.Conversations != goalP99Conversa {
				continue
			}
			p := phase.pick(rd)
			switch {
			case p == nil || p.Latency.Samples == 0:
				t.Detail = "the phase did not run"
			case p.Latency.P99Ms < goalP99:
				t.Result, t.Detail = Pass, fmt.Sprintf("p99 %.1f ms at %.0f msgs/s", p.Latency.P99Ms, p.Rate)
			default:
				t.Result, t.Detail = Miss, fmt.Sprintf("p99 %.1f ms at %.0f msgs/s", p.Latency.P99Ms, p.Rate)
			}
		}
		if phase.info && t.Result != NotMeasured {
			t.Result = "INFO " + t.Result
		}
		out = append(out, t)
	}

	lost, measured := 0, false
	for _, rd := range rep.Rounds {
		if rd.Throughput != nil {
			lost += rd.Throughput.Undelivered
			measured = true
		}
		if rd.Paced != nil {
			lost += rd.Paced.Undelivered
		}
		if rd.Steady != nil {
			lost += rd.Steady.Undelivered
		}
	}
	t := Target{Goal: "every acknowledged message delivered to its agent stream", Result: NotMeasured}
	switch {
	case !measured:
	case lost == 0:
		t.Result, t.Detail = Pass, fmt.Sprintf("0 undelivered after a drain of at most %s", drainTimeout)
	default:
		t.Result, t.Detail = Miss, fmt.Sprintf("%d acknowledged messages undelivered %s after their phase", lost, drainTimeout)
	}
	return append(out, t)
}

// Print writes the report for people: the machine, the table, each round's details and
// the targets.
func Print(w io.Writer, rep *Report) error {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "Switchboard bench, %s\n", rep.StartedAt.Format(time.RFC3339))
	if rep.Command != "" {
		fmt.Fprintf(&b, "  command   %s\n", rep.Command)
	}
	cpu := fmt.Sprintf("%d CPUs", m.NumCPU)
	if m.CPUModel != "" {
		cpu += " (" + m.CPUModel + ")"
	}
	fmt.Fprintf(&b, "  machine   %s, GOMAXPROCS %d, %s %s; server, clients and PostgreSQL share it\n", cpu, m.GOMAXPROCS, m.GoVersion, m.OS)
	fmt.Fprintf(&b, "  postgres  %s: fsync=%s, synchronous_commit=%s, wal_sync_method=%s, shared_buffers=%s; %s\n",
		m.PostgresVersion, m.Fsync, m.SynchronousCommit, m.WALSyncMethod, m.SharedBuffers, rep.Database)
	fmt.Fprintf(&b, "  clients   Connect protocol, protobuf, %s without TLS over %d connections to the in-process server on loopback\n", rep.Protocol, rep.HTTPConnections)
	fmt.Fprintf(&b, "  pools     server %d connections, raw INSERT %d connections; each phase: warmup %s, measured %s\n\n", rep.MaxConns, rep.MaxConns, rep.Warmup, rep.Duration)

	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tAPI msgs/s\traw INSERT/s\tratio\tp50 / p99 at saturation\tsteady msgs/s\tp50 / p99 / max steady\thalf-sat msgs/s\tp50 / p99 / max half-sat\t")
	for _, rd := range rep.Rounds {
		api, sat, raw, ratio, paced, pacedLat, steady, steadyLat := "-", "-", "-", "-", "-", "-", "-", "-"
		if t := rd.Throughput; t != nil {
			api = fmt.Sprintf("%.0f", t.Rate)
			sat = fmt.Sprintf("%s / %s ms", ms(t.Latency.P50Ms), ms(t.Latency.P99Ms))
		}
		if r := rd.RawInsert; r != nil {
			raw = fmt.Sprintf("%.0f", r.Rate)
		}
		if rd.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", rd.Ratio)
		}
		if p := rd.Steady; p != nil && p.Latency.Samples > 0 {
			steady = fmt.Sprintf("%.0f", p.Rate)
			steadyLat = fmt.Sprintf("%s / %s / %s ms", ms(p.Latency.P50Ms), ms(p.Latency.P99Ms), ms(p.Latency.MaxMs))
		}
		if p := rd.Paced; p != nil && p.Latency.Samples > 0 {
			paced = fmt.Sprintf("%.0f", p.Rate)
			pacedLat = fmt.Sprintf("%s / %s / %s ms", ms(p.Latency.P50Ms), ms(p.Latency.P99Ms), ms(p.Latency.MaxMs))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", rd.Conversations, api, raw, ratio, sat, steady, steadyLat, paced, pacedLat)
	}
	tw.Flush()

	for _, rd := range rep.Rounds {
		fmt.Fprintf(&b, "\nN=%d: %d agent(s) of capacity %d, setup %.1fs, agent stream restarts %d\n", rd.Conversations, rd.Agents, agentCapacity, rd.SetupSeconds, rd.StreamRestarts)
		if t := rd.Throughput; t != nil {
			fmt.Fprintf(&b, "  throughput  %.0f msgs/s (%d acknowledged and delivered in the window); send-to-delivery p50 %s, p99 %s, max %s ms; Little's law N/rate = %s ms\n",
				t.Rate, t.Delivered, ms(t.Latency.P50Ms), ms(t.Latency.P99Ms), ms(t.Latency.MaxMs), ms(t.LittleMs))
			fmt.Fprintf(&b, "              undelivered %d, send errors %d, duplicate deliveries %d; CPU %s\n", t.Undelivered, t.SendErrors, t.Duplicates, cpuText(t.CPU))
			printProblems(&b, t.Problems)
		}
		if r := rd.RawInsert; r != nil {
			fmt.Fprintf(&b, "  raw INSERT  %.0f commits/s (%d in the window); commit p50 %s, p99 %s, max %s ms; errors %d; CPU %s\n",
				r.Rate, r.Commits, ms(r.Latency.P50Ms), ms(r.Latency.P99Ms), ms(r.Latency.MaxMs), r.Errors, cpuText(r.CPU))
			printProblems(&b, r.Problems)
		}
		for _, ph := range []struct {
			label string
			p     *Paced
		}{{"half-sat", rd.Paced}, {"steady", rd.Steady}} {
			p := ph.p
			if p == nil {
				continue
			}
			fmt.Fprintf(&b, "  %-10s  target %.0f msgs/s (each conversation every %s ms), achieved %.0f (%d of %d due in the window delivered); send-to-delivery p50 %s, p99 %s, max %s ms\n",
				ph.label, p.TargetRate, ms(p.IntervalMs), p.Rate, p.Delivered, p.Sent, ms(p.Latency.P50Ms), ms(p.Latency.P99Ms), ms(p.Latency.MaxMs))
			fmt.Fprintf(&b, "              undelivered %d, send errors %d, client lag behind schedule at most %s ms; CPU %s\n", p.Undelivered, p.SendErrors, ms(p.MaxClientLagMs), cpuText(p.CPU))
			printProblems(&b, p.Problems)
		}
		for _, e := range rd.Errors {
			fmt.Fprintf(&b, "  ERROR       %s\n", e)
		}
		for _, n := range rd.Notes {
			fmt.Fprintf(&b, "  note        %s\n", n)
		}
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

func printProblems(b *strings.Builder, ps []string) {
	for _, p := range ps {
		fmt.Fprintf(b, "              problem: %s\n", p)
	}
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
