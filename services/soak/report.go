package soak

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"connectrpc.com/connect"

	"github.com/switchboard-chat/switchboard/services/bench"
)

// Report is what a run measured and the verdict.
type Report struct {
	Command     string        `json:"command,omitempty"`
	Serve       string        `json:"serve"`
	ServePID    int           `json:"servePid"`
	StartedAt   time.Time     `json:"startedAt"`
	Machine     bench.Machine `json:"machine"`
	Database    string        `json:"database"`
	Duration    string        `json:"duration"`
	Warmup      string        `json:"warmup"`
	SampleEvery string        `json:"sampleEvery"`
	Speed       float64       `json:"speed"`
	MaxConns    int32         `json:"maxConns"`
	Tenant      TenantSummary `json:"tenant"`
	Load        Load          `json:"load"`
	Stored      Stored        `json:"stored"`
	// Metrics and Checks are the verdict; Flat is true when every one passed, and
	// Failed says what did not.
	Metrics  []Metric `json:"metrics"`
	Checks   []Check  `json:"checks"`
	Flat     bool     `json:"flat"`
	Failed   []string `json:"failed,omitempty"`
	Problems []string `json:"problems,omitempty"`
	Samples  []Sample `json:"samples"`
}

// TenantSummary is the soak's tenant.
type TenantSummary struct {
	Name        string   `json:"name"`
	Units       []string `json:"units"`
	Agents      int      `json:"agents"`
	Supervisors []string `json:"supervisors"`
}

// Load is what the people did, as their clients counted it.
type Load struct {
	Calls         int64 `json:"calls"`
	Unexpected    int64 `json:"unexpectedErrors"`
	StreamsOpened int64 `json:"streamsOpened"`
	// MessagesPerSecond is the messages people sent per second after the warm-up.
	MessagesPerSecond    float64 `json:"messagesPerSecond"`
	ConversationsStarted int64   `json:"conversationsStarted"`
	ConversationsClosed  int64   `json:"conversationsClosed"`
	MessagesSent         int64   `json:"messagesSent"`
	OfflineMessages      int64   `json:"offlineMessages"`
	PageViews            int64   `json:"pageViews"`
	Logins               int64   `json:"logins"`
	Logouts              int64   `json:"logouts"`
	Searches             int64   `json:"searches"`
	Exports              int64   `json:"exports"`
	Whispers             int64   `json:"whispers"`
	// ServeCores is the server's CPU after the warm-up, in cores.
	ServeCores float64 `json:"serveCores"`
	// Answers are every procedure's outcomes.
	Answers []Answer `json:"answers"`
}

// Answer is how often a procedure got an outcome.
type Answer struct {
	Procedure string `json:"procedure"`
	Code      string `json:"code"`
	Count     int64  `json:"count"`
	Expected  bool   `json:"expected"`
}

// Stored is what the run left in the database.
type Stored struct {
	Conversations   int64 `json:"conversations"`
	Closed          int64 `json:"closed"`
	Messages        int64 `json:"messages"`
	Whispers        int64 `json:"whispers"`
	OfflineMessages int64 `json:"offlineMessages"`
	Ratings         int64 `json:"ratings"`
	PageViews       int64 `json:"pageViews"`
	Sessions        int64 `json:"sessions"`
	Signals         int64 `json:"signals"`
}

