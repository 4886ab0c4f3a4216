package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard-chat/switchboard/services/soak"
)

func soakBenchCommand() *cobra.Command {
	var (
		o                      soak.Options
		csvPath, pngPath, logs string
		asJSON                 bool
	)
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Run serve for a long time at steady load and check that its memory, goroutines and connections stay flat",
		Long: `bench soak starts a private PostgreSQL and this binary's serve as a child process of its
own, provisions a tenant (four units, agents, supervisors, objectives) and drives it
through the public API for the whole duration: visitors browsing, chatting, rating and
leaving offline messages, agents working shifts (signing in and out), supervisors watching
the board, the open chats and single chats, whispering, searching and exporting, a tenant
admin reading reports. Streams open and close all the time.

Every --sample-every it reads the server's /metrics (live heap, heap in use, goroutines,
pool, streams), /proc (resident memory, open files, TCP connections) and PostgreSQL's
backends, with the load achieved and every error by code. Then it judges each curve: the
mean of the last fifth after the warm-up against the first fifth, and the slope over the
second half, within tolerances; the pool bounded; and the server back at its idle level
once the load stopped. It exits non-zero when something is not flat.

--csv writes the samples for plotting, --png draws them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding this binary to run serve: %w", err)
			}
			o.Serve = []string{self, "serve"}
			o.Command = strings.Join(os.Args, " ")
			o.Logf = func(format string, args ...any) { slog.Info(fmt.Sprintf(format, args...)) }
			if logs != "" {
				f, err := os.Create(logs)
				if err != nil {
					return err
				}
				defer f.Close()
				o.ServeLog = f
			}
			rep, runErr := soak.Run(cmd.Context(), o)
			if rep != nil {
				if err := writeSoakFiles(rep, csvPath, pngPath); err != nil {
					return errors.Join(runErr, err)
				}
			}
			if err := printReport(cmd.OutOrStdout(), rep, soak.Print, asJSON); err != nil {
				return err
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.Duration, "duration", soak.DefaultDuration, "how long the load runs")
	f.DurationVar(&o.SampleEvery, "sample-every", soak.DefaultSampleEvery, "time between samples")
	f.DurationVar(&o.Warmup, "warmup", 0, "start of the run left out of the verdict; 0 means a sixth of --duration, at most 5m")
	f.DurationVar(&o.Settle, "settle", soak.DefaultSettle, "time the server is left alone after the load before its idle level is read again")
	f.Float64Var(&o.Speed, "speed", soak.DefaultSpeed, "people's pace: 1 is a person's, 4 four times faster")
	f.IntVar(&o.Agents, "agents", soak.DefaultAgents, "agents of the tenant")
	f.IntVar(&o.Supervisors, "supervisors", soak.DefaultSupervisors, "supervisors of the tenant, each with other permissions")
	f.Int32Var(&o.MaxConns, "max-conns", soak.DefaultMaxConns, "connection pool size of the server (serve --max-conns)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the people's choices")
	f.StringVar(&o.DatabaseURL, "database-url", "", "use this PostgreSQL as schema owner instead of a private cluster")
	f.StringVar(&csvPath, "csv", "", "write the samples to this CSV file")
	f.StringVar(&pngPath, "png", "", "draw the curves into this PNG file")
	f.StringVar(&logs, "serve-log", "", "write the server's log to this file")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON too, samples included")
	return cmd
}

// writeSoakFiles writes the samples as CSV and the curves as PNG, where asked.
func writeSoakFiles(rep *soak.Report, csvPath, pngPath string) error {
	write := func(path string, fill func(f *os.File) error) error {
		if path == "" {
			return nil
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := fill(f); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return f.Close()
	}
	return errors.Join(
		write(csvPath, func(f *os.File) error { return soak.WriteCSV(f, rep) }),
		write(pngPath, func(f *os.File) error { return soak.Plot(f, rep) }),
	)
}
