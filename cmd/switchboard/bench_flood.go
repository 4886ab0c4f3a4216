package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/floodbench"
	"github.com/switchboard-chat/switchboard/services/limits"
)

func floodBenchCommand() *cobra.Command {
	var (
		o             floodbench.Options
		asJSON        bool
		inProcess     bool
		flooderLimits map[string]int
		cpuProfile    string
	)
	cmd := &cobra.Command{
		Use:   "flood",
		Short: "Measure one tenant's chat latency while another tenant floods the server far above its limits",
		Long: `bench flood measures tenant isolation on an in-process server and a private PostgreSQL.
A victim tenant chats at a steady pace (each conversation's visitor sends a message every
--interval; its agent receives it on its AgentStream), and the time from send to delivery
is measured alone and while a flooding tenant's clients start conversations and send
messages far above the flooder's limits (the server's defaults), in turns (--rounds
floods, each between two phases alone), so that the machine's other work weighs on both
alike. The target: the victim's p50 and p99 under the flood, all flood phases pooled,
rise by at most 20% over the phases alone, pooled.

The flooding clients run in a process of their own (this binary's hidden "bench
flood-worker"), niced (--nice) and at a fixed attempted rate (--flood-rate), each client
from an address of its own behind the loopback proxy the server trusts, so that the
server's cost of the flood is measured and not the clients' CPU taken from the same cores.
The victim's clients run in a process of their own too ("bench victim-worker"), as they
would on machines of their own: in the server's process they would wait in its scheduler
behind the flood's calls, a delay no real client sees.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Command = strings.Join(os.Args, " ")
			o.Logf = func(format string, args ...any) { slog.Info(fmt.Sprintf(format, args...)) }
			if len(flooderLimits) > 0 {
				var own limits.Config
				for name, v := range flooderLimits {
					if err := own.Set(name, v); err != nil {
						return fmt.Errorf("--flooder-limits: %w", err)
					}
				}
				// spec.limits has the JSON names of limits.Tenant.
				b, err := json.Marshal(own.Tenant)
				if err != nil {
					return err
				}
				o.FlooderLimits = new(v1alpha1.TenantLimits)
				if err := json.Unmarshal(b, o.FlooderLimits); err != nil {
					return err
				}
			}
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
			if !inProcess {
				self, err := os.Executable()
				if err != nil {
					return err
				}
				o.FloodCommand = []string{self, "bench", "flood-worker"}
				o.VictimCommand = []string{self, "bench", "victim-worker"}
			}
			rep, runErr := floodbench.Run(cmd.Context(), o)
			if err := printReport(cmd.OutOrStdout(), rep, floodbench.Print, asJSON); err != nil {
				return err
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Conversations, "conversations", floodbench.DefaultConversations, "the victim tenant's conversations")
	f.DurationVar(&o.Interval, "interval", floodbench.DefaultInterval, "how often each victim conversation sends a message")
	f.DurationVar(&o.Warmup, "warmup", floodbench.DefaultWarmup, "unmeasured time before each phase's measurement")
	f.DurationVar(&o.Duration, "duration", floodbench.DefaultDuration, "measured time of each phase")
	f.IntVar(&o.Rounds, "rounds", floodbench.DefaultRounds, "floods, each between two phases alone")
	f.IntVar(&o.FloodRate, "flood-rate", floodbench.DefaultFloodRate, "calls the flood attempts per second; 0 for as fast as its clients can")
	f.IntVar(&o.FloodClients, "flood-clients", floodbench.DefaultFloodClients, "flooding clients, each from an address of its own")
	f.Float64Var(&o.FloodStartShare, "flood-start-share", floodbench.DefaultFloodStartShare, "share of the flood's calls that start conversations (the others send messages)")
	f.IntVar(&o.Nice, "nice", floodbench.DefaultNice, "niceness of the flood worker process (0 for none)")
	f.BoolVar(&o.Idle, "idle", false, "run the flood worker process under SCHED_IDLE (chrt --idle 0) instead of niced")
	f.BoolVar(&inProcess, "in-process", false, "run the flooding and the victim's clients as goroutines of this process instead of worker processes")
	f.StringVar(&o.DatabaseURL, "database-url", "", "use this PostgreSQL as schema owner instead of a private cluster")
	f.Int32Var(&o.MaxConns, "max-conns", 32, "connection pool size of the server")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON too")
	f.BoolVar(&o.Floor, "floor", false, "flood, instead of the server, a bare net/http server in its process that answers every call with one recorded refusal: what the flood costs in net/http alone")
	f.StringToIntVar(&flooderLimits, "flooder-limits", nil, "the flooding tenant's own spec.limits, as name=value,… (default: none, the server's defaults apply)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the server's process to this file")
	return cmd
}

// floodWorkerCommand is the flood of `bench flood` in a process of its own: it reads a
// FloodConfig on standard input, floods until standard input closes, and prints its
// FloodStats as JSON.
func floodWorkerCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "flood-worker",
		Short:  "The flooding clients of bench flood (reads its configuration on standard input)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return floodbench.FloodWorker(cmd.Context(), os.Stdin, cmd.OutOrStdout())
		},
	}
}

// victimWorkerCommand is the victim's clients of `bench flood` in a process of their own:
// it reads a VictimConfig on standard input, prints a line once the conversations are
// accepted and sending begins, sends until standard input closes, and prints the
// messages' times as JSON.
func victimWorkerCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "victim-worker",
		Short:  "The victim tenant's clients of bench flood (reads its configuration on standard input)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return floodbench.VictimWorker(cmd.Context(), os.Stdin, cmd.OutOrStdout())
		},
	}
}