// summary totals the calls and the rates after the warm-up.
func (l *load) summary(samples []Sample) Load {
	c := l.calls
	out := Load{
		Calls: c.total.Load(), Unexpected: c.unexpected.Load(), StreamsOpened: c.streamsOpened.Load(),
		ConversationsStarted: c.count("ChatService/StartConversation", codeOK) - c.offline.Load(),
		ConversationsClosed:  c.count("ChatService/CloseConversation", codeOK) + c.count("SupervisionService/FinishConversation", codeOK),
		MessagesSent:         c.count("ChatService/SendMessage", codeOK),
		OfflineMessages:      c.count("ChatService/LeaveOfflineMessage", codeOK) + c.offline.Load(),
		PageViews:            c.count("ChatService/TrackPageView", codeOK),
		Logins:               c.count("AuthService/Login", codeOK),
		Logouts:              c.count("AuthService/Logout", codeOK),
		Searches:             c.count("SupervisionService/SearchChats", codeOK),
		Exports:              c.count("SupervisionService/ExportChats", codeOK),
		Whispers:             c.count("SupervisionService/Whisper", codeOK),
	}
	var measured []Sample
	for _, s := range samples {
		if s.Phase == phaseMeasured {
			measured = append(measured, s)
		}
	}
	out.MessagesPerSecond = rate(measured, sent)
	out.ServeCores = rate(measured, func(s Sample) float64 { return s.ServeCPU })
	for a, n := range c.snapshot() {
		var code connect.Code
		_ = code.UnmarshalText([]byte(a.code))
		out.Answers = append(out.Answers, Answer{Procedure: a.procedure, Code: a.code, Count: n,
			Expected: a.code == codeOK || expectedAnswer(a.procedure, code)})
	}
	slices.SortFunc(out.Answers, func(a, b Answer) int {
		return cmp.Or(cmp.Compare(a.Procedure, b.Procedure), cmp.Compare(a.Code, b.Code))
	})
	return out
}

