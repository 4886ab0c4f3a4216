package controllers_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/controllers"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/store"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestATenantGetsAnAPIKeyInASecret checks the key the operator keeps for a tenant's
// backend: written to a Secret, accepted by serve, and replaced (the old one revoked) when
// the Secret is deleted. The Tenant's per-agent metrics opt-in reaches its row on the way.
func TestATenantGetsAnAPIKeyInASecret(t *testing.T) {
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	op := startOperatorOn(t, url, ctrl.Options{})
	ctx := context.Background()
	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: keyed}
spec: {perAgentMetrics: true}`))
	apply(t, docs...)
	waitCondition(t, docs[0], metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	var tenant uuid.UUID
	var perAgent bool
	if err := op.db.QueryRow(ctx, `SELECT tenant_id, per_agent_metrics FROM tenants WHERE name = 'keyed'`).Scan(&tenant, &perAgent); err != nil {
		t.Fatal(err)
	}
	if !perAgent {
		t.Error("spec.perAgentMetrics did not reach the tenant's row")
	}

	secretKey := func(not string) string {
		var key string
		eventually(t, "the API key Secret", func() error {
			var tn v1alpha1.Tenant
			if err := kube.Client.Get(ctx, client.ObjectKey{Name: "keyed"}, &tn); err != nil {
				return err
			}
			if tn.Status.APIKeySecret != controllers.APIKeySecret {
				return fmt.Errorf("status.apiKeySecret %q", tn.Status.APIKeySecret)
			}
			var s corev1.Secret
			if err := kube.Client.Get(ctx, client.ObjectKey{Namespace: "keyed", Name: controllers.APIKeySecret}, &s); err != nil {
				return err
			}
			if owner := metav1.GetControllerOf(&s); owner == nil || owner.Kind != "Tenant" || owner.Name != "keyed" {
				return fmt.Errorf("the Secret is not owned by the Tenant: %v", s.OwnerReferences)
			}
			key = string(s.Data[controllers.APIKeySecretKey])
			if key == "" || key == not {
				return fmt.Errorf("key %q", key)
			}
			return nil
		})
		return key
	}
	live := func(key string) bool {
		t.Helper()
		hash, ok := auth.HashAPIKey(tenant, key)
		if !ok {
			t.Fatalf("%q is not an API key of the tenant", key)
		}
		var n int
		if err := op.db.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND secret_hash = $2 AND revoked_at IS NULL`, tenant, hash).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	first := secretKey("")
	// The Secret is written inside the transaction that stores the key: the key is live
	// once that commits, a moment later.
	eventually(t, "the Secret's key live", func() error {
		if !live(first) {
			return fmt.Errorf("the Secret's key is not a live key of the tenant")
		}
		return nil
	})

	if err := kube.Client.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "keyed", Name: controllers.APIKeySecret}}); err != nil {
		t.Fatal(err)
	}
	second := secretKey(first)
	eventually(t, "after the Secret's deletion, the new key live and the old one revoked", func() error {
		if !live(second) || live(first) {
			return fmt.Errorf("new key live %v, old key live %v", live(second), live(first))
		}
		return nil
	})

	// A key revoked by the tenant's admin is replaced at the next reconcile.
	if _, err := op.db.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND revoked_at IS NULL`, tenant); err != nil {
		t.Fatal(err)
	}
	var tn v1alpha1.Tenant
	if err := kube.Client.Get(ctx, client.ObjectKey{Name: "keyed"}, &tn); err != nil {
		t.Fatal(err)
	}
	tn.Annotations = map[string]string{"test/nudge": "1"}
	if err := kube.Client.Update(ctx, &tn); err != nil {
		t.Fatal(err)
	}
	third := secretKey(second)
	eventually(t, "after the key's revocation, a new key live", func() error {
		if !live(third) || live(second) {
			return fmt.Errorf("new key live %v, revoked key live %v", live(third), live(second))
		}
		return nil
	})
	first, second = second, third

	// serve takes the new key (NotFound: authenticated, and no such conversation) and
	// refuses the old one.
	srv, err := server.New(ctx, server.Config{DatabaseURL: url, SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() { stop(); <-done })
	sale := &conversionv1.RecordConversionRequest{OrderId: "1", Amount: "1", Currency: "EUR", ConversationId: uuid.NewString()}
	for _, c := range []struct {
		key  string
		want connect.Code
	}{{second, connect.CodeNotFound}, {first, connect.CodeUnauthenticated}} {
		client := conversionv1connect.NewConversionServiceClient(http.DefaultClient, "http://"+ln.Addr().String(), connect.WithInterceptors(testenv.Bearer(c.key)))
		eventually(t, "serve answering", func() error {
			_, err := client.RecordConversion(ctx, connect.NewRequest(sale))
			if got := testenv.Code(err); got != c.want {
				return fmt.Errorf("got %v; want %v", err, c.want)
			}
			return nil
		})
	}
}
