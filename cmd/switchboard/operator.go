package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/controllers"
	"github.com/switchboard-chat/switchboard/services/store"
)

// LeaderElectionID names the lease the operator's replicas compete for.
const LeaderElectionID = "switchboard-operator.supervision.switchboard.dev"

func operatorCommand() *cobra.Command {
	var (
		databaseURL, metricsAddr, probeAddr, leaseNamespace, serveImage string
		leaderElect                                                     bool
		maxConns                                                        int
		ruleLabels                                                      map[string]string
	)
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Reconcile Tenants, BusinessUnits, AgentCapacities and ProductivityObjectives into PostgreSQL and Kubernetes",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if databaseURL == "" {
				return errors.New("a database URL is required (--database-url or SWITCHBOARD_DATABASE_URL)")
			}
			ctrl.SetLogger(zap.New(zap.Level(zapLevel(logLevel))))
			ctx := cmd.Context()
			if err := store.Migrate(ctx, databaseURL); err != nil {
				return fmt.Errorf("migrating: %w", err)
			}
			pool, err := store.Open(ctx, databaseURL, store.PoolOptions{MaxConns: int32(maxConns)})
			if err != nil {
				return err
			}
			defer pool.Close()
			scheme := runtime.NewScheme()
			if err := clientgoscheme.AddToScheme(scheme); err != nil {
				return err
			}
			if err := v1alpha1.AddToScheme(scheme); err != nil {
				return err
			}
			// The PrometheusRules the operator writes when prometheus-operator is installed.
			if err := monitoringv1.AddToScheme(scheme); err != nil {
				return err
			}
			cfg, err := ctrl.GetConfig()
			if err != nil {
				return fmt.Errorf("finding the cluster: %w", err)
			}
			mgr, err := ctrl.NewManager(cfg, ctrl.Options{
				Scheme:                  scheme,
				Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
				HealthProbeBindAddress:  probeAddr,
				LeaderElection:          leaderElect,
				LeaderElectionID:        LeaderElectionID,
				LeaderElectionNamespace: leaseNamespace,
				// The lease is let go on a clean stop, so a standby takes over at once.
				LeaderElectionReleaseOnCancel: true,
			})
			if err != nil {
				return fmt.Errorf("starting the manager: %w", err)
			}
			db := controllers.NewDatabase(pool, databaseURL)
			defer db.Close()
			if err := controllers.Setup(mgr, db, controllers.Options{ServeImage: serveImage, PrometheusRuleLabels: ruleLabels}); err != nil {
				return fmt.Errorf("setting up the controllers: %w", err)
			}
			return mgr.Start(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&databaseURL, "database-url", envOr("SWITCHBOARD_DATABASE_URL", ""), "PostgreSQL URL of the schema owner, shared by the Pooled tenants (env SWITCHBOARD_DATABASE_URL)")
	f.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "address of the manager's /metrics; 0 turns it off")
	f.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	f.BoolVar(&leaderElect, "leader-elect", false, "elect a leader among the operator's replicas, so that one reconciles at a time")
	f.StringVar(&leaseNamespace, "leader-election-namespace", "", "namespace of the leader election lease; the operator's own when empty (in a cluster)")
	f.IntVar(&maxConns, "max-conns", 8, "maximum PostgreSQL connections")
	f.StringVar(&serveImage, "serve-image", envOr("SWITCHBOARD_SERVE_IMAGE", "ghcr.io/switchboard-chat/switchboard:latest"), "container image running `switchboard serve` for Dedicated tenants (env SWITCHBOARD_SERVE_IMAGE)")
	f.StringToStringVar(&ruleLabels, "prometheus-rule-labels", nil, "labels of the tenants' PrometheusRules, e.g. release=kube-prometheus-stack for the ruleSelector of your Prometheus")
	return cmd
}

// zapLevel is the controller-runtime logger's level for --log-level: debug shows every
// verbosity of logr's V (zap's levels below debug), the others their namesakes.
func zapLevel(l slog.Level) zapcore.Level {
	switch {
	case l <= slog.LevelDebug:
		return zapcore.Level(math.MinInt8)
	case l <= slog.LevelInfo:
		return zapcore.InfoLevel
	case l <= slog.LevelWarn:
		return zapcore.WarnLevel
	}
	return zapcore.ErrorLevel
}
