package soak

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/auth"
	prov "github.com/switchboard-chat/switchboard/services/provision"
)

// The soak's tenant: three staffed units and one without agents, whose visitors find
// nobody online and leave offline messages, as after hours.
var (
	staffedUnits = []string{"sales", "support", "billing"}
	offlineUnit  = "returns"
)

// password is every soak account's.
const password = "switchboard-soak"

// permission names, as BusinessUnit resources spell them.
const (
	permSupervise = "Supervise"
	permOpenChats = "SuperviseOpenChats"
	permAllChats  = "AllChats"
)

// supervisorProfile is a kind of supervisor: what it may do where.
type supervisorProfile struct {
	name   string
	units  []string
	grants []string
}

// profiles are the supervisors of the tenant, in turn: a desk lead with every
// permission, a shift supervisor of two units who watches but does not search, a sales
// lead, and a quality reviewer who searches and exports but watches nothing.
var profiles = []supervisorProfile{
	{"lead", staffedUnits, []string{permSupervise, permOpenChats, permAllChats}},
	{"desk", []string{"support", "billing"}, []string{permSupervise, permOpenChats}},
	{"saleslead", []string{"sales"}, []string{permSupervise, permOpenChats, permAllChats}},
	{"quality", append(slices.Clone(staffedUnits), offlineUnit), []string{permAllChats}},
}

// supervisorAccount is one supervisor of the tenant.
type supervisorAccount struct {
	username string
	profile  supervisorProfile
}

func (s supervisorAccount) may(perm string) bool { return slices.Contains(s.profile.grants, perm) }

// tenant is the provisioned tenant.
type tenant struct {
	name, widgetKey string
	agents          []string
	supervisors     []supervisorAccount
}

// visitorUnits are the units visitors come to: every one, the unstaffed one included.
func (t *tenant) visitorUnits() []string { return append(slices.Clone(staffedUnits), offlineUnit) }

// summary describes the tenant for the report.
func (t *tenant) summary() TenantSummary {
	s := TenantSummary{Name: t.name, Units: t.visitorUnits(), Agents: len(t.agents)}
	for _, sv := range t.supervisors {
		s.Supervisors = append(s.Supervisors, fmt.Sprintf("%s (%s on %s)", sv.username,
			strings.Join(sv.profile.grants, ", "), strings.Join(sv.profile.units, ", ")))
	}
	return s
}

// tenantName is the soak's tenant.
const tenantName = "soak"

// provision declares the tenant as the operator's custom resources would, applies them
// through the operator's code (package provision) and gives every person an account.
func provision(ctx context.Context, owner *pgx.Conn, o Options) (*tenant, error) {
	t := &tenant{name: tenantName}
	for i := range o.Agents {
		t.agents = append(t.agents, fmt.Sprintf("agent%02d", i+1))
	}
	for i := range o.Supervisors {
		p := profiles[i%len(profiles)]
		t.supervisors = append(t.supervisors, supervisorAccount{username: fmt.Sprintf("%s%d", p.name, i/len(profiles)+1), profile: p})
	}
	cfg := &prov.Config{}
	if err := cfg.Parse("soak tenant", []byte(t.resources())); err != nil {
		return nil, fmt.Errorf("the soak's tenant: %w", err)
	}
	applied, err := prov.Apply(ctx, owner, cfg)
	if err != nil {
		return nil, fmt.Errorf("applying the soak's tenant: %w", err)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	if err := prov.DemoAccounts(ctx, owner, applied, hash); err != nil {
		return nil, fmt.Errorf("making the soak's accounts: %w", err)
	}
	t.widgetKey = applied[0].WidgetKey
	return t, nil
}

// resources are the tenant's custom resources, as YAML a platform team would apply.
// Objectives are tight for the soak's pace, so that signals are raised and cleared all
// the time and the board's streams have news to push.
func (t *tenant) resources() string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: %s}
spec:
  displayName: Soak Test Ltd
  isolation: Pooled
  deletionPolicy: Delete
  perAgentMetrics: true
