// Package provision turns Switchboard's configuration, its custom resources (Tenant,
// BusinessUnit, AgentCapacity, ProductivityObjective, in the types of api/v1alpha1), into
// rows in PostgreSQL. The operator's controllers and `switchboard dev` (which loads
// config/samples/) both apply configuration through it.
package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Group is the API group of Switchboard's resources.
const Group = "supervision.switchboard.dev"

// Kinds of resources.
const (
	KindTenant                = "Tenant"
	KindBusinessUnit          = "BusinessUnit"
	KindAgentCapacity         = "AgentCapacity"
	KindProductivityObjective = "ProductivityObjective"
)

// Config is a set of resources to apply together, in the types of the custom resources,
// and the Secrets they refer to (a relay password, as `kubectl apply` would take them).
type Config struct {
	Tenants         []v1alpha1.Tenant
	BusinessUnits   []v1alpha1.BusinessUnit
	AgentCapacities []v1alpha1.AgentCapacity
	Objectives      []v1alpha1.ProductivityObjective
	// Secrets are by namespace/name.
	Secrets map[string]map[string][]byte
}

// Load reads every *.yaml and *.yml file of a folder (or one file), in name order.
func Load(path string) (*Config, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if info.IsDir() {
		files = nil
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(files)
	}
	cfg := &Config{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := cfg.Parse(f, b); err != nil {
			return nil, err
		}
	}
	return cfg, cfg.Validate()
}

// Parse adds the resources of a multi-document YAML file to the config, with the defaults
// the API server would fill in. Errors name the file, the document and the field. Call
// Validate once every file is parsed.
func (c *Config) Parse(name string, data []byte) error {
	docs := splitDocuments(data)
	for i, doc := range docs {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		where := fmt.Sprintf("%s, document %d", name, i+1)
		var head struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if head.Metadata.Name == "" {
			return fmt.Errorf("%s: metadata.name is required", where)
		}
		if err := c.add(head.APIVersion, head.Kind, doc); err != nil {
			return fmt.Errorf("%s (%s %s): %w", where, head.Kind, head.Metadata.Name, err)
		}
	}
	return nil
}

func (c *Config) add(apiVersion, kind string, doc []byte) error {
	strict := func(v any) error { return yaml.UnmarshalStrict(doc, v, yaml.DisallowUnknownFields) }
	if apiVersion == "v1" && kind == "Secret" {
		var s corev1.Secret
		if err := strict(&s); err != nil {
			return err
		}
		if c.Secrets == nil {
			c.Secrets = map[string]map[string][]byte{}
		}
		data := map[string][]byte{}
		for k, v := range s.Data {
			data[k] = v
		}
		for k, v := range s.StringData {
			data[k] = []byte(v)
		}
		c.Secrets[s.Namespace+"/"+s.Name] = data
		return nil
	}
	if group, _, _ := strings.Cut(apiVersion, "/"); group != Group {
		return fmt.Errorf("apiVersion %q is not of group %s", apiVersion, Group)
	}
	switch kind {
	case KindTenant:
		var t v1alpha1.Tenant
		if err := strict(&t); err != nil {
			return err
		}
		DefaultTenant(&t)
		c.Tenants = append(c.Tenants, t)
	case KindBusinessUnit:
		var u v1alpha1.BusinessUnit
		if err := strict(&u); err != nil {
			return err
		}
		DefaultBusinessUnit(&u)
		c.BusinessUnits = append(c.BusinessUnits, u)
	case KindAgentCapacity:
		var a v1alpha1.AgentCapacity
		if err := strict(&a); err != nil {
			return err
		}
		if len(a.Spec.Channels) == 0 {
			a.Spec.Channels = []v1alpha1.Channel{v1alpha1.ChannelChat}
		}
		c.AgentCapacities = append(c.AgentCapacities, a)
	case KindProductivityObjective:
		var o v1alpha1.ProductivityObjective
		if err := strict(&o); err != nil {
			return err
		}
		if o.Spec.Window == nil {
			o.Spec.Window = &metav1.Duration{Duration: time.Hour}
		}
		c.Objectives = append(c.Objectives, o)
	default:
		return fmt.Errorf("kind %q is not one of %s, %s, %s, %s", kind, KindTenant, KindBusinessUnit, KindAgentCapacity, KindProductivityObjective)
	}
	return nil
}

