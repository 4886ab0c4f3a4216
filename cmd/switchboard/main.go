// Command switchboard is Switchboard's one binary: the operator, the chat and supervision
// services, the embedded development default, migrations and the benchmark.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	// Business hours name IANA time zones; images without a zoneinfo database still know them.
	_ "time/tzdata"

	"github.com/spf13/cobra"
)

// gcPercent is the garbage collector's target unless GOGC says otherwise. Switchboard's
// live heap is small (tens of MB) and its work is many small allocations per message, so
// collecting a quarter as often buys CPU for little memory.
const gcPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var level string
	root := &cobra.Command{
		Use:           "switchboard",
		Short:         "Kubernetes-native multi-tenant live chat built around supervision",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := logLevel.UnmarshalText([]byte(level)); err != nil {
				return fmt.Errorf("--log-level %q is not one of debug, info, warn, error", level)
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})))
			return nil
		},
	}
	root.PersistentFlags().StringVar(&level, "log-level", envOr("SWITCHBOARD_LOG_LEVEL", "info"),
		"least severe messages logged: debug, info, warn or error (env SWITCHBOARD_LOG_LEVEL)")
	root.AddCommand(serveCommand(), migrateCommand(), devCommand(), benchCommand(), operatorCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

// logLevel is the least severe level logged (--log-level).
var logLevel = slog.LevelInfo

// envOr returns the environment variable's value, or def.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
