package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/switchboard-chat/switchboard/config/samples"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/console"
	"github.com/switchboard-chat/switchboard/services/demo"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/store"
)

func devCommand() *cobra.Command {
	var o devOptions
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run Switchboard with a private PostgreSQL and the sample tenant: nothing to set up",
		Long: `dev starts a private PostgreSQL cluster from the system's binaries in a data folder of
its own (reused by the next run), migrates it, loads the sample tenant (config/samples,
embedded in the binary) through the same code the operator uses, and serves the services.
With --demo, simulated visitors and agents make traffic to watch. Ctrl-C stops everything.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDev(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", envOr("SWITCHBOARD_DATA_DIR", defaultDataDir), "folder of the private PostgreSQL cluster (env SWITCHBOARD_DATA_DIR)")
	f.StringVar(&o.databaseURL, "database-url", envOr("SWITCHBOARD_DATABASE_URL", ""), "use this PostgreSQL instead of a private cluster")
	f.StringVar(&o.listen, "listen", envOr("SWITCHBOARD_LISTEN", "127.0.0.1:8080"), "address to serve on")
	f.StringVar(&o.samples, "samples", "", "folder of resources to load instead of the embedded samples")
	f.StringVar(&o.password, "demo-password", "switchboard", "password of the sample tenant's accounts")
	f.BoolVar(&o.demo, "demo", false, "run simulated visitors and agents")
	f.StringSliceVar(&o.humanAgents, "demo-humans", []string{"dave"}, "agents the simulation leaves to people, who sign in as them in the console's workspace")
	return cmd
}

// devSharedAddress multiplies the limits per client address in `dev`.
const devSharedAddress = 10

type devOptions struct {
	dataDir, databaseURL, listen, samples, password string
	demo                                            bool
	humanAgents                                     []string
}

func runDev(ctx context.Context, o devOptions) error {
	url := o.databaseURL
	if url == "" {
		dir, err := filepath.Abs(o.dataDir)
		if err != nil {
			return err
		}
		if o.dataDir == defaultDataDir {
			dir = reachableDataDir(dir)
		}
		cluster, err := localpg.Start(ctx, localpg.Options{DataDir: dir, Logf: func(f string, a ...any) { slog.Info(fmt.Sprintf(f, a...)) }})
		if err != nil {
			return err
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				slog.Error("stopping PostgreSQL", "err", err)
			} else {
				slog.Info("PostgreSQL stopped")
			}
		}()
		if err := cluster.CreateDatabase(ctx, "switchboard"); err != nil {
			return err
		}
		url = cluster.URL("switchboard")
	}
	if err := store.Migrate(ctx, url); err != nil {
		return err
	}
	applied, err := loadSamples(ctx, url, o)
	if err != nil {
		return err
	}
	apiKeys, err := devAPIKeys(ctx, url, applied)
	if err != nil {
		return err
	}
	// Everyone here, the demo's simulated visitors included, calls from 127.0.0.1, an
	// address that stands for many visitors.
	lc := limits.Defaults().SharedAddress(devSharedAddress)
	srv, err := server.New(ctx, server.Config{DatabaseURL: url, SkipMigrate: true, Pages: devPages(applied), Limits: &lc})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.listen, err)
	}
	base := "http://" + ln.Addr().String()
	var humans []string
	if o.demo {
		humans = o.humanAgents
	}
	printBanner(base, url, applied, apiKeys, o.password, humans)
	if o.demo {
		for _, a := range applied {
			go demo.Run(ctx, demo.Options{BaseURL: base, Tenant: a.Name, WidgetKey: a.WidgetKey,
				Password: o.password, Agents: simulated(a.Agents, o.humanAgents), Units: a.Units})
		}
	}
	return srv.Serve(ctx, ln)
}

func loadSamples(ctx context.Context, url string, o devOptions) ([]provision.Applied, error) {
	cfg := &provision.Config{}
	if o.samples != "" {
		var err error
		if cfg, err = provision.Load(o.samples); err != nil {
			return nil, err
		}
	} else {
		entries, err := fs.ReadDir(samples.FS, ".")
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			b, err := fs.ReadFile(samples.FS, e.Name())
			if err != nil {
				return nil, err
			}
			if err := cfg.Parse("config/samples/"+e.Name(), b); err != nil {
				return nil, err
			}
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	applied, err := provision.Apply(ctx, conn, cfg)
	if err != nil {
		return nil, fmt.Errorf("applying the sample configuration: %w", err)
	}
	hash, err := auth.HashPassword(o.password)
	if err != nil {
		return nil, err
	}
	if err := provision.DemoAccounts(ctx, conn, applied, hash); err != nil {
		return nil, err
	}
	return applied, nil
}

// devAPIKey names the API key dev makes for each tenant's backend, anew at each start
// (only its hash is kept, so the previous one cannot be shown again).
const devAPIKey = "dev"

// devAPIKeys gives each tenant a fresh API key named devAPIKey, revoking the previous run's.
func devAPIKeys(ctx context.Context, url string, applied []provision.Applied) (map[string]string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	keys := map[string]string{}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, a := range applied {
			key, hash := auth.NewAPIKey(a.ID)
			if _, err := store.ReplaceAPIKey(ctx, tx, a.ID, devAPIKey, hash); err != nil {
				return err
			}
			keys[a.Name] = key
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("making the sample tenants' API keys: %w", err)
	}
	return keys, nil
}

// printBanner says where everything is; humans are the agents the demo traffic leaves to
// people (nil without demo traffic).
func printBanner(base, url string, applied []provision.Applied, apiKeys map[string]string, password string, humans []string) {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "\nSwitchboard is running.\n\n")
	fmt.Fprintf(w, "  API (Connect, gRPC, gRPC-Web)\t%s\n", base)
	fmt.Fprintf(w, "  PostgreSQL\t%s\n", redactURL(url))
	if len(applied) > 0 {
		fmt.Fprintf(w, "  Demo page\t%s/demo\n", base)
		fmt.Fprintf(w, "  Console\t%s/t/%s/\n", base, applied[0].Name)
	}
	for _, a := range applied {
		fmt.Fprintf(w, "\n  Tenant %q\n", a.Name)
		fmt.Fprintf(w, "    widget key\t%s\n", a.WidgetKey)
		fmt.Fprintf(w, "    API key (ConversionService)\t%s\n", apiKeys[a.Name])
		fmt.Fprintf(w, "    business units\t%s\n", strings.Join(a.Units, ", "))
		fmt.Fprintf(w, "    agents\t%s\n", strings.Join(a.Agents, ", "))
		if left := slices.DeleteFunc(slices.Clone(a.Agents), func(n string) bool { return !slices.Contains(humans, n) }); len(left) > 0 {
			fmt.Fprintf(w, "    left to you by the demo\t%s (sign in to the console's workspace as them)\n", strings.Join(left, ", "))
		}
		fmt.Fprintf(w, "    supervisors\t%s\n", strings.Join(a.Supervisors, ", "))
		fmt.Fprintf(w, "    admin\tadmin\n")
		fmt.Fprintf(w, "    password (every account)\t%s\n", password)
	}
	fmt.Fprintf(w, "\n  Try: curl -s %s/switchboard.auth.v1.AuthService/Login -H 'Content-Type: application/json' \\\n", base)
	fmt.Fprintf(w, "         -d '{\"tenant\":\"%s\",\"username\":\"admin\",\"password\":\"%s\"}'\n\nCtrl-C stops Switchboard and its PostgreSQL.\n\n", firstName(applied), password)
	w.Flush()
}

// redactURL hides the password of a database URL (--database-url), which the developer
// knows and a screen shared or recorded should not show.
func redactURL(s string) string {
	u, err := neturl.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(the --database-url given)" // key=value settings, or no URL at all
	}
	return u.Redacted()
}

// simulated are the agents the demo plays: all but those left to people.
func simulated(agents, humans []string) []string {
	var out []string
	for _, a := range agents {
		if !slices.Contains(humans, a) {
			out = append(out, a)
		}
	}
	return out
}

// devPages is dev's demo page: a pretend shop embedding the first sample tenant's widget.
func devPages(applied []provision.Applied) map[string]http.Handler {
	if len(applied) == 0 {
		return nil
	}
	site := console.DemoSite{WidgetKey: applied[0].WidgetKey, Units: applied[0].Units}
	return map[string]http.Handler{"GET /demo": console.DemoPage(site)}
}

func firstName(applied []provision.Applied) string {
	if len(applied) == 0 {
		return ""
	}
	return applied[0].Name
}

// defaultDataDir is where dev keeps its PostgreSQL cluster, under the working folder.
const defaultDataDir = ".data/postgres"

// reachableDataDir returns dir, or, when running as root in a folder the unprivileged user
// PostgreSQL runs as cannot reach (a home folder), a folder of this checkout's own under
// /var/lib/switchboard, so that `make run` works wherever the checkout is.
func reachableDataDir(dir string) string {
	if os.Geteuid() != 0 {
		return dir
	}
	for p := filepath.Dir(dir); p != filepath.Dir(p); p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil {
			continue // not created yet: localpg creates it traversable
		}
		if info.Mode().Perm()&0o001 == 0 {
			sum := sha256.Sum256([]byte(dir))
			alt := filepath.Join("/var/lib/switchboard", fmt.Sprintf("dev-%x", sum[:6]))
			slog.Info("the data folder is not reachable by the postgres user; using another", "wanted", dir, "using", alt)
			return alt
		}
	}
	return dir
}