// Print writes the report for people.
func Print(w io.Writer, rep *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "soak of %s, %s at %gx a person's pace (warm-up %s), sampled every %s; started %s\n",
		rep.Serve, rep.Duration, rep.Speed, rep.Warmup, rep.SampleEvery, rep.StartedAt.Format(time.RFC3339))
	if rep.Command != "" {
		fmt.Fprintf(&b, "command: %s\n", rep.Command)
	}
	m := rep.Machine
	fmt.Fprintf(&b, "machine: %d CPUs (%s), %s, PostgreSQL %s (fsync %s), pool of %d\n", m.NumCPU, m.CPUModel, m.GoVersion, m.PostgresVersion, m.Fsync, rep.MaxConns)
	if lo, hi, ok := loadRange(rep.Samples); ok {
		fmt.Fprintf(&b, "machine load (1-minute average) during the run: %.2f to %.2f\n", lo, hi)
	}
	t := rep.Tenant
	fmt.Fprintf(&b, "tenant %s: units %s, %d agents, supervisors %s\n", t.Name, strings.Join(t.Units, ", "), t.Agents, strings.Join(t.Supervisors, "; "))

	l := rep.Load
	fmt.Fprintf(&b, "\nload: %d calls, %d streams opened; %d conversations started, %d closed, %d messages sent (%.2f/s after the warm-up), %d offline messages,\n",
		l.Calls, l.StreamsOpened, l.ConversationsStarted, l.ConversationsClosed, l.MessagesSent, l.MessagesPerSecond, l.OfflineMessages)
	fmt.Fprintf(&b, "      %d page views, %d sign-ins, %d sign-outs, %d searches, %d exports, %d whispers; serve used %.2f cores\n",
		l.PageViews, l.Logins, l.Logouts, l.Searches, l.Exports, l.Whispers, l.ServeCores)
	s := rep.Stored
	fmt.Fprintf(&b, "stored: %d conversations (%d closed), %d messages, %d whispers, %d offline messages, %d ratings, %d page views, %d sign-in sessions, %d signals\n",
		s.Conversations, s.Closed, s.Messages, s.Whispers, s.OfflineMessages, s.Ratings, s.PageViews, s.Sessions, s.Signals)
	var errs []string
	for _, a := range l.Answers {
		if a.Code == codeOK {
			continue
		}
		kind := "unexpected"
		if a.Expected {
			kind = "expected"
		}
		errs = append(errs, fmt.Sprintf("  %-45s %-20s %7d  %s", a.Procedure, a.Code, a.Count, kind))
	}
	if len(errs) > 0 {
		fmt.Fprintf(&b, "errors by call and code:\n%s\n", strings.Join(errs, "\n"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tstart\tend\tdrift\tslope/hour\tmax\ttolerance\tverdict\t")
	for _, m := range rep.Metrics {
		drift := signed(m.Drift, m.Unit)
		if m.Start != 0 {
			drift += fmt.Sprintf(" (%+.1f%%)", 100*m.Drift/m.Start)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", m.Name, quantity(m.Start, m.Unit), quantity(m.End, m.Unit), drift,
			signed(m.SlopePerHour, m.Unit), quantity(m.Max, m.Unit), m.Tolerance, m.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "  %-5s %s: %s\n", c.Verdict, c.Name, c.Value)
	}
	for _, m := range rep.Metrics {
		if m.Why != "" {
			fmt.Fprintf(w, "  %s: %s\n", m.Name, m.Why)
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	verdict := "FLAT: every resource stayed flat under steady load and came back to idle"
	if !rep.Flat {
		verdict = "NOT FLAT: " + strings.Join(rep.Failed, "; ")
	}
	_, err := fmt.Fprintf(w, "\nverdict: %s\n", verdict)
	return err
}

// loadRange is the lowest and highest one-minute load average the samples saw.
func loadRange(ss []Sample) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		if s.Load1 >= 0 {
			lo, hi, ok = math.Min(lo, s.Load1), math.Max(hi, s.Load1), true
		}
	}
	return lo, hi, ok
}

// csvColumns are the samples' columns, for plotting.
var csvColumns = []struct {
	name  string
	value func(Sample) string
}{
	{"phase", func(s Sample) string { return s.Phase }},
	{"elapsed_seconds", func(s Sample) string { return num(s.ElapsedSeconds) }},
	{"heap_live_bytes", func(s Sample) string { return num(s.HeapLive) }},
	{"heap_inuse_bytes", func(s Sample) string { return num(s.HeapInuse) }},
	{"rss_bytes", func(s Sample) string { return num(s.RSS) }},
	{"goroutines", func(s Sample) string { return num(s.Goroutines) }},
	{"threads", func(s Sample) string { return num(s.Threads) }},
	{"open_fds", func(s Sample) string { return num(s.OpenFDs) }},
	{"tcp_clients", func(s Sample) string { return num(s.TCPClients) }},
	{"tcp_postgres", func(s Sample) string { return num(s.TCPPostgres) }},
	{"tcp_other", func(s Sample) string { return num(s.TCPOther) }},
	{"pool_connections", func(s Sample) string { return num(s.PoolOpen) }},
	{"pool_acquired", func(s Sample) string { return num(s.PoolAcquired) }},
	{"postgres_backends", func(s Sample) string { return num(s.Backends) }},
	{"streams", func(s Sample) string { return num(s.Streams) }},
	{"serve_cpu_seconds", func(s Sample) string { return num(s.ServeCPU) }},
	{"messages_stored_total", func(s Sample) string { return num(s.Stored) }},
	{"load1", func(s Sample) string { return num(s.Load1) }},
	{"calls_total", func(s Sample) string { return strconv.FormatInt(s.Calls, 10) }},
	{"unexpected_errors_total", func(s Sample) string { return strconv.FormatInt(s.Unexpected, 10) }},
	{"streams_opened_total", func(s Sample) string { return strconv.FormatInt(s.StreamsOpened, 10) }},
	{"client_streams_open", func(s Sample) string { return strconv.FormatInt(s.StreamsOpen, 10) }},
	{"conversations_started_total", func(s Sample) string { return strconv.FormatInt(s.Started, 10) }},
	{"conversations_closed_total", func(s Sample) string { return strconv.FormatInt(s.Closed, 10) }},
	{"messages_sent_total", func(s Sample) string { return strconv.FormatInt(s.Sent, 10) }},
}

// WriteCSV writes the samples, one row each, with a header.
func WriteCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(csvColumns))
	for i, c := range csvColumns {
		header[i] = c.name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, s := range rep.Samples {
		row := make([]string, len(csvColumns))
		for i, c := range csvColumns {
			row[i] = c.value(s)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// quantity writes a value in its unit for people.
func quantity(v float64, unit string) string {
	switch unit {
	case unitBytes:
		return bytesText(v)
	case unitCores:
		return fmt.Sprintf("%.2f", v)
	}
	if math.Abs(v-math.Round(v)) < 0.05 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// signed is quantity with its sign.
func signed(v float64, unit string) string {
	if v < 0 {
		return "-" + quantity(-v, unit)
	}
	return "+" + quantity(v, unit)
}

func bytesText(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case a >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case a >= 1<<10:
		return fmt.Sprintf("%.0f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}
