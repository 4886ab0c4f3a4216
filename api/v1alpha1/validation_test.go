package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var kube *testenv.Kube

func TestMain(m *testing.M) {
	var err error
	if kube, err = testenv.StartKube(); err != nil {
		fmt.Fprintln(os.Stderr, "starting the API server:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := kube.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the API server:", err)
	}
	os.Exit(code)
}

// object reads one resource from YAML, as kubectl would send it.
func object(t *testing.T, doc string) client.Object {
	t.Helper()
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
		t.Fatal(err)
	}
	var obj client.Object
	switch meta.Kind {
	case "Tenant":
		obj = &v1alpha1.Tenant{}
	case "BusinessUnit":
		obj = &v1alpha1.BusinessUnit{}
	case "AgentCapacity":
		obj = &v1alpha1.AgentCapacity{}
	case "ProductivityObjective":
		obj = &v1alpha1.ProductivityObjective{}
	default:
		t.Fatalf("unknown kind %q", meta.Kind)
	}
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return obj
}

const header = "apiVersion: supervision.switchboard.dev/v1alpha1\n"

func TestTheAPIServerRejectsInvalidSpecsWithAMessageAPersonUnderstands(t *testing.T) {
	ctx := context.Background()
	if err := kube.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, doc, want string
	}{
		{"a tenant name that cannot name a namespace", `kind: Tenant
metadata: {name: Acme_Corp}`, "a Tenant's name is a DNS label"},
		{"an isolation that does not exist", `kind: Tenant
metadata: {name: bad-isolation}
spec: {isolation: Shared}`, `Unsupported value: "Shared"`},
		{"a database for a pooled tenant", `kind: Tenant
metadata: {name: pooled-db}
spec: {isolation: Pooled, database: {name: own}}`, "database applies to Dedicated tenants only"},
		{"OIDC sign-in without an issuer", `kind: Tenant
metadata: {name: no-issuer}
spec: {auth: {mode: OIDC}}`, "oidc is required when mode is OIDC"},
		{"an issuer that is not https", `kind: Tenant
metadata: {name: http-issuer}
spec: {auth: {mode: OIDC, oidc: {issuerURL: "http://id.example", clientID: console}}}`, "spec.auth.oidc.issuerURL"},
		{"a retention under a day", `kind: Tenant
metadata: {name: short-retention}
spec: {retention: 1h}`, "retention must be at least 24h"},
		{"an SMTP port out of range", `kind: Tenant
metadata: {name: bad-port}
spec: {smtp: {host: mail.example, port: 70000, from: chat@example.com}}`, "spec.smtp.port: Invalid value: 70000: spec.smtp.port in body should be less than or equal to 65535"},
		{"a permission that does not exist", `kind: BusinessUnit
metadata: {name: sales, namespace: shop}
spec: {supervisors: [{name: sam, permissions: [Everything]}]}`, `Unsupported value: "Everything"`},
		{"the same supervisor twice", `kind: BusinessUnit
metadata: {name: sales, namespace: shop}
spec: {supervisors: [{name: sam}, {name: sam}]}`, "Duplicate value"},
		{"an inactivity threshold of one second", `kind: BusinessUnit
metadata: {name: sales, namespace: shop}
spec: {inactivityThreshold: 1s}`, "inactivityThreshold must be between 10s and 24h"},
		{"opening hours that close before they open", `kind: BusinessUnit
metadata: {name: sales, namespace: shop}
spec: {businessHours: {timeZone: Europe/Paris, weekly: [{days: [Monday], open: "18:00", close: "09:00"}]}}`, "open must be before close"},
		{"a capacity of zero", `kind: AgentCapacity
metadata: {name: ann, namespace: shop}
spec: {agent: ann, businessUnits: [sales], maxConversations: 0}`, "should be greater than or equal to 1"},
		{"a capacity over 50", `kind: AgentCapacity
metadata: {name: ann, namespace: shop}
spec: {agent: ann, businessUnits: [sales], maxConversations: 51}`, "should be less than or equal to 50"},
		{"an agent in no business unit", `kind: AgentCapacity
metadata: {name: ann, namespace: shop}
spec: {agent: ann, businessUnits: [], maxConversations: 5}`, "should have at least 1 items"},
		{"a business unit reference that is not a name", `kind: AgentCapacity
metadata: {name: ann, namespace: shop}
spec: {agent: ann, businessUnits: ["Sales Team"], maxConversations: 5}`, "spec.businessUnits[0]"},
		{"a warning threshold after the critical one", `kind: ProductivityObjective
metadata: {name: first-response, namespace: shop}
spec: {metric: firstResponseTime, target: 30s, warning: 2m, critical: 1m}`, "for a time metric the thresholds must rise"},
		{"a duration that is not one", `kind: ProductivityObjective
metadata: {name: first-response, namespace: shop}
spec: {metric: firstResponseTime, target: fast, warning: 1m, critical: 2m}`, "durations like 45s for time metrics"},
		{"satisfaction above 100 percent", `kind: ProductivityObjective
metadata: {name: happy, namespace: shop}
spec: {metric: satisfaction, target: "150", warning: "80", critical: "60"}`, "satisfaction and conversionRate are percentages"},
		{"rising thresholds for a goal where more is better", `kind: ProductivityObjective
metadata: {name: contacts, namespace: shop}
spec: {metric: contactsPerHour, target: "4", warning: "6", critical: "8"}`, "the thresholds must fall"},
		{"a percentage on an aggregate metric", `kind: ProductivityObjective
metadata: {name: contacts, namespace: shop}
spec: {metric: contactsPerHour, target: "8", warning: "6", critical: "4", percent: 95}`, "percent applies to firstResponseTime"},
		{"a metric that does not exist", `kind: ProductivityObjective
metadata: {name: speed, namespace: shop}
spec: {metric: speed, target: "1", warning: "1", critical: "1"}`, `Unsupported value: "speed"`},
	} {
		t.Run("refused: "+c.name, func(t *testing.T) {
			obj := object(t, header+c.doc)
			err := kube.Client.Create(ctx, obj)
			if err == nil {
				t.Fatalf("the API server accepted it:\n%s", c.doc)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("the message does not say %q:\n%v", c.want, err)
			}
		})
	}
}

