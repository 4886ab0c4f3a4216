package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard-chat/switchboard/services/bench"
	"github.com/switchboard-chat/switchboard/services/supervisionbench"
)

func benchCommand() *cobra.Command {
	var (
		o             bench.Options
		conversations string
		asJSON        bool
		cpuProfile    string
		samples       string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure message throughput and latency through the public API against raw INSERT commits",
		Long: `bench measures, at each number of concurrent conversations, the messages per second that
visitors send through the public Connect API (HTTP/2 without TLS, protobuf) and that reach
their agent's AgentStream, with send-to-delivery latency at saturation; then the rate of
plain single-row INSERT commits by pgx in the same database at the same concurrency, and
the ratio of the two; then the latency at half of the measured throughput, paced.

By default it starts a private PostgreSQL (from the system's binaries) in a fresh folder
under the temp folder and removes it at the end; --database-url uses another one as schema
owner instead (bench tenants and the bench_raw table are removed afterwards).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Conversations, err = parseCounts("--conversations", conversations); err != nil {
				return err
			}
			o.Command = strings.Join(os.Args, " ")
			o.Logf = func(format string, args ...any) { slog.Info(fmt.Sprintf(format, args...)) }
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			if samples != "" {
				f, err := os.Create(samples)
				if err != nil {
					return err
				}
				defer f.Close()
				o.Samples = f
			}
			rep, runErr := bench.Run(cmd.Context(), o)
			if err := printReport(cmd.OutOrStdout(), rep, bench.Print, asJSON); err != nil {
				return err
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&conversations, "conversations", "100,1000", "comma-separated numbers of concurrent conversations, one round each")
	f.DurationVar(&o.Duration, "duration", bench.DefaultDuration, "measured time of each phase")
	f.DurationVar(&o.Warmup, "warmup", bench.DefaultWarmup, "unmeasured time before each phase's measurement")
	f.StringVar(&o.DatabaseURL, "database-url", "", "use this PostgreSQL as schema owner instead of a private cluster")
	f.Int32Var(&o.MaxConns, "max-conns", bench.DefaultMaxConns, "connection pool size of the server, and of the raw INSERT phase")
	f.IntVar(&o.HTTPConnections, "http-connections", bench.DefaultHTTPConnections, "HTTP/2 connections the clients spread over")
	f.DurationVar(&o.SteadyInterval, "steady-interval", bench.DefaultSteadyInterval, "how often each conversation sends in the steady phase, where the latency target is judged")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON too")
	f.StringVar(&samples, "samples", "", "write every measured message's send, acknowledgement and delivery times to this CSV file")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (clients and server) to this file")
	cmd.AddCommand(supervisionBenchCommand())
	cmd.AddCommand(reportsBenchCommand())
	cmd.AddCommand(soakBenchCommand())
	cmd.AddCommand(floodBenchCommand())
	cmd.AddCommand(floodWorkerCommand())
	cmd.AddCommand(victimWorkerCommand())
	return cmd
}

func supervisionBenchCommand() *cobra.Command {
	var (
		o          supervisionbench.Options
		exportRows string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "supervision",
		Short: "Measure live watching fan-out, all-chats search and export at scale",
		Long: `bench supervision measures, through the public Connect API of an in-process server:

  fan-out  open conversations whose agents send draft updates and messages at a steady
           pace while supervisors watch some of them (each a few distinct ones at random),
           the time from each send call's start to its arrival on every watching
           supervisor's stream;
  search   SearchChats over a store of conversations seeded with COPY and indexed by the
           search indexer, per kind of query (full text, filters, both, later pages);
  export   ExportChats at growing row counts, with rows/s and the process's peak Go heap
           above the baseline during each export.

By default it starts a private PostgreSQL (from the system's binaries) in a fresh folder
under the temp folder and removes it at the end; --database-url uses another one as schema
owner instead (the bench tenants are removed afterwards).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.ExportRows, err = parseCounts("--export-rows", exportRows); err != nil {
				return err
			}
			o.Command = strings.Join(os.Args, " ")
			o.Logf = func(format string, args ...any) { slog.Info(fmt.Sprintf(format, args...)) }
			rep, runErr := supervisionbench.Run(cmd.Context(), o)
			if err := printReport(cmd.OutOrStdout(), rep, supervisionbench.Print, asJSON); err != nil {
				return err
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Conversations, "conversations", supervisionbench.DefaultConversations, "open conversations of the fan-out phase")
	f.IntVar(&o.Supervisors, "supervisors", supervisionbench.DefaultSupervisors, "supervisors watching")
	f.IntVar(&o.WatchesPerSupervisor, "watched-per-supervisor", supervisionbench.DefaultWatchesPerSupervisor, "distinct conversations each supervisor watches, picked at random")
	f.DurationVar(&o.Pace, "pace", supervisionbench.DefaultPace, "how often each conversation's agent sends a draft update or a message")
	f.IntVar(&o.DraftsPerMessage, "drafts-per-message", supervisionbench.DefaultDraftsPerMessage, "draft updates before each message")
	f.DurationVar(&o.Warmup, "warmup", supervisionbench.DefaultWarmup, "unmeasured time before the fan-out measurement")
	f.DurationVar(&o.Duration, "duration", supervisionbench.DefaultDuration, "measured time of the fan-out phase")
	f.IntVar(&o.Stored, "stored", supervisionbench.DefaultStored, "conversations seeded for search and export")
	f.IntVar(&o.SearchRuns, "search-runs", supervisionbench.DefaultSearchRuns, "timed runs of each kind of search query")
	f.StringVar(&exportRows, "export-rows", "10000,50000,100000", "comma-separated sizes of the exports, in matching rows")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the watch choices and the seeded data")
	f.StringVar(&o.DatabaseURL, "database-url", "", "use this PostgreSQL as schema owner instead of a private cluster")
	f.BoolVar(&o.Keep, "keep", false, "with --database-url, keep the bench tenants afterwards to examine them")
	f.Int32Var(&o.MaxConns, "max-conns", supervisionbench.DefaultMaxConns, "connection pool size of the server")
	f.IntVar(&o.HTTPConnections, "http-connections", supervisionbench.DefaultHTTPConnections, "HTTP/2 connections the clients spread over")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON too")
	return cmd
}

// parseCounts reads a flag's comma-separated positive numbers.
func parseCounts(flag, s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive number", flag, part)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: name at least one number", flag)
	}
	return out, nil
}

// printReport prints a benchmark's report, if there is one (a run that failed may still
// have measured something), and as JSON too when asked.
func printReport[R any](out io.Writer, rep *R, print func(io.Writer, *R) error, asJSON bool) error {
	if rep == nil {
		return nil
	}
	fmt.Fprintln(out)
	if err := print(out, rep); err != nil {
		return err
	}
	if !asJSON {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "\n%s\n", b)
	return err
}
