package floodbench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Print writes the report as a person reads it.
func Print(w io.Writer, rep *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "flood isolation: victim tenant %d conversations, a message each every %s; flooder limits %s\n", rep.Conversations, rep.Interval, rep.Limits)
	fmt.Fprintf(&b, "database: %s; %d CPUs\n", rep.Database, rep.NumCPU)
	if rep.Floor {
		b.WriteString("floor: the flood went to a bare net/http server in the server's process that answers every call with one recorded refusal, not to the server\n")
	}
	b.WriteByte('\n')
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tsent\tdelivered\tundelivered\tsend errors\tsend-to-delivery p50 / p99 / max\tack p50 / p99\tserver cores\tpostgres cores\tvictim cores\tflood cores\tload avg\t")
	for _, p := range append(append([]Phase(nil), rep.Phases...), rep.Alone, rep.Flooded) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.2f / %.2f / %.2f ms\t%.2f / %.2f ms\t%.2f\t%s\t%s\t%s\t%.1f\t\n", p.Name, p.Sent, p.Delivered, p.Undelivered, p.SendErrors,
			p.Latency.P50Ms, p.Latency.P99Ms, p.Latency.MaxMs, p.Ack.P50Ms, p.Ack.P99Ms, p.CPU.ProcessCores, cores(p.CPU.PostgresCores), apart(p.VictimCores), apart(p.FloodCores), p.LoadAverage)
	}
	tw.Flush()
	f := rep.Flood
	where := "in this process"
	if f.Separate {
		where = "in a process of its own, "
		if f.Priority != "" {
			where += f.Priority + ", "
		}
		where += fmt.Sprintf("%.1f CPU seconds", f.CPUSeconds)
	}
	target := "unbounded"
	if rep.FloodRate > 0 {
		target = fmt.Sprintf("%d/s attempted", rep.FloodRate)
	}
	fmt.Fprintf(&b, "\nflood (%s, %d clients, %s): %d calls in %.0fs (%.0f/s): %d refused (ResourceExhausted, %d without a retry hint), %d messages and %d conversations accepted",
		where, rep.FloodClients, target, f.Attempted, f.Seconds, f.Rate, f.Refused, f.RefusedWithoutHint, f.AcceptedMessages, f.AcceptedStarts)
	for _, code := range slices.Sorted(maps.Keys(f.Errors)) {
		fmt.Fprintf(&b, ", %d %s", f.Errors[code], code)
	}
	if rep.ServerMicrosPerFloodCall > 0 {
		fmt.Fprintf(&b, "; the server's process's CPU per call of the flood: %.0f µs", rep.ServerMicrosPerFloodCall)
	}
	fmt.Fprintf(&b, "\n\n%-12s victim latency rises at most %.0f%% under the flood: %s\n", rep.Verdict, Target*100, rep.Detail)
	for _, e := range rep.Errors {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	if rep.Command != "" {
		fmt.Fprintf(&b, "\nreproduce: %s\n", rep.Command)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cores(v float64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f", v)
}

// apart is the cores of a worker process, or "-" when it did not run apart.
func apart(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}