`, t.name)
	for _, unit := range t.visitorUnits() {
		fmt.Fprintf(&b, `---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: %s, namespace: %s}
spec:
  displayName: %s
  routingPolicy: LeastLoaded
  offlineMessages: true
  inactivityThreshold: 1m
  supervisors:
`, unit, t.name, strings.ToUpper(unit[:1])+unit[1:])
		for _, s := range t.supervisors {
			if slices.Contains(s.profile.units, unit) {
				fmt.Fprintf(&b, "    - {name: %s, permissions: [%s]}\n", s.username, strings.Join(s.profile.grants, ", "))
			}
		}
	}
	for i, a := range t.agents {
		// Each agent works in one unit, every fourth in a second one too; capacities
		// vary as people's do.
		units := []string{staffedUnits[i%len(staffedUnits)]}
		if i%4 == 3 {
			units = append(units, staffedUnits[(i+1)%len(staffedUnits)])
		}
		fmt.Fprintf(&b, `---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: %s, namespace: %s, labels: {team: %s}}
spec:
  agent: %s
  businessUnits: [%s]
  maxConversations: %d
  channels: [Chat]
`, a, t.name, []string{"day", "late"}[i%2], a, strings.Join(units, ", "), 2+i%4)
	}
	fmt.Fprintf(&b, `---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: first-response, namespace: %[1]s}
spec: {metric: firstResponseTime, target: 2s, warning: 3s, critical: 5s, percent: 90}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: sales-first-response, namespace: %[1]s}
spec: {scope: {businessUnit: sales}, metric: firstResponseTime, target: 1s, warning: 2s, critical: 4s}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: late-team-reply, namespace: %[1]s}
spec: {scope: {agentSelector: {matchLabels: {team: late}}}, metric: responseTime, target: 3s, warning: 5s, critical: 10s}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: reply-time, namespace: %[1]s}
spec: {metric: responseTime, target: 4s, warning: 6s, critical: 12s}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: handling, namespace: %[1]s}
spec: {metric: handlingDuration, target: 40s, warning: 1m, critical: 2m}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: happy-visitors, namespace: %[1]s}
spec: {metric: satisfaction, target: "85", warning: "75", critical: "60", window: 1h}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: ProductivityObjective
metadata: {name: support-contacts, namespace: %[1]s}
spec: {scope: {businessUnit: support}, metric: contactsPerHour, target: "20", warning: "10", critical: "5", window: 1h}
`, t.name)
	return b.String()
}

// stored counts what the run left in the database, the source of truth.
func stored(ctx context.Context, owner *pgx.Conn, t *tenant, s *Stored) error {
	return owner.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM conversations c WHERE c.tenant_id = t.tenant_id),
		(SELECT count(*) FROM conversations c WHERE c.tenant_id = t.tenant_id AND c.state = 'closed'),
		(SELECT count(*) FROM events e WHERE e.tenant_id = t.tenant_id AND e.kind = 'message' AND e.visibility = 'all'),
		(SELECT count(*) FROM events e WHERE e.tenant_id = t.tenant_id AND e.kind = 'message' AND e.visibility = 'staff'),
		(SELECT count(*) FROM offline_messages m WHERE m.tenant_id = t.tenant_id),
		(SELECT count(*) FROM ratings r WHERE r.tenant_id = t.tenant_id),
		(SELECT count(*) FROM page_views p WHERE p.tenant_id = t.tenant_id),
		(SELECT count(*) FROM sessions s WHERE s.tenant_id = t.tenant_id),
		(SELECT count(*) FROM signals s WHERE s.tenant_id = t.tenant_id)
		FROM tenants t WHERE t.name = $1`, t.name).Scan(
		&s.Conversations, &s.Closed, &s.Messages, &s.Whispers, &s.OfflineMessages, &s.Ratings, &s.PageViews, &s.Sessions, &s.Signals)
}
