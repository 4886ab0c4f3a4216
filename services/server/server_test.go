package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec: {displayName: Sales}
`

func TestOnePortSpeaksEveryProtocol(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := &chatv1.GetAvailabilityRequest{WidgetKey: env.Tenants["acme"].WidgetKey, BusinessUnit: "sales"}

	h1 := &http.Client{} // HTTP/1.1 only
	clients := []struct {
		name   string
		client chatv1connect.ChatServiceClient
	}{
		{"Connect over HTTP/1.1 with protobuf", chatv1connect.NewChatServiceClient(h1, env.Base)},
		{"Connect over HTTP/1.1 with JSON", chatv1connect.NewChatServiceClient(h1, env.Base, connect.WithProtoJSON())},
		{"gRPC over h2c", chatv1connect.NewChatServiceClient(env.HTTP, env.Base, connect.WithGRPC())},
		{"gRPC-Web over HTTP/1.1", chatv1connect.NewChatServiceClient(h1, env.Base, connect.WithGRPCWeb())},
		{"Connect over h2c", chatv1connect.NewChatServiceClient(env.HTTP, env.Base)},
	}
	for _, c := range clients {
		t.Run(c.name+" answers", func(t *testing.T) {
			res, err := c.client.GetAvailability(ctx, connect.NewRequest(req))
			if err != nil {
				t.Fatal(err)
			}
			if res.Msg.DisplayName != "Sales" {
				t.Fatalf("got %v", res.Msg)
			}
			// Errors keep their code on every protocol.
			_, err = c.client.GetAvailability(ctx, connect.NewRequest(&chatv1.GetAvailabilityRequest{WidgetKey: "wk_nope", BusinessUnit: "sales"}))
			if testenv.Code(err) != connect.CodeNotFound {
				t.Fatalf("unknown widget key: %v", err)
			}
		})
	}

	t.Run("gRPC health reports serving", func(t *testing.T) {
		health := grpchealth.NewClient(env.HTTP, env.Base, connect.WithGRPC())
		for _, service := range []string{"", chatv1connect.ChatServiceName} {
			res, err := health.Check(ctx, &grpchealth.CheckRequest{Service: service})
			if err != nil || res.Status != grpchealth.StatusServing {
				t.Fatalf("health of %q: %v %v", service, res, err)
			}
		}
	})

	t.Run("gRPC reflection lists the services", func(t *testing.T) {
		stream := grpcreflect.NewClient(env.HTTP, env.Base, connect.WithGRPC()).NewStream(ctx)
		defer stream.Close() //nolint:errcheck
		names, err := stream.ListServices()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{chatv1connect.ChatServiceName, "switchboard.auth.v1.AuthService"} {
			found := false
			for _, n := range names {
				if string(n) == want {
					found = true
				}
			}
			if !found {
				t.Fatalf("reflection lists %v, not %s", names, want)
			}
		}
		files, err := stream.FileContainingSymbol(chatv1connect.ChatServiceName)
		if err != nil || len(files) == 0 {
			t.Fatalf("descriptor of ChatService: %v", err)
		}
	})

	t.Run("readiness is served for probes", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(env.Base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %s", path, resp.Status)
			}
		}
	})

	t.Run("h2c is negotiated without TLS", func(t *testing.T) {
		resp, err := env.HTTP.Get(env.Base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("got %s, want HTTP/2", resp.Proto)
		}
	})
}
