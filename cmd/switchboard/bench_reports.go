package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboard-chat/switchboard/services/reportsbench"
)

func reportsBenchCommand() *cobra.Command {
	var (
		o      reportsbench.Options
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "reports",
		Short: "Measure the reports over a tenant with a year of stored conversations",
		Long: `bench reports seeds a tenant with bulk SQL (by default 1,000,000 conversations over a
year, with their messages, visits and page views, offline messages and a few open
conversations), builds the report rollups with the server's own folder, and times every
report through the public Connect API of an in-process server: the daily report over 30
days, the monthly report over 12 months, visitor, agent and interaction statistics, and
the CSV export.

By default it starts a private PostgreSQL (from the system's binaries) in a fresh folder
under the temp folder and removes it at the end; --database-url uses another one as schema
owner instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Command = strings.Join(os.Args, " ")
			o.Logf = func(format string, args ...any) { slog.Info(fmt.Sprintf(format, args...)) }
			rep, runErr := reportsbench.Run(cmd.Context(), o)
			if err := printReport(cmd.OutOrStdout(), rep, reportsbench.Print, asJSON); err != nil {
				return err
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Conversations, "conversations", reportsbench.DefaultConversations, "stored conversations, spread over a year")
	f.IntVar(&o.Runs, "runs", reportsbench.DefaultRuns, "timed calls of each report")
	f.StringVar(&o.DatabaseURL, "database-url", "", "use this PostgreSQL as schema owner instead of a private cluster")
	f.StringVar(&o.DataDir, "data-dir", "", "keep the private PostgreSQL in this folder, and reuse a tenant of the same size seeded there earlier")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON too")
	return cmd
}
