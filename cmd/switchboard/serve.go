package main

import (
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/store"
)

func serveCommand() *cobra.Command {
	var cfg server.Config
	var listen string
	var maxConns int
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the chat and supervision services (Connect, gRPC and gRPC-Web on one port)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.MaxConns = int32(maxConns)
			s, err := server.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", listen, err)
			}
			return s.Serve(cmd.Context(), ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DatabaseURL, "database-url", envOr("SWITCHBOARD_DATABASE_URL", ""), "PostgreSQL URL of the schema owner; traffic runs as role "+store.AppRole+" (env SWITCHBOARD_DATABASE_URL)")
	f.StringVar(&listen, "listen", envOr("SWITCHBOARD_LISTEN", ":8080"), "address to serve on (env SWITCHBOARD_LISTEN)")
	f.IntVar(&maxConns, "max-conns", 32, "maximum PostgreSQL connections")
	f.BoolVar(&cfg.SkipMigrate, "skip-migrate", false, "do not migrate the schema at start")
	return cmd
}

func migrateCommand() *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded database migrations and exit",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				return fmt.Errorf("a database URL is required (--database-url or SWITCHBOARD_DATABASE_URL)")
			}
			return store.Migrate(cmd.Context(), url)
		},
	}
	cmd.Flags().StringVar(&url, "database-url", envOr("SWITCHBOARD_DATABASE_URL", ""), "PostgreSQL URL of the schema owner (env SWITCHBOARD_DATABASE_URL)")
	return cmd
}