// defaults fills in what the CRDs' defaults would, for configurations built in Go.
func (c *Config) defaults() {
	for i := range c.Tenants {
		DefaultTenant(&c.Tenants[i])
	}
	for i := range c.BusinessUnits {
		DefaultBusinessUnit(&c.BusinessUnits[i])
	}
	for i := range c.Objectives {
		if c.Objectives[i].Spec.Window == nil {
			c.Objectives[i].Spec.Window = &metav1.Duration{Duration: time.Hour}
		}
	}
}

// DefaultTenant fills in what the CRD's defaults would.
func DefaultTenant(t *v1alpha1.Tenant) {
	if t.Spec.Isolation == "" {
		t.Spec.Isolation = v1alpha1.IsolationPooled
	}
	if t.Spec.DeletionPolicy == "" {
		t.Spec.DeletionPolicy = v1alpha1.DeletionPolicyRetain
	}
	if t.Spec.Auth.Mode == "" {
		t.Spec.Auth.Mode = v1alpha1.AuthLocal
	}
	if m := t.Spec.SMTP; m != nil && m.Port == 0 {
		m.Port = 587
	}
}

// DefaultBusinessUnit fills in what the CRD's defaults would.
func DefaultBusinessUnit(u *v1alpha1.BusinessUnit) {
	if u.Spec.RoutingPolicy == "" {
		u.Spec.RoutingPolicy = v1alpha1.RoutingLeastLoaded
	}
	if u.Spec.OfflineMessages == nil {
		u.Spec.OfflineMessages = ptr.To(true)
	}
	if u.Spec.InactivityThreshold == nil {
		u.Spec.InactivityThreshold = &metav1.Duration{Duration: 5 * time.Minute}
	}
}

