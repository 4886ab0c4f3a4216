// Package server assembles `switchboard serve`: the Connect handlers of every service on
// one http.ServeMux, HTTP/1.1 and h2c on one port (Connect, gRPC and gRPC-Web), gRPC
// health and reflection, and a graceful shutdown that ends streams with a resume hint
// before the listener drains.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/board"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/console"
	"github.com/switchboard-chat/switchboard/services/conversion"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/metrics"
	"github.com/switchboard-chat/switchboard/services/search"
	"github.com/switchboard-chat/switchboard/services/sentiment"
	"github.com/switchboard-chat/switchboard/services/signals"
	"github.com/switchboard-chat/switchboard/services/store"
	"github.com/switchboard-chat/switchboard/services/supervision"
)

// Config configures a server.
type Config struct {
	// DatabaseURL is the schema owner's connection; traffic runs as store.AppRole.
	DatabaseURL string
	// MaxConns caps the pool; 0 means 32.
	MaxConns int32
	// SkipMigrate leaves the schema as it is (someone else migrates).
	SkipMigrate bool
	// ShutdownTimeout bounds the drain on shutdown; 0 means 20s.
	ShutdownTimeout time.Duration
	// StreamBuffer is each stream's live buffer; 0 means live.DefaultBuffer.
	StreamBuffer int
	// Proxies says which proxies are believed about visitors' countries and addresses.
	Proxies chat.Proxies
	// Limits are the rate limits and caps applied to callers; nil means limits.Defaults().
	Limits *limits.Config
	// AlertmanagerToken turns on Alertmanager's webhook receiver, which turns objective
	// alerts into signals; calls must carry it as a bearer token.
	AlertmanagerToken string
	// PrometheusURL is the Prometheus the board is evaluated against; empty means the
	// embedded engine, which scrapes this process's registry.
	PrometheusURL string
	// BoardDataDir keeps the embedded engine's samples across restarts; empty means a
	// temporary folder removed at shutdown.
	BoardDataDir string
	// BoardScrapeInterval is the embedded engine's scrape interval; 0 means
	// board.DefaultScrapeInterval.
	BoardScrapeInterval time.Duration
	// Pages are extra pages by path pattern ("GET /demo"), mounted beside the services:
	// dev's demo page.
	Pages map[string]http.Handler
}

// Server is one replica of the chat and supervision services.
type Server struct {
	cfg      Config
	Pool     *pgxpool.Pool
	DB       *store.DB
	Hub      *live.Hub
	Chat     *chat.Server
	Replica  uuid.UUID
	handler  http.Handler
	recorder *metrics.Recorder
	Signals  *signals.Engine
	Limits   *limits.Limiter
	perAgent *metrics.PerAgent
	// objectives measures the objectives for the metrics; embedded is the board's engine
	// when no Prometheus is configured.
	objectives *metrics.Objectives
	embedded   *board.Embedded
	health     *grpchealth.StaticChecker
	ready      atomic.Bool
	authn      *auth.Authenticator
	widgets    *widgetOrigins
}

