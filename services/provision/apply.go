package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/store"
)

// The rows of each kind of resource. The operator's controllers and `switchboard dev`
// both write configuration through these, in the caller's transaction.

// ApplyTenant writes a tenant's row, its per-agent metrics opt-in, rate limits, the
// widget's allowed origins and mail relay (with the relay password, read by the caller
// from the Secret the spec names) and returns its id and widget key.
func ApplyTenant(ctx context.Context, tx pgx.Tx, t *v1alpha1.Tenant, smtpPassword string) (uuid.UUID, string, error) {
	id, key, err := store.UpsertTenant(ctx, tx, store.TenantConfig{Name: t.Name, DisplayName: t.Spec.DisplayName, Suspended: t.Spec.Suspend, ConsoleHost: t.Spec.ConsoleHost})
	if err != nil {
		return uuid.Nil, "", err
	}
	var relay *store.SMTPConfig
	if m := t.Spec.SMTP; m != nil {
		relay = &store.SMTPConfig{Host: m.Host, Port: int(m.Port), From: m.From, Username: m.Username, Password: smtpPassword}
		if relay.Port == 0 {
			relay.Port = 587
		}
	}
	if err := store.SetSMTP(ctx, tx, id, relay); err != nil {
		return uuid.Nil, "", err
	}
	if err := store.SetPerAgentMetrics(ctx, tx, id, t.Spec.PerAgentMetrics); err != nil {
		return uuid.Nil, "", err
	}
	origins, err := WidgetOrigins(t)
	if err != nil {
		return uuid.Nil, "", err
	}
	if err := store.SetWidgetOrigins(ctx, tx, id, origins); err != nil {
		return uuid.Nil, "", err
	}
	// The JSON of spec.limits is what the services read (services/limits, the same names).
	limits, err := json.Marshal(t.Spec.Limits)
	if err != nil {
		return uuid.Nil, "", err
	}
	if err := store.SetTenantLimits(ctx, tx, id, limits); err != nil {
		return uuid.Nil, "", err
	}
	return id, key, nil
}

// ErrInvalidSpec wraps what the API server's schema cannot check (a time zone).
var ErrInvalidSpec = errors.New("invalid spec")

// widgetOrigin is the CRD's rule for an entry of spec.widget.allowedOrigins (WidgetOrigin
// in api/v1alpha1), for configuration that never meets the API server (switchboard dev).
var widgetOrigin = regexp.MustCompile(`^https?://([*][.])?[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$`)

// WidgetOrigins reads the origins whose pages may show a tenant's widget; none means every
// site. An entry the CRD would refuse is ErrInvalidSpec, with the CRD's message.
func WidgetOrigins(t *v1alpha1.Tenant) ([]string, error) {
	if t.Spec.Widget == nil {
		return nil, nil
	}
	seen := map[v1alpha1.WidgetOrigin]bool{}
	var out []string
	for i, o := range t.Spec.Widget.AllowedOrigins {
		field := fmt.Sprintf("spec.widget.allowedOrigins[%d]", i)
		s := string(o)
		switch {
		case !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://"):
			return nil, fmt.Errorf("%s %q: %w: an allowed origin starts with https:// (or http://), e.g. https://shop.example.com", field, s, ErrInvalidSpec)
		case strings.ContainsAny(strings.SplitN(s, "://", 2)[1], "/?#"):
			return nil, fmt.Errorf("%s %q: %w: an allowed origin is a scheme, host and port only, without a path, query or trailing slash: https://shop.example.com, not https://shop.example.com/", field, s, ErrInvalidSpec)
		case len(s) > 262 || !widgetOrigin.MatchString(s):
			return nil, fmt.Errorf("%s %q: %w: an allowed origin's host is a lower-case host name, with *. in front for every subdomain, and an optional port: https://shop.example.com, https://*.example.com or http://localhost:3000", field, s, ErrInvalidSpec)
		case seen[o]:
			return nil, fmt.Errorf("%s %q: %w: named twice", field, s, ErrInvalidSpec)
		}
		seen[o] = true
		out = append(out, s)
	}
	if len(out) > 100 {
		return nil, fmt.Errorf("spec.widget.allowedOrigins: %w: at most 100 origins", ErrInvalidSpec)
	}
	return out, nil
}