func TestImmutableFieldsCannotChange(t *testing.T) {
	ctx := context.Background()
	if err := kube.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "immutable"}}); err != nil {
		t.Fatal(err)
	}
	tenant := object(t, header+"kind: Tenant\nmetadata: {name: fixed}\nspec: {isolation: Dedicated, database: {name: fixed_db}}").(*v1alpha1.Tenant)
	agent := object(t, header+"kind: AgentCapacity\nmetadata: {name: ann, namespace: immutable}\nspec: {agent: ann, businessUnits: [sales], maxConversations: 5}").(*v1alpha1.AgentCapacity)
	for _, obj := range []client.Object{tenant, agent} {
		if err := kube.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		change func() client.Object
		want   string
	}{
		{"a tenant's isolation", func() client.Object {
			t := tenant.DeepCopy()
			t.Spec.Isolation, t.Spec.Database = v1alpha1.IsolationPooled, nil
			return t
		}, "isolation is immutable"},
		{"a tenant's database", func() client.Object {
			t := tenant.DeepCopy()
			t.Spec.Database.Name = "elsewhere"
			return t
		}, "database is immutable"},
		{"an agent's identity", func() client.Object {
			a := agent.DeepCopy()
			a.Spec.Agent = "bob"
			return a
		}, "agent is immutable"},
	} {
		t.Run("refused: changing "+c.name, func(t *testing.T) {
			err := kube.Client.Update(ctx, c.change())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v; want a refusal saying %q", err, c.want)
			}
		})
	}
	t.Run("accepted: changing what may change", func(t *testing.T) {
		a := agent.DeepCopy()
		a.Spec.MaxConversations = 8
		if err := kube.Client.Update(ctx, a); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDefaultsAreFilledIn(t *testing.T) {
	ctx := context.Background()
	if err := kube.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "defaults"}}); err != nil {
		t.Fatal(err)
	}
	tenant := object(t, header+"kind: Tenant\nmetadata: {name: defaults}").(*v1alpha1.Tenant)
	unit := object(t, header+"kind: BusinessUnit\nmetadata: {name: sales, namespace: defaults}").(*v1alpha1.BusinessUnit)
	objective := object(t, header+"kind: ProductivityObjective\nmetadata: {name: frt, namespace: defaults}\nspec: {metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m, percent: 95}").(*v1alpha1.ProductivityObjective)
	for _, obj := range []client.Object{tenant, unit, objective} {
		if err := kube.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	if s := tenant.Spec; s.Isolation != v1alpha1.IsolationPooled || s.DeletionPolicy != v1alpha1.DeletionPolicyRetain || s.Auth.Mode != v1alpha1.AuthLocal {
		t.Errorf("a bare Tenant: isolation %q, deletionPolicy %q, auth %q; want Pooled, Retain, Local", s.Isolation, s.DeletionPolicy, s.Auth.Mode)
	}
	if s := unit.Spec; s.RoutingPolicy != v1alpha1.RoutingLeastLoaded || s.OfflineMessages == nil || !*s.OfflineMessages ||
		s.InactivityThreshold == nil || s.InactivityThreshold.Duration.String() != "5m0s" {
		t.Errorf("a bare BusinessUnit: %+v", s)
	}
	if w := objective.Spec.Window; w == nil || w.Duration.String() != "1h0m0s" {
		t.Errorf("an objective's default window: %v; want 1h", w)
	}
}