// New migrates the database (unless told not to), opens the pool and builds the handlers.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("a database URL is required (--database-url or SWITCHBOARD_DATABASE_URL)")
	}
	if !cfg.SkipMigrate {
		if err := store.Migrate(ctx, cfg.DatabaseURL); err != nil {
			return nil, fmt.Errorf("migrating: %w", err)
		}
	}
	pool, err := store.Open(ctx, cfg.DatabaseURL, store.PoolOptions{MaxConns: cfg.MaxConns, AsApp: true})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, Pool: pool, DB: &store.DB{Pool: pool}, Hub: live.NewHub(cfg.StreamBuffer), Replica: uuid.New()}
	lc := limits.Defaults()
	if cfg.Limits != nil {
		lc = *cfg.Limits
	}
	s.Limits = limits.New(lc, cfg.Proxies.Clients(), s.DB)
	if err := s.Limits.Reload(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.Chat = chat.New(s.DB, s.Hub, s.Replica, cfg.Proxies, s.Limits)
	s.Chat.OnConfigChange(s.Limits.Changed)
	registry, recorder := metrics.New(s.DB, s.Pool, s.Hub)
	registry.MustRegister(s.Limits.Metrics())
	s.perAgent = metrics.NewPerAgent(s.DB, registry)
	s.Chat.Observe(metrics.Observers{recorder, s.perAgent})
	s.recorder = recorder
	s.Signals = signals.New(s.DB, s.Hub, s.Chat.Bridge().Tell)
	registry.MustRegister(s.Signals.Metrics())
	s.objectives = metrics.NewObjectives(s.DB)
	registry.MustRegister(s.objectives)
	var source board.Source
	if cfg.PrometheusURL != "" {
		if source, err = board.NewExternal(cfg.PrometheusURL); err != nil {
			pool.Close()
			return nil, err
		}
	} else {
		s.embedded, err = board.OpenEmbedded(board.EmbeddedOptions{Gatherer: registry, Dir: cfg.BoardDataDir, Interval: cfg.BoardScrapeInterval})
		if err != nil {
			pool.Close()
			return nil, err
		}
		source = s.embedded
	}
	supervisor := supervision.New(s.DB, s.Chat, s.Hub)
	supervisor.ServeBoard(source)

	public := append(append([]string{}, chat.PublicProcedures...), auth.PublicProcedures...)
	authn := auth.NewAuthenticator(s.DB, public...)
	s.authn = authn
	// Chat messages are small: compressing them costs more CPU than it saves bytes. The
	// limits go after authentication, whose principal they count by, and before anything
	// reads the request, so that every request counts, a refused one too.
	opts := connect.WithHandlerOptions(connect.WithInterceptors(authn.Interceptor(), s.Limits.Interceptor(), refuseNUL{}),
		connect.WithCompressMinBytes(compressMinBytes), connect.WithReadMaxBytes(lc.MaxRequestBytes))

	mux := http.NewServeMux()
	// Messages and widget calls that a spent limit refuses anyway are refused before
	// Connect decodes them.
	chatPath, chatHandler := chatv1connect.NewChatServiceHandler(s.Chat, opts)
	mux.Handle(chatPath, s.Limits.Middleware(chatHandler, s.Chat.WidgetTenant))
	mux.Handle(authv1connect.NewAuthServiceHandler(auth.NewServer(s.DB, authn), opts))
	mux.Handle(supervisionv1connect.NewSupervisionServiceHandler(supervisor, opts))
	mux.Handle(conversionv1connect.NewConversionServiceHandler(conversion.New(s.DB, metrics.NewConversions(s.DB, registry)), opts))
	services := []string{chatv1connect.ChatServiceName, authv1connect.AuthServiceName, supervisionv1connect.SupervisionServiceName, conversionv1connect.ConversionServiceName}
	s.health = grpchealth.NewStaticChecker(services...)
	mux.Handle(grpchealth.NewHandler(s.health))
	reflector := grpcreflect.NewStaticReflector(services...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	if cfg.AlertmanagerToken != "" {
		mux.Handle(signals.AlertWebhookPath, s.Signals.AlertWebhook(cfg.AlertmanagerToken))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready: database unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	for pattern, page := range cfg.Pages {
		mux.Handle(pattern, page)
	}
	// The console and the widget take every path no service claims.
	s.widgets = newWidgetOrigins(s.DB)
	mux.Handle("/", console.Handler(s.tenantByConsoleHost, s.widgets.Lookup))
	s.handler = secure(mux)
	return s, nil
}

// tenantByConsoleHost names the tenant whose console answers on host.
func (s *Server) tenantByConsoleHost(ctx context.Context, host string) (string, bool) {
	name, err := s.DB.TenantByConsoleHost(ctx, host)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		slog.Warn("console host lookup failed", "host", host, "err", err)
	}
	return name, err == nil
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// compressMinBytes is the smallest response the server compresses.
const compressMinBytes = 1024

// readinessInterval is how often readiness checks the database.
const readinessInterval = 2 * time.Second

func (s *Server) watchReadiness(ctx context.Context) {
	check := func() {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := s.Pool.Ping(pctx)
		cancel()
		status := grpchealth.StatusServing
		if err != nil {
			status = grpchealth.StatusNotServing
		}
		if was := s.ready.Swap(err == nil); was != (err == nil) {
			slog.Info("readiness changed", "ready", err == nil, "err", err)
		}
		s.health.SetStatus("", status)
		for _, name := range []string{chatv1connect.ChatServiceName, authv1connect.AuthServiceName, supervisionv1connect.SupervisionServiceName, conversionv1connect.ConversionServiceName} {
			s.health.SetStatus(name, status)
		}
	}
	check()
	t := time.NewTicker(readinessInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}

// Serve serves on ln until ctx ends, then ends every stream with a resume hint, drains the
// server and closes the pool.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go s.Chat.Run(bg)
	go s.authn.Run(bg)
	go s.Limits.Run(bg)
	go s.recorder.Run(bg)
	go s.Signals.Run(bg)
	go s.perAgent.Run(bg)
	go s.objectives.Run(bg)
	if s.embedded != nil {
		go s.embedded.Run(bg)
		defer func() {
			stop()
			if err := s.embedded.Close(); err != nil {
				slog.Warn("closing the board engine", "err", err)
			}
		}()
	}
	go s.DB.RunAppendBatches(bg)
	go search.NewIndexer(s.DB, sentiment.Lexicon{}).Run(bg)
	go s.DB.RunReportFolder(bg)
	go s.widgets.Run(bg)
	go s.watchReadiness(bg)
	select {
	case <-s.Chat.Bridge().Ready():
	case <-time.After(10 * time.Second):
		slog.Warn("live bridge not listening yet; serving anyway")
	}

	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	hs := &http.Server{
		Handler:           s.handler,
		Protocols:         protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: 2000},
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	slog.Info("serving", "addr", ln.Addr().String(), "replica", s.Replica)

	select {
	case err := <-errc:
		s.Pool.Close()
		return err
	case <-ctx.Done():
	}
	timeout := s.cfg.ShutdownTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	slog.Info("shutting down: ending streams and draining", "timeout", timeout)
	s.ready.Store(false)
	s.health.SetStatus("", grpchealth.StatusNotServing)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s.Hub.Shutdown()
	err := hs.Shutdown(sctx)
	stop()
	s.Pool.Close()
	if err != nil {
		return fmt.Errorf("draining: %w", err)
	}
	return nil
}
