package main

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-chat/switchboard/services/board"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/signals"
	"github.com/switchboard-chat/switchboard/services/store"
)

func serveCommand() *cobra.Command {
	var cfg server.Config
	var listen string
	var maxConns int
	var trusted []string
	var limitFlags map[string]int
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the chat and supervision services (Connect, gRPC and gRPC-Web on one port)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.MaxConns = int32(maxConns)
			if cfg.BoardScrapeInterval < time.Second || cfg.BoardScrapeInterval > 5*time.Second {
				return fmt.Errorf("--board-scrape-interval %s is outside 1s–5s: the board is pushed every 5 seconds", cfg.BoardScrapeInterval)
			}
			var err error
			if cfg.Proxies.Trusted, err = parsePrefixes("--trusted-proxies", trusted); err != nil {
				return err
			}
			lc := limits.Defaults()
			for name, v := range limitFlags {
				if err := lc.Set(name, v); err != nil {
					return fmt.Errorf("--limits: %w", err)
				}
			}
			cfg.Limits = &lc
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
	f.StringVar(&cfg.Proxies.CountryHeader, "country-header", envOr("SWITCHBOARD_COUNTRY_HEADER", "CF-IPCountry"), "header in which a trusted proxy names the visitor's country (ISO 3166-1 alpha-2) (env SWITCHBOARD_COUNTRY_HEADER)")
	f.StringVar(&cfg.PrometheusURL, "prometheus-url", envOr("SWITCHBOARD_PROMETHEUS_URL", ""), "Prometheus the board is evaluated against (e.g. http://prometheus:9090); empty means the embedded engine, which scrapes this process's own metrics (env SWITCHBOARD_PROMETHEUS_URL)")
	f.StringVar(&cfg.BoardDataDir, "board-data-dir", envOr("SWITCHBOARD_BOARD_DATA_DIR", ""), "folder keeping the embedded board engine's samples (26 hours) across restarts; empty means a temporary folder removed at shutdown (env SWITCHBOARD_BOARD_DATA_DIR)")
	f.DurationVar(&cfg.BoardScrapeInterval, "board-scrape-interval", board.DefaultScrapeInterval, "how often the embedded board engine scrapes this process's metrics (1s–5s)")
	f.StringSliceVar(&trusted, "trusted-proxies", nil, "networks (CIDR) or addresses of the proxies believed about --country-header and --forwarded-header; none by default, so no country is read and every limit per client address counts the peer")
	f.StringVar(&cfg.Proxies.ForwardedHeader, "forwarded-header", envOr("SWITCHBOARD_FORWARDED_HEADER", limits.DefaultForwardedHeader), "header to which trusted proxies append the client's address, which limits per address count (env SWITCHBOARD_FORWARDED_HEADER)")
	f.StringToIntVar(&limitFlags, "limits", nil, "rate limits and caps as name=value,… over the defaults ("+limits.Defaults().String()+"); 0 turns one off; a Tenant's spec.limits overrides the first eight for that tenant")
	f.StringVar(&cfg.AlertmanagerToken, "alertmanager-token", envOr("SWITCHBOARD_ALERTMANAGER_TOKEN", ""), "bearer token Alertmanager's webhook sends to "+signals.AlertWebhookPath+"; the webhook is off without one (env SWITCHBOARD_ALERTMANAGER_TOKEN)")
	return cmd
}

// parsePrefixes parses CIDR networks or single addresses.
func parsePrefixes(flag string, ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is neither a network like 10.0.0.0/8 nor an address", flag, s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
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
