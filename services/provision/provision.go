// Package provision turns Switchboard's configuration, in the shape of its custom
// resources (Tenant, BusinessUnit, AgentCapacity), into rows in PostgreSQL. The operator
// and `switchboard dev` (which loads config/samples/) both apply configuration through it.
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
	"sigs.k8s.io/yaml"

	"github.com/switchboard-chat/switchboard/services/store"
)

// Group is the API group of Switchboard's resources.
const Group = "supervision.switchboard.dev"

// Kinds of resources.
const (
	KindTenant        = "Tenant"
	KindBusinessUnit  = "BusinessUnit"
	KindAgentCapacity = "AgentCapacity"
)

// Metadata is the part of Kubernetes object metadata the loader reads.
type Metadata struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// TenantSpec is the spec of a Tenant.
type TenantSpec struct {
	DisplayName     string `json:"displayName,omitempty"`
	Isolation       string `json:"isolation,omitempty"`
	ConsoleHost     string `json:"consoleHost,omitempty"`
	Suspend         bool   `json:"suspend,omitempty"`
	DeletionPolicy  string `json:"deletionPolicy,omitempty"`
	PerAgentMetrics bool   `json:"perAgentMetrics,omitempty"`
	SMTP            *SMTP  `json:"smtp,omitempty"`
}

// SMTP is a tenant's outgoing mail relay, for transcripts.
type SMTP struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	From     string `json:"from"`
	Username string `json:"username,omitempty"`
	// Password is inline here; on a cluster the operator reads it from a Secret.
	Password string `json:"password,omitempty"`
}

// Supervisor is a supervisor of a business unit.
type Supervisor struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName,omitempty"`
	Permissions []string `json:"permissions,omitempty"`
}

// BusinessUnitSpec is the spec of a BusinessUnit.
type BusinessUnitSpec struct {
	DisplayName         string       `json:"displayName,omitempty"`
	Supervisors         []Supervisor `json:"supervisors,omitempty"`
	RoutingPolicy       string       `json:"routingPolicy,omitempty"`
	OfflineMessages     *bool        `json:"offlineMessages,omitempty"`
	InactivityThreshold string       `json:"inactivityThreshold,omitempty"`
}

// AgentCapacitySpec is the spec of an AgentCapacity.
type AgentCapacitySpec struct {
	Agent            string   `json:"agent"`
	DisplayName      string   `json:"displayName,omitempty"`
	BusinessUnits    []string `json:"businessUnits"`
	MaxConversations int      `json:"maxConversations"`
	Channels         []string `json:"channels,omitempty"`
}

// Tenant is a Tenant resource.
type Tenant struct {
	Metadata Metadata
	Spec     TenantSpec
}

// BusinessUnit is a BusinessUnit resource.
type BusinessUnit struct {
	Metadata Metadata
	Spec     BusinessUnitSpec
}

// AgentCapacity is an AgentCapacity resource.
type AgentCapacity struct {
	Metadata Metadata
	Spec     AgentCapacitySpec
}

// Config is a set of resources to apply together.
type Config struct {
	Tenants         []Tenant
	BusinessUnits   []BusinessUnit
	AgentCapacities []AgentCapacity
}

type object struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   Metadata        `json:"metadata"`
	Spec       json.RawMessage `json:"spec"`
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

// Parse adds the resources of a multi-document YAML file to the config. Errors name the
// file, the document and the field. Call Validate once every file is parsed.
func (c *Config) Parse(name string, data []byte) error {
	docs := splitDocuments(data)
	for i, doc := range docs {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		where := fmt.Sprintf("%s, document %d", name, i+1)
		var o object
		if err := yaml.UnmarshalStrict(doc, &o, yaml.DisallowUnknownFields); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		group, _, _ := strings.Cut(o.APIVersion, "/")
		if group != Group {
			return fmt.Errorf("%s: apiVersion %q is not of group %s", where, o.APIVersion, Group)
		}
		if o.Metadata.Name == "" {
			return fmt.Errorf("%s: metadata.name is required", where)
		}
		if err := c.add(o); err != nil {
			return fmt.Errorf("%s (%s %s): %w", where, o.Kind, o.Metadata.Name, err)
		}
	}
	return nil
}

