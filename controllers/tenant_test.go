package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
)

// TestTheMailRelayPasswordComesFromASecret declares a relay whose password is in a Secret
// that does not exist yet: the Tenant says so, and the relay follows the Secret as it is
// created and changed.
func TestTheMailRelayPasswordComesFromASecret(t *testing.T) {
	op := startOperator(t)
	ctx := context.Background()
	tenant := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: hooli}
spec:
  smtp:
    host: mail.hooli.example
    from: chat@hooli.example
    username: chat
    passwordSecretRef: {name: smtp, key: password}`))[0]
	apply(t, tenant)
	c := waitCondition(t, tenant, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound)
	t.Logf("without the Secret: %s", c.Message)

	password := func() (string, error) {
		var p string
		var port int
		err := op.db.QueryRow(ctx, `SELECT s.password, s.port FROM tenant_smtp s JOIN tenants t USING (tenant_id) WHERE t.name = 'hooli'`).Scan(&p, &port)
		if err == nil && port != 587 {
			return "", fmt.Errorf("port %d; want the default 587", port)
		}
		return p, err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "hooli", Name: "smtp"}, StringData: map[string]string{"password": "first"}}
	apply(t, secret)
	waitCondition(t, tenant, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	eventually(t, "the relay password from the Secret", func() error {
		if p, err := password(); err != nil || p != "first" {
			return fmt.Errorf("%q, %v", p, err)
		}
		return nil
	})

	secret.StringData = map[string]string{"password": "rotated"}
	if err := kube.Client.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rotated password", func() error {
		if p, err := password(); err != nil || p != "rotated" {
			return fmt.Errorf("%q, %v", p, err)
		}
		return nil
	})
}

// TestSuspendingATenantStopsRouting checks that suspend reaches the database, where
// routing reads it, and shows in the Tenant's Ready reason.
func TestSuspendingATenantStopsRouting(t *testing.T) {
	op := startOperator(t)
	ctx := context.Background()
	tenant := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "pied-piper"}}
	apply(t, tenant)
	waitCondition(t, tenant, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	for _, suspend := range []bool{true, false} {
		if err := kube.Client.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
			t.Fatal(err)
		}
		tenant.Spec.Suspend = suspend
		if err := kube.Client.Update(ctx, tenant); err != nil {
			t.Fatal(err)
		}
		reason := v1alpha1.ReasonReconciled
		if suspend {
			reason = v1alpha1.ReasonSuspended
		}
		waitCondition(t, tenant, metav1.ConditionTrue, reason)
		var suspended bool
		if err := op.db.QueryRow(ctx, `SELECT suspended FROM tenants WHERE name = 'pied-piper'`).Scan(&suspended); err != nil {
			t.Fatal(err)
		}
		if suspended != suspend {
			t.Fatalf("spec.suspend %v, the database says %v", suspend, suspended)
		}
	}
}

// TestClosedConversationsPastTheRetentionAreDeleted seeds conversations closed two days
// and one hour ago under a retention of a day: only the recent one stays.
func TestClosedConversationsPastTheRetentionAreDeleted(t *testing.T) {
	op := startOperator(t)
	ctx := context.Background()
	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: initrode}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: initrode}`))
	apply(t, docs...)
	waitCondition(t, docs[1], metav1.ConditionTrue, v1alpha1.ReasonReconciled)
	_, err := op.db.Exec(ctx, `WITH t AS (SELECT tenant_id FROM tenants WHERE name = 'initrode'),
		v AS (INSERT INTO visitors (tenant_id) SELECT tenant_id FROM t RETURNING tenant_id, visitor_id)
		INSERT INTO conversations (tenant_id, unit_id, visitor_id, state, visitor_token_hash, page_url, closed_at)
		SELECT v.tenant_id, u.unit_id, v.visitor_id, 'closed', '\x00', label, now() - age
		FROM v, business_units u, (VALUES ('old', interval '2 days'), ('recent', interval '1 hour')) AS c(label, age)
		WHERE u.tenant_id = v.tenant_id`)
	if err != nil {
		t.Fatal(err)
	}
	tenant := docs[0].(*v1alpha1.Tenant)
	if err := kube.Client.Get(ctx, client.ObjectKeyFromObject(tenant), tenant); err != nil {
		t.Fatal(err)
	}
	tenant.Spec.Retention = &metav1.Duration{Duration: 24 * time.Hour}
	if err := kube.Client.Update(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	eventually(t, "only the recent conversation left", func() error {
		var left []string
		rows, err := op.db.Query(ctx, `SELECT c.page_url FROM conversations c JOIN tenants t USING (tenant_id) WHERE t.name = 'initrode'`)
		if err == nil {
			left, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			return err
		}
		if fmt.Sprint(left) != "[recent]" {
			return fmt.Errorf("conversations left: %v", left)
		}
		return nil
	})
}

// TestAnUnknownTimeZoneIsAConditionNamingIt declares business hours in a time zone that
// does not exist (the schema cannot know): the unit says so, then recovers when fixed.
func TestAnUnknownTimeZoneIsAConditionNamingIt(t *testing.T) {
	startOperator(t)
	ctx := context.Background()
	docs := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: vandelay}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: imports, namespace: vandelay}
spec: {businessHours: {timeZone: Mars/Olympus, weekly: [{days: [Monday], open: "09:00", close: "17:00"}]}}`))
	apply(t, docs...)
	c := waitCondition(t, docs[1], metav1.ConditionFalse, v1alpha1.ReasonInvalidSpec)
	if !strings.Contains(c.Message, "Mars/Olympus") {
		t.Fatalf("the condition does not name the time zone: %s", c.Message)
	}
	unit := docs[1].(*v1alpha1.BusinessUnit)
	if err := kube.Client.Get(ctx, client.ObjectKeyFromObject(unit), unit); err != nil {
		t.Fatal(err)
	}
	unit.Spec.BusinessHours.TimeZone = "America/New_York"
	if err := kube.Client.Update(ctx, unit); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, unit, metav1.ConditionTrue, v1alpha1.ReasonReconciled)
}

// TestOIDCSignInIsReportedAsNotServedYet makes sure a Tenant asking for OIDC is told it
// does not have it, rather than silently getting local accounts.
func TestOIDCSignInIsReportedAsNotServedYet(t *testing.T) {
	startOperator(t)
	tenant := objects(t, []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: oidc-corp}
spec: {auth: {mode: OIDC, oidc: {issuerURL: "https://id.example", clientID: console}}}`))[0]
	apply(t, tenant)
	c := waitCondition(t, tenant, metav1.ConditionFalse, v1alpha1.ReasonUnsupported)
	if !strings.Contains(c.Message, "OIDC") {
		t.Fatalf("the condition does not say what is unsupported: %s", c.Message)
	}
}