// Validate checks what the API server's schema would: required fields, ranges, and that
// every namespaced resource belongs to a tenant of the config.
func (c *Config) Validate() error {
	c.defaults()
	tenants := map[string]bool{}
	for _, t := range c.Tenants {
		if tenants[t.Name] {
			return fmt.Errorf("Tenant %s: declared twice", t.Name)
		}
		tenants[t.Name] = true
		if m := t.Spec.SMTP; m != nil {
			if m.Host == "" || m.Port < 1 || m.Port > 65535 || !strings.Contains(m.From, "@") {
				return fmt.Errorf("Tenant %s: spec.smtp needs a host, a port 1–65535 and a from address", t.Name)
			}
			if ref := m.PasswordSecretRef; ref != nil {
				if _, ok := c.Secrets[t.Name+"/"+ref.Name][ref.Key]; !ok {
					return fmt.Errorf("Tenant %s: spec.smtp.passwordSecretRef names key %q of Secret %s/%s, which this configuration does not hold", t.Name, ref.Key, t.Name, ref.Name)
				}
			}
		}
		if _, err := WidgetOrigins(&t); err != nil {
			return fmt.Errorf("Tenant %s: %w", t.Name, err)
		}
		if err := checkLimits(t.Spec.Limits); err != nil {
			return fmt.Errorf("Tenant %s: %w", t.Name, err)
		}
		switch t.Spec.Isolation {
		case v1alpha1.IsolationPooled:
		case v1alpha1.IsolationDedicated:
			return fmt.Errorf("Tenant %s: spec.isolation Dedicated needs the operator (its own database and Deployment); here every tenant is Pooled", t.Name)
		default:
			return fmt.Errorf("Tenant %s: spec.isolation %q must be Pooled or Dedicated", t.Name, t.Spec.Isolation)
		}
	}
	units := map[string]bool{}
	for _, u := range c.BusinessUnits {
		if !tenants[u.Namespace] {
			return fmt.Errorf("BusinessUnit %s: metadata.namespace %q is not the namespace of a Tenant in this configuration", u.Name, u.Namespace)
		}
		if _, err := UnitHours(&u); err != nil {
			return fmt.Errorf("BusinessUnit %s: %w", u.Name, err)
		}
		if d := u.Spec.InactivityThreshold.Duration; d < 10*time.Second || d > 24*time.Hour {
			return fmt.Errorf("BusinessUnit %s: spec.inactivityThreshold %s must be between 10s and 24h", u.Name, d)
		}
		seen := map[string]bool{}
		for i, s := range u.Spec.Supervisors {
			if s.Name == "" {
				return fmt.Errorf("BusinessUnit %s: spec.supervisors[%d].name is required", u.Name, i)
			}
			if seen[s.Name] {
				return fmt.Errorf("BusinessUnit %s: spec.supervisors names %q twice", u.Name, s.Name)
			}
			seen[s.Name] = true
			for _, p := range s.Permissions {
				switch p {
				case v1alpha1.PermissionSupervise, v1alpha1.PermissionSuperviseOpenChats, v1alpha1.PermissionAllChats:
				default:
					return fmt.Errorf("BusinessUnit %s: spec.supervisors[%d].permissions: %q is not one of %s, %s, %s",
						u.Name, i, p, store.PermSupervise, store.PermSuperviseOpenChats, store.PermAllChats)
				}
			}
		}
		units[u.Namespace+"/"+u.Name] = true
	}
	for _, o := range c.Objectives {
		if !tenants[o.Namespace] {
			return fmt.Errorf("ProductivityObjective %s: metadata.namespace %q is not the namespace of a Tenant in this configuration", o.Name, o.Namespace)
		}
		if u := o.Spec.Scope.BusinessUnit; u != "" && !units[o.Namespace+"/"+u] {
			return fmt.Errorf("ProductivityObjective %s: spec.scope.businessUnit %q is not a BusinessUnit of namespace %s", o.Name, u, o.Namespace)
		}
		if _, err := ObjectiveRow(&o); err != nil {
			return fmt.Errorf("ProductivityObjective %s: %w", o.Name, err)
		}
	}
	for _, a := range c.AgentCapacities {
		name := a.Name
		if !tenants[a.Namespace] {
			return fmt.Errorf("AgentCapacity %s: metadata.namespace %q is not the namespace of a Tenant in this configuration", name, a.Namespace)
		}
		if a.Spec.Agent == "" {
			return fmt.Errorf("AgentCapacity %s: spec.agent is required", name)
		}
		if a.Spec.MaxConversations < 1 || a.Spec.MaxConversations > 50 {
			return fmt.Errorf("AgentCapacity %s: spec.maxConversations %d must be between 1 and 50", name, a.Spec.MaxConversations)
		}
		if len(a.Spec.BusinessUnits) == 0 {
			return fmt.Errorf("AgentCapacity %s: spec.businessUnits must name at least one business unit", name)
		}
		for _, u := range a.Spec.BusinessUnits {
			if !units[a.Namespace+"/"+u] {
				return fmt.Errorf("AgentCapacity %s: spec.businessUnits names %q, which is not a BusinessUnit of namespace %s", name, u, a.Namespace)
			}
		}
	}
	return nil
}

// checkLimits checks spec.limits as the CRD's schema does: each limit set is 1–1,000,000.
func checkLimits(l *v1alpha1.TenantLimits) error {
	// Read by their JSON names, the names spec.limits has; unset limits are left out.
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	var set map[string]int64
	if err := json.Unmarshal(b, &set); err != nil {
		return err
	}
	for name, v := range set {
		if v < 1 || v > 1_000_000 {
			return fmt.Errorf("spec.limits.%s %d must be between 1 and 1000000", name, v)
		}
	}
	return nil
}

