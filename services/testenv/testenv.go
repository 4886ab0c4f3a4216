// Package testenv starts what the services' tests need, for real: a database on the test
// binary's private PostgreSQL, migrated and configured from YAML in the shape of the
// custom resources, and `serve` replicas on loopback HTTP, with Connect clients that
// authenticate like the console and the widget do.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Password is every test account's password.
const Password = "test-password"

// Env is one test's database and servers.
type Env struct {
	// DatabaseURL is the schema owner's URL.
	DatabaseURL string
	// Owner is a pool of schema-owner connections, for checking rows from the outside.
	Owner *pgxpool.Pool
	// Tenants are the applied tenants by name.
	Tenants map[string]provision.Applied
	// Replicas are the running servers; Base is the first one's URL.
	Replicas []*Replica
	Base     string
	// HTTP speaks h2c (HTTP/2 without TLS).
	HTTP *http.Client
}

// Replica is one running `serve`.
type Replica struct {
	Server *server.Server
	Base   string
	stop   context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Stop shuts the replica down gracefully and waits; stopping again returns the same result.
func (r *Replica) Stop() error {
	r.once.Do(func() {
		r.stop()
		r.err = <-r.done
	})
	return r.err
}

// Start makes a fresh database on cluster, applies config (YAML documents in the shape of
// the custom resources), gives every agent and supervisor an account with Password, and
// starts one replica. Everything is torn down with t.Cleanup.
func Start(t testing.TB, cluster *localpg.Cluster, config string) *Env {
	t.Helper()
	e := Prepare(t, pgtest.NewDatabase(t, cluster), config)
	r := e.StartReplica(t, server.Config{})
	e.Base = r.Base
	return e
}

// Prepare migrates the database at url and applies config as Start does, without starting
// a replica: for tests that run `serve` themselves (as a process they can kill, say) and
// point Base at it.
func Prepare(t testing.TB, url, config string) *Env {
	t.Helper()
	ctx := context.Background()
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	e := &Env{DatabaseURL: url, Tenants: map[string]provision.Applied{}}
	e.Apply(t, config)
	owner, err := store.Open(ctx, url, store.PoolOptions{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	e.Owner = owner
	// Prior-knowledge h2c, as gRPC clients speak it; HTTP/1.1 clients are tested on their own.
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: p, MaxIdleConnsPerHost: 64}
	e.HTTP = &http.Client{Transport: tr}
	t.Cleanup(func() {
		for _, r := range e.Replicas {
			r.Stop() //nolint:errcheck
		}
		tr.CloseIdleConnections()
		owner.Close()
	})
	return e
}

// Apply applies more configuration.
func (e *Env) Apply(t testing.TB, config string) {
	t.Helper()
	if err := e.TryApply(config); err != nil {
		t.Fatal(err)
	}
}

// TryApply applies more configuration and returns what refused it.
func (e *Env) TryApply(config string) error {
	ctx := context.Background()
	cfg := &provision.Config{}
	if err := cfg.Parse("test config", []byte(config)); err != nil {
		return fmt.Errorf("parsing test config: %w", err)
	}
	conn, err := pgx.Connect(ctx, e.DatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	applied, err := provision.Apply(ctx, conn, cfg)
	if err != nil {
		return fmt.Errorf("applying test config: %w", err)
	}
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return err
	}
	if err := provision.DemoAccounts(ctx, conn, applied, hash); err != nil {
		return err
	}
	for _, a := range applied {
		e.Tenants[a.Name] = a
	}
	return nil
}

// StartReplica starts one more `serve` on the same database.
func (e *Env) StartReplica(t testing.TB, cfg server.Config) *Replica {
	t.Helper()
	return e.StartReplicaWith(t, cfg, nil)
}

// Limits are the limits of replicas started without any: the defaults, with the limits
// per client address raised, since every test client calls from 127.0.0.1 and stands for
// a visitor of its own. Tests of the limits start replicas with limits of their own.
func Limits() limits.Config { return limits.Defaults().SharedAddress(100) }

// StartReplicaWith starts a replica whose listener is wrapped, e.g. to shrink socket buffers.
func (e *Env) StartReplicaWith(t testing.TB, cfg server.Config, wrap func(net.Listener) net.Listener) *Replica {
	t.Helper()
	cfg.DatabaseURL = e.DatabaseURL
	cfg.SkipMigrate = true
	if cfg.Limits == nil {
		lc := Limits()
		cfg.Limits = &lc
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("starting server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Replica{Server: srv, Base: "http://" + ln.Addr().String(), stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Serve(ctx, ln) }()
	// Serve returns once it listens on the live bridge; wait until HTTP answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(r.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server on %s not ready: %v", r.Base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.Replicas = append(e.Replicas, r)
	return r
}

// Bearer is an interceptor that adds a bearer token to every call of a client.
func Bearer(token string) connect.Interceptor { return bearer(token) }

type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if b != "" {
			req.Header().Set("Authorization", "Bearer "+string(b))
		}
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if b != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		}
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// Chat is a ChatService client of the first replica calling with token ("" for none).
func (e *Env) Chat(token string, opts ...connect.ClientOption) chatv1connect.ChatServiceClient {
	return e.ChatAt(e.Base, token, opts...)
}

// ChatAt is a ChatService client of the replica at base.
func (e *Env) ChatAt(base, token string, opts ...connect.ClientOption) chatv1connect.ChatServiceClient {
	return chatv1connect.NewChatServiceClient(e.HTTP, base, append(opts, connect.WithInterceptors(bearer(token)))...)
}

// Supervision is a SupervisionService client of the first replica calling with token.
func (e *Env) Supervision(token string) supervisionv1connect.SupervisionServiceClient {
	return supervisionv1connect.NewSupervisionServiceClient(e.HTTP, e.Base, connect.WithInterceptors(bearer(token)))
}

// Auth is an AuthService client calling with token.
func (e *Env) Auth(token string) authv1connect.AuthServiceClient {
	return e.AuthAt(e.Base, token)
}

// AuthAt is an AuthService client of the replica at base.
func (e *Env) AuthAt(base, token string) authv1connect.AuthServiceClient {
	return authv1connect.NewAuthServiceClient(e.HTTP, base, connect.WithInterceptors(bearer(token)))
}

// Login signs a user of a tenant in and returns the bearer token.
func (e *Env) Login(t testing.TB, tenant, username string) string {
	t.Helper()
	res, err := e.Auth("").Login(context.Background(), connect.NewRequest(&authv1.LoginRequest{Tenant: tenant, Username: username, Password: Password}))
	if err != nil {
		t.Fatalf("login %s/%s: %v", tenant, username, err)
	}
	return res.Msg.Token
}

// Code is the Connect code of err, or 0 for nil.
func Code(err error) connect.Code {
	if err == nil {
		return 0
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code()
	}
	return connect.CodeUnknown
}