// The widget's allowed origins are refused, with a message naming what is wrong, by the API
// server and by the YAML loader of `switchboard dev` alike, which agree on every example.
func TestAllowedOriginsAreOriginsOnly(t *testing.T) {
	ctx := context.Background()
	for i, c := range []struct {
		origin string
		want   string // "" when accepted
	}{
		{"https://shop.example.com", ""},
		{"https://*.example.com", ""},
		{"http://localhost:3000", ""},
		{"http://127.0.0.1:8080", ""},
		{"https://xn--bcher-kva.example", ""},
		{"https://shop.example.com/", "without a path, query or trailing slash"},
		{"https://shop.example.com/checkout", "without a path, query or trailing slash"},
		{"https://shop.example.com?x=1", "without a path, query or trailing slash"},
		{"shop.example.com", "starts with https://"},
		{"*", "starts with https://"},
		{"ftp://shop.example.com", "starts with https://"},
		{"javascript:alert(1)", "starts with https://"},
		{"https://Shop.Example.com", "lower-case host name"},
		{"https://shop.*.example.com", "lower-case host name"},
		{"https://*", "lower-case host name"},
		{"https://user:secret@shop.example.com", "lower-case host name"},
		{"https://shop.example.com:port", "lower-case host name"},
		{"https://shop.example.com 'unsafe-inline'", "lower-case host name"},
		{"https://shop.example.com;script-src", "lower-case host name"},
		{"https://[::1]:8080", "lower-case host name"},
	} {
		doc := fmt.Sprintf("kind: Tenant\nmetadata: {name: origins-%d}\nspec: {widget: {allowedOrigins: [%q]}}", i, c.origin)
		name := "accepted: " + c.origin
		if c.want != "" {
			name = "refused: " + c.origin
		}
		t.Run(name, func(t *testing.T) {
			tenant := object(t, header+doc).(*v1alpha1.Tenant)
			apiErr := kube.Client.Create(ctx, tenant.DeepCopy())
			_, loaderErr := provision.WidgetOrigins(tenant)
			for who, err := range map[string]error{"the API server": apiErr, "the YAML loader": loaderErr} {
				switch {
				case c.want == "" && err != nil:
					t.Errorf("%s refused it: %v", who, err)
				case c.want != "" && err == nil:
					t.Errorf("%s accepted it", who)
				case c.want != "" && !strings.Contains(err.Error(), c.want):
					t.Errorf("%s's message does not say %q: %v", who, c.want, err)
				}
			}
		})
	}
	t.Run("refused: an origin named twice", func(t *testing.T) {
		tenant := object(t, header+"kind: Tenant\nmetadata: {name: origins-twice}\nspec: {widget: {allowedOrigins: [https://a.example, https://a.example]}}").(*v1alpha1.Tenant)
		if err := kube.Client.Create(ctx, tenant.DeepCopy()); err == nil || !strings.Contains(err.Error(), "Duplicate value") {
			t.Errorf("the API server: %v, want a refusal naming the duplicate", err)
		}
		if _, err := provision.WidgetOrigins(tenant); err == nil || !strings.Contains(err.Error(), "named twice") {
			t.Errorf("the YAML loader: %v, want a refusal naming the duplicate", err)
		}
	})
}