func (c *Config) add(o object) error {
	spec := []byte(o.Spec)
	if len(spec) == 0 {
		spec = []byte("{}")
	}
	strict := func(v any) error { return yaml.UnmarshalStrict(spec, v, yaml.DisallowUnknownFields) }
	switch o.Kind {
	case KindTenant:
		t := Tenant{Metadata: o.Metadata}
		if err := strict(&t.Spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		c.Tenants = append(c.Tenants, t)
	case KindBusinessUnit:
		u := BusinessUnit{Metadata: o.Metadata}
		if err := strict(&u.Spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		c.BusinessUnits = append(c.BusinessUnits, u)
	case KindAgentCapacity:
		a := AgentCapacity{Metadata: o.Metadata}
		if err := strict(&a.Spec); err != nil {
			return fmt.Errorf("spec: %w", err)
		}
		c.AgentCapacities = append(c.AgentCapacities, a)
	default:
		return fmt.Errorf("kind %q is not one of %s, %s, %s", o.Kind, KindTenant, KindBusinessUnit, KindAgentCapacity)
	}
	return nil
}

// Validate checks what the API server's schema would: required fields, ranges, and that
// every namespaced resource belongs to a tenant of the config.
func (c *Config) Validate() error {
	tenants := map[string]bool{}
	for _, t := range c.Tenants {
		if tenants[t.Metadata.Name] {
			return fmt.Errorf("Tenant %s: declared twice", t.Metadata.Name)
		}
		tenants[t.Metadata.Name] = true
		if m := t.Spec.SMTP; m != nil {
			if m.Host == "" || m.Port < 1 || m.Port > 65535 || !strings.Contains(m.From, "@") {
				return fmt.Errorf("Tenant %s: spec.smtp needs a host, a port 1–65535 and a from address", t.Metadata.Name)
			}
		}
		switch t.Spec.Isolation {
		case "", "Pooled", "Dedicated":
		default:
			return fmt.Errorf("Tenant %s: spec.isolation %q must be Pooled or Dedicated", t.Metadata.Name, t.Spec.Isolation)
		}
	}
	units := map[string]bool{}
	for _, u := range c.BusinessUnits {
		if !tenants[u.Metadata.Namespace] {
			return fmt.Errorf("BusinessUnit %s: metadata.namespace %q is not the namespace of a Tenant in this configuration", u.Metadata.Name, u.Metadata.Namespace)
		}
		if u.Spec.InactivityThreshold != "" {
			d, err := time.ParseDuration(u.Spec.InactivityThreshold)
			if err != nil || d < time.Second {
				return fmt.Errorf("BusinessUnit %s: spec.inactivityThreshold %q must be a duration of at least 1s, like 5m", u.Metadata.Name, u.Spec.InactivityThreshold)
			}
		}
		seen := map[string]bool{}
		for i, s := range u.Spec.Supervisors {
			if s.Name == "" {
				return fmt.Errorf("BusinessUnit %s: spec.supervisors[%d].name is required", u.Metadata.Name, i)
			}
			if seen[s.Name] {
				return fmt.Errorf("BusinessUnit %s: spec.supervisors names %q twice", u.Metadata.Name, s.Name)
			}
			seen[s.Name] = true
			for _, p := range s.Permissions {
				switch p {
				case store.PermSupervise, store.PermSuperviseOpenChats, store.PermAllChats:
				default:
					return fmt.Errorf("BusinessUnit %s: spec.supervisors[%d].permissions: %q is not one of %s, %s, %s",
						u.Metadata.Name, i, p, store.PermSupervise, store.PermSuperviseOpenChats, store.PermAllChats)
				}
			}
		}
		units[u.Metadata.Namespace+"/"+u.Metadata.Name] = true
	}
	for _, a := range c.AgentCapacities {
		name := a.Metadata.Name
		if !tenants[a.Metadata.Namespace] {
			return fmt.Errorf("AgentCapacity %s: metadata.namespace %q is not the namespace of a Tenant in this configuration", name, a.Metadata.Namespace)
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
			if !units[a.Metadata.Namespace+"/"+u] {
				return fmt.Errorf("AgentCapacity %s: spec.businessUnits names %q, which is not a BusinessUnit of namespace %s", name, u, a.Metadata.Namespace)
			}
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

// Apply writes the configuration in one transaction on a schema-owner connection. It is
// idempotent: applying the same configuration twice changes nothing.
func Apply(ctx context.Context, conn *pgx.Conn, c *Config) ([]Applied, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var out []Applied
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		out = nil
		for _, t := range c.Tenants {
			id, key, err := store.UpsertTenant(ctx, tx, store.TenantConfig{Name: t.Metadata.Name, DisplayName: t.Spec.DisplayName, Suspended: t.Spec.Suspend})
			if err != nil {
				return err
			}
			a := Applied{Name: t.Metadata.Name, ID: id, WidgetKey: key, DisplayNames: map[string]string{}}
			var relay *store.SMTPConfig
			if m := t.Spec.SMTP; m != nil {
				relay = &store.SMTPConfig{Host: m.Host, Port: m.Port, From: m.From, Username: m.Username, Password: m.Password}
			}
			if err := store.SetSMTP(ctx, tx, id, relay); err != nil {
				return err
			}
			for _, u := range c.BusinessUnits {
				if u.Metadata.Namespace != t.Metadata.Name {
					continue
				}
				offline := u.Spec.OfflineMessages == nil || *u.Spec.OfflineMessages
				inactivity := 300
				if u.Spec.InactivityThreshold != "" {
					d, _ := time.ParseDuration(u.Spec.InactivityThreshold)
					inactivity = int(d.Seconds())
				}
				unitID, err := store.UpsertUnit(ctx, tx, id, store.UnitConfig{Name: u.Metadata.Name, DisplayName: u.Spec.DisplayName,
					AcceptsOfflineMessages: offline, InactivitySeconds: inactivity})
				if err != nil {
					return err
				}
				perms := map[string][]string{}
				for _, s := range u.Spec.Supervisors {
					perms[s.Name] = s.Permissions
				}
				if err := store.SetSupervisors(ctx, tx, id, unitID, perms); err != nil {
					return err
				}
				a.Units = append(a.Units, u.Metadata.Name)
				for _, s := range u.Spec.Supervisors {
					a.Supervisors = appendUnique(a.Supervisors, s.Name)
					if s.DisplayName != "" {
						a.DisplayNames[s.Name] = s.DisplayName
					}
				}
			}
			for _, ac := range c.AgentCapacities {
				if ac.Metadata.Namespace != t.Metadata.Name {
					continue
				}
				if _, err := store.UpsertAgent(ctx, tx, id, store.AgentConfig{Name: ac.Spec.Agent, DisplayName: ac.Spec.DisplayName,
					Capacity: ac.Spec.MaxConversations, BusinessUnits: ac.Spec.BusinessUnits}); err != nil {
					return err
				}
				a.Agents = appendUnique(a.Agents, ac.Spec.Agent)
				if ac.Spec.DisplayName != "" {
					a.DisplayNames[ac.Spec.Agent] = ac.Spec.DisplayName
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