// splitDocuments splits a YAML stream on "---" lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes())
}

// Applied describes a tenant after Apply.
type Applied struct {
	Name      string
	ID        uuid.UUID
	WidgetKey string
	// Units are the names of the tenant's business units.
	Units []string
	// Agents and Supervisors are the usernames of the tenant's people.
	Agents      []string
	Supervisors []string
	// DisplayNames are the people's names for others, by username, where declared.
	DisplayNames map[string]string
}

// Apply writes the configuration in one transaction on a schema-owner connection, through
// the same functions the operator's controllers use. It is idempotent: applying the same
// configuration twice changes nothing.
func Apply(ctx context.Context, conn *pgx.Conn, c *Config) ([]Applied, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var out []Applied
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		out = nil
		for _, t := range c.Tenants {
			var password string
			if m := t.Spec.SMTP; m != nil && m.PasswordSecretRef != nil {
				password = string(c.Secrets[t.Name+"/"+m.PasswordSecretRef.Name][m.PasswordSecretRef.Key])
			}
			id, key, err := ApplyTenant(ctx, tx, &t, password)
			if err != nil {
				return err
			}
			a := Applied{Name: t.Name, ID: id, WidgetKey: key, DisplayNames: map[string]string{}}
			for _, u := range c.BusinessUnits {
				if u.Namespace != t.Name {
					continue
				}
				if err := ApplyBusinessUnit(ctx, tx, id, &u); err != nil {
					return err
				}
				a.Units = append(a.Units, u.Name)
				for _, s := range u.Spec.Supervisors {
					a.Supervisors = appendUnique(a.Supervisors, s.Name)
					if s.DisplayName != "" {
						a.DisplayNames[s.Name] = s.DisplayName
					}
				}
			}
			for _, ac := range c.AgentCapacities {
				if ac.Namespace != t.Name {
					continue
				}
				if err := ApplyAgentCapacity(ctx, tx, id, &ac); err != nil {
					return err
				}
				a.Agents = appendUnique(a.Agents, ac.Spec.Agent)
				if ac.Spec.DisplayName != "" {
					a.DisplayNames[ac.Spec.Agent] = ac.Spec.DisplayName
				}
			}
			for _, o := range c.Objectives {
				if o.Namespace != t.Name {
					continue
				}
				if err := ApplyObjective(ctx, tx, id, &o); err != nil {
					return err
				}
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// ErrNoTenant is returned when a configuration declares no tenant.
var ErrNoTenant = errors.New("the configuration declares no Tenant")

// DemoAccounts gives every agent and supervisor of the applied tenants a local account
// with the given password, plus an "admin" account, for `switchboard dev`. Existing
// accounts keep their password.
func DemoAccounts(ctx context.Context, conn *pgx.Conn, applied []Applied, passwordHash string) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, a := range applied {
			accounts := []store.AccountConfig{{Username: "admin", DisplayName: "Tenant admin", Role: store.RoleAdmin, PasswordHash: passwordHash}}
			for _, name := range a.Agents {
				accounts = append(accounts, store.AccountConfig{Username: name, DisplayName: a.displayName(name), Role: store.RoleAgent, AgentName: name, PasswordHash: passwordHash})
			}
			for _, name := range a.Supervisors {
				accounts = append(accounts, store.AccountConfig{Username: name, DisplayName: a.displayName(name), Role: store.RoleSupervisor, PasswordHash: passwordHash})
			}
			for _, acct := range accounts {
				if err := store.UpsertAccount(ctx, tx, a.ID, acct, true); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// displayName is the declared name of a person, or the username capitalised.
func (a Applied) displayName(username string) string {
	if n := a.DisplayNames[username]; n != "" {
		return n
	}
	if username == "" {
		return ""
	}
	return strings.ToUpper(username[:1]) + username[1:]
}
