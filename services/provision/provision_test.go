package provision_test

import (
	"context"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/config/samples"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/store"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

func sampleConfig(t *testing.T) *provision.Config {
	t.Helper()
	cfg := &provision.Config{}
	entries, err := fs.ReadDir(samples.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := fs.ReadFile(samples.FS, e.Name())
		if err := cfg.Parse(e.Name(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the samples do not validate: %v", err)
	}
	return cfg
}

func TestTheSamplesLoadAndApplyIdempotently(t *testing.T) {
	cfg := sampleConfig(t)
	if len(cfg.Tenants) != 1 || len(cfg.BusinessUnits) != 2 || len(cfg.AgentCapacities) != 4 {
		t.Fatalf("samples: %d tenants, %d units, %d agents", len(cfg.Tenants), len(cfg.BusinessUnits), len(cfg.AgentCapacities))
	}
	ctx := context.Background()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	snapshot := func() string {
		var s string
		err := conn.QueryRow(ctx, `SELECT concat_ws('|',
			(SELECT string_agg(name || widget_key, ',') FROM tenants),
			(SELECT string_agg(name || accepts_offline_messages || inactivity_seconds, ',' ORDER BY name) FROM business_units),
			(SELECT string_agg(name || capacity || display_name, ',' ORDER BY name) FROM agents),
			(SELECT count(*) FROM agent_units), (SELECT string_agg(username || role || display_name, ',' ORDER BY username) FROM accounts))`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var first string
	for run := 0; run < 2; run++ {
		applied, err := provision.Apply(ctx, conn, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := provision.DemoAccounts(ctx, conn, applied, "hash"); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			first = snapshot()
		} else if again := snapshot(); again != first {
			t.Fatalf("applying twice changed rows:\n%s\n%s", first, again)
		}
	}
	for _, want := range []string{"alice3Alice Martin", "bob4Bob Durand", "support", "samsupervisorSam Supervisor", "adminadmin"} {
		if !strings.Contains(first, want) {
			t.Fatalf("rows %q lack %q", first, want)
		}
	}
	var units int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM agent_units au JOIN agents a USING (tenant_id, agent_id) WHERE a.name = 'bob'`).Scan(&units); err != nil || units != 2 {
		t.Fatalf("bob is in %d units (%v), want sales and support", units, err)
	}
}

func TestBadConfigurationIsRefusedWithTheReason(t *testing.T) {
	const tenant = "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\n---\n" +
		"apiVersion: supervision.switchboard.dev/v1alpha1\nkind: BusinessUnit\nmetadata: {name: sales, namespace: acme}\n---\n"
	cases := []struct {
		name, yaml, mention string
	}{
		{"an unknown kind", "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Widget\nmetadata: {name: w}\n", `kind "Widget"`},
		{"another API group", "apiVersion: apps/v1\nkind: Tenant\nmetadata: {name: acme}\n", "apiVersion"},
		{"a nameless resource", "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {}\n", "metadata.name"},
		{"an unknown field", "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec: {colour: blue}\n", "colour"},
		{"a wrong isolation", "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec: {isolation: Shared}\n", "isolation"},
		{"a capacity of 0", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: AgentCapacity\nmetadata: {name: a, namespace: acme}\nspec: {agent: a, businessUnits: [sales], maxConversations: 0}\n", "maxConversations"},
		{"a capacity of 51", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: AgentCapacity\nmetadata: {name: a, namespace: acme}\nspec: {agent: a, businessUnits: [sales], maxConversations: 51}\n", "between 1 and 50"},
		{"an agent in an unknown unit", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: AgentCapacity\nmetadata: {name: a, namespace: acme}\nspec: {agent: a, businessUnits: [marketing], maxConversations: 2}\n", `"marketing"`},
		{"an agent without identity", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: AgentCapacity\nmetadata: {name: a, namespace: acme}\nspec: {businessUnits: [sales], maxConversations: 2}\n", "spec.agent"},
		{"a unit outside any tenant's namespace", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: BusinessUnit\nmetadata: {name: s, namespace: other}\n", `"other"`},
		{"a bad inactivity threshold", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: BusinessUnit\nmetadata: {name: s, namespace: acme}\nspec: {inactivityThreshold: soon}\n", `"soon"`},
		{"a tenant declared twice", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\n", "twice"},
		{"malformed YAML", "kind: [Tenant\n", "document 1"},
		{"an unknown supervisor permission", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: BusinessUnit\nmetadata: {name: s, namespace: acme}\nspec: {supervisors: [{name: sam, permissions: [Everything]}]}\n", `"Everything"`},
		{"an inactivity threshold of 5s", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: BusinessUnit\nmetadata: {name: s, namespace: acme}\nspec: {inactivityThreshold: 5s}\n", "between 10s and 24h"},
		{"a relay password in a Secret that is not there", "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec: {smtp: {host: h, from: a@b.c, passwordSecretRef: {name: smtp, key: password}}}\n", "passwordSecretRef"},
		{"an objective of an unknown unit", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: ProductivityObjective\nmetadata: {name: o, namespace: acme}\nspec: {scope: {businessUnit: nowhere}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m}\n", `"nowhere"`},
		{"an objective whose threshold is not a duration", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: ProductivityObjective\nmetadata: {name: o, namespace: acme}\nspec: {metric: firstResponseTime, target: soon, warning: 1m, critical: 2m}\n", "not a duration"},
		{"a Dedicated tenant without the operator", "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec: {isolation: Dedicated}\n", "Dedicated needs the operator"},
		{"a widget origin with a path", "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec: {widget: {allowedOrigins: [https://shop.example.com/]}}\n", "spec.widget.allowedOrigins[0]"},
		{"a message limit of 0", "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec: {limits: {conversationsPerMinute: 60, messagesPerSecond: 0}}\n", "spec.limits.messagesPerSecond 0"},
		{"a supervisor listed twice", tenant + "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: BusinessUnit\nmetadata: {name: s, namespace: acme}\nspec: {supervisors: [{name: sam}, {name: sam}]}\n", "twice"},
	}
	for _, c := range cases {
		t.Run(c.name+" is refused", func(t *testing.T) {
			cfg := &provision.Config{}
			err := cfg.Parse("bad.yaml", []byte(c.yaml))
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("got %v, want an error mentioning %s", err, c.mention)
			}
		})
	}
}

func TestSecretsAndObjectivesApplyLikeOnACluster(t *testing.T) {
	cfg := &provision.Config{}
	err := cfg.Parse("relay.yaml", []byte(`apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec: {smtp: {host: mail.acme.example, from: chat@acme.example, passwordSecretRef: {name: smtp, key: password}}}
---
apiVersion: v1
kind: Secret
metadata: {name: smtp, namespace: acme}
stringData: {password: s3cret}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: first-response, namespace: acme}
spec: {scope: {businessUnit: sales}, metric: firstResponseTime, target: 30s, warning: 1m, critical: 2m30s, percent: 95}
`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := provision.Apply(ctx, conn, cfg); err != nil {
		t.Fatal(err)
	}
	var password string
	var port, window int
	var critical float64
	err = conn.QueryRow(ctx, `SELECT s.password, s.port, o.critical, o.window_seconds FROM tenant_smtp s, objectives o`).Scan(&password, &port, &critical, &window)
	if err != nil {
		t.Fatal(err)
	}
	if password != "s3cret" || port != 587 || critical != 150 || window != 3600 {
		t.Fatalf("relay password %q port %d, objective critical %vs window %ds; want the Secret's, 587, 150 and the default 1h", password, port, critical, window)
	}
}

// FuzzTheLoaderRefusesWhatItCannotReadWithTheFileName loads any YAML as `switchboard dev`
// loads config/samples: it never panics, refuses with an error that names the file, and
// reads the same bytes the same way every time.
func FuzzTheLoaderRefusesWhatItCannotReadWithTheFileName(f *testing.F) {
	entries, err := fs.ReadDir(samples.FS, ".")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, _ := fs.ReadFile(samples.FS, e.Name())
		f.Add(b)
	}
	for _, s := range []string{
		"apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec: {smtp: {host: h, from: a@b.c, passwordSecretRef: {name: smtp, key: password}}}\n",
		"apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\n---\napiVersion: supervision.switchboard.dev/v1alpha1\nkind: ProductivityObjective\nmetadata: {name: o, namespace: acme}\nspec: {metric: firstResponseTime, target: soon, warning: 1m, critical: 2m}\n",
		"kind: [Tenant\n",
		"---\n---\n\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		load := func() (*provision.Config, error) {
			cfg := &provision.Config{}
			if err := cfg.Parse("fuzz.yaml", data); err != nil {
				if !strings.Contains(err.Error(), "fuzz.yaml") {
					t.Fatalf("the error does not name the file: %v", err)
				}
				return nil, err
			}
			return cfg, cfg.Validate()
		}
		first, err1 := load()
		second, err2 := load()
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("the same file read twice: %v, then %v", err1, err2)
		}
		if err1 == nil && !reflect.DeepEqual(first, second) {
			t.Fatalf("the same file read twice gave two configurations")
		}
	})
}