// UnitHours reads a unit's business hours; ErrInvalidSpec when its time zone is unknown.
func UnitHours(u *v1alpha1.BusinessUnit) (*store.BusinessHours, error) {
	b := u.Spec.BusinessHours
	if b == nil {
		return nil, nil
	}
	h := &store.BusinessHours{TimeZone: b.TimeZone}
	for _, w := range b.Weekly {
		o := store.OpeningHours{Open: w.Open, Close: w.Close}
		for _, d := range w.Days {
			o.Days = append(o.Days, string(d))
		}
		h.Weekly = append(h.Weekly, o)
	}
	if err := h.Check(); err != nil {
		return nil, fmt.Errorf("spec.businessHours: %w: %w", ErrInvalidSpec, err)
	}
	return h, nil
}

// ApplyBusinessUnit writes a unit's row and its supervisors' permissions.
func ApplyBusinessUnit(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, u *v1alpha1.BusinessUnit) error {
	offline := u.Spec.OfflineMessages == nil || *u.Spec.OfflineMessages
	inactivity := 300
	if d := u.Spec.InactivityThreshold; d != nil {
		inactivity = int(d.Seconds())
	}
	hours, err := UnitHours(u)
	if err != nil {
		return err
	}
	id, err := store.UpsertUnit(ctx, tx, tenant, store.UnitConfig{Name: u.Name, DisplayName: u.Spec.DisplayName,
		AcceptsOfflineMessages: offline, InactivitySeconds: inactivity, Hours: hours})
	if err != nil {
		return err
	}
	perms := map[string][]string{}
	for _, s := range u.Spec.Supervisors {
		perms[s.Name] = []string{}
		for _, p := range s.Permissions {
			perms[s.Name] = append(perms[s.Name], string(p))
		}
	}
	return store.SetSupervisors(ctx, tx, tenant, id, perms)
}

// ApplyAgentCapacity writes an agent's capacity and units; store.ErrUnknownUnit when a
// unit it names does not exist.
func ApplyAgentCapacity(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, a *v1alpha1.AgentCapacity) error {
	_, err := store.UpsertAgent(ctx, tx, tenant, store.AgentConfig{Name: a.Spec.Agent, DisplayName: a.Spec.DisplayName,
		Capacity: int(a.Spec.MaxConversations), BusinessUnits: a.Spec.BusinessUnits, Labels: a.Labels})
	return err
}

// ApplyObjective writes an objective's row; store.ErrUnknownUnit when its unit does not exist.
func ApplyObjective(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, o *v1alpha1.ProductivityObjective) error {
	row, err := ObjectiveRow(o)
	if err != nil {
		return err
	}
	return store.UpsertObjective(ctx, tx, tenant, row)
}

// timeMetrics are measured in durations; the others in plain numbers.
var timeMetrics = map[v1alpha1.Metric]bool{
	v1alpha1.MetricFirstResponseTime: true, v1alpha1.MetricResponseTime: true,
	v1alpha1.MetricHandlingDuration: true, v1alpha1.MetricAverageHandlingTime: true,
}

// ObjectiveRow converts an objective's spec to base units (seconds for durations).
func ObjectiveRow(o *v1alpha1.ProductivityObjective) (store.ObjectiveConfig, error) {
	parse := func(field, s string) (float64, error) {
		if timeMetrics[o.Spec.Metric] {
			d, err := time.ParseDuration(s)
			if err != nil {
				return 0, fmt.Errorf("spec.%s %q is not a duration like 45s", field, s)
			}
			return d.Seconds(), nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("spec.%s %q is not a number", field, s)
		}
		return v, nil
	}
	row := store.ObjectiveConfig{Name: o.Name, Unit: o.Spec.Scope.BusinessUnit, Metric: string(o.Spec.Metric), Percent: o.Spec.Percent, Window: time.Hour}
	var err error
	if row.Target, err = parse("target", o.Spec.Target); err != nil {
		return row, err
	}
	if row.Warning, err = parse("warning", o.Spec.Warning); err != nil {
		return row, err
	}
	if row.Critical, err = parse("critical", o.Spec.Critical); err != nil {
		return row, err
	}
	if w := o.Spec.Window; w != nil {
		row.Window = w.Duration
	}
	if sel := o.Spec.Scope.AgentSelector; sel != nil {
		if row.AgentSelector, err = json.Marshal(sel); err != nil {
			return row, err
		}
	}
	return row, nil
}
