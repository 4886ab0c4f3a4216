// Package rules turns a tenant's ProductivityObjectives into Prometheus recording and
// alerting rules over the metrics `serve` exports. One generator feeds both the
// PrometheusRule the operator writes and the rule file `promtool` checks and tests, so what
// is tested is what is deployed.
//
// Aggregate goals (contactsPerHour, averageHandlingTime, satisfaction, conversionRate) are
// recorded over the objective's window and alert when they pass the warning or critical
// threshold. Time goals with a percent are service level objectives: their error budget is
// 1 − percent/100 of the observations classified by the signals service, and they alert on
// how fast it burns, over two windows at once (see burnTiers). Time goals without a percent
// alert on the median over the window; their per-conversation signals are raised live by the
// signals service, not here.
package rules

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/provision"
)

// Set is a tenant's rules and the objectives that could not be expressed as rules.
type Set struct {
	// Groups holds one group: recording rules first, so that the alerts of the same
	// evaluation read the values just recorded.
	Groups []monitoringv1.RuleGroup
	// Skipped are the objectives left out, with the reason, sorted by name.
	Skipped []Skipped
}

// Skipped is an objective the rules leave out.
type Skipped struct {
	Objective string
	Reason    string
}

// Spec is the PrometheusRule's spec.
func (s Set) Spec() monitoringv1.PrometheusRuleSpec {
	return monitoringv1.PrometheusRuleSpec{Groups: s.Groups}
}

// File is the rule file Prometheus and promtool read: the same groups as the spec.
func (s Set) File() ([]byte, error) {
	return yaml.Marshal(s.Spec())
}

// Rule labels and values.
const (
	// valueAnnotation and the threshold annotation carry the alert's numbers in base units
	// (seconds, ratios), which the signals service's Alertmanager webhook stores with the
	// signal it raises from the alert.
	valueAnnotation = `{{ printf "%.6g" $value }}`

	// SeverityWarning and SeverityCritical are the alerts' severity labels, the levels of
	// the signals they become.
	SeverityWarning  = "warning"
	SeverityCritical = "critical"

	// forAggregate is how long an aggregate stays past a threshold before it alerts: the
	// values are already averaged over the objective's window, this only rides out a
	// scrape that lands between two conversations' closes.
	forAggregate = 5 * time.Minute
)

// GroupName is the name of a tenant's rule group.
func GroupName(tenant string) string { return "switchboard.objectives." + tenant }

// Generate returns the rules of tenant's objectives. Objectives being deleted are left out
// by the caller. Of the objectives with an agent selector, only percent goals get rules (the
// burn-rate alerts, from the observations the signals service counts per objective); the
// others are skipped, because `serve` exports no series by AgentCapacity labels (per-agent
// series, where a tenant opts in, are labelled by agent only).
func Generate(tenant string, objectives []v1alpha1.ProductivityObjective) Set {
	g := &generator{tenant: tenant, recorded: map[string]bool{}}
	objectives = slices.Clone(objectives)
	slices.SortFunc(objectives, func(a, b v1alpha1.ProductivityObjective) int { return cmp.Compare(a.Name, b.Name) })
	var set Set
	for i := range objectives {
		o := &objectives[i]
		if o.Spec.Scope.AgentSelector != nil && (o.Spec.Percent == nil || histogram[o.Spec.Metric] == "") {
			set.Skipped = append(set.Skipped, Skipped{o.Name, "spec.scope.agentSelector picks agents by AgentCapacity labels, " +
				"and Prometheus has no series by those labels; only a percent goal over first response, response or handling " +
				"time is followed for some agents (through the observations the signals service counts per objective). " +
				"This one is followed in its status and on the board"})
			continue
		}
		row, err := provision.ObjectiveRow(o)
		if err != nil {
			set.Skipped = append(set.Skipped, Skipped{o.Name, err.Error()})
			continue
		}
		g.objective(o, row.Target, row.Warning, row.Critical, row.Window)
	}
	if len(g.records)+len(g.alerts) > 0 {
		set.Groups = []monitoringv1.RuleGroup{{Name: GroupName(tenant), Rules: append(g.records, g.alerts...)}}
	}
	return set
}

type generator struct {
	tenant   string
	records  []monitoringv1.Rule
	alerts   []monitoringv1.Rule
	recorded map[string]bool
}

// level is what a recorded series is aggregated to: the tenant, or each of its units.
type level struct {
	name string
	by   string
}

var (
	tenantLevel = level{"tenant", "tenant"}
	unitLevel   = level{"tenant_business_unit", "tenant, business_unit"}
)

// scope is an objective's level and the selector of its alerts. Values are recorded for
// every unit of the tenant at once (dashboards use them too); alerts pick the unit.
func (g *generator) scope(o *v1alpha1.ProductivityObjective) (level, string) {
	if u := o.Spec.Scope.BusinessUnit; u != "" {
		return unitLevel, selector(g.tenant, "business_unit", u)
	}
	return tenantLevel, selector(g.tenant)
}

// record adds a recording rule once and returns its name. Rules recorded for one objective
// carry its name as a label, which keeps their series apart.
func (g *generator) record(name, expr string, labels map[string]string) string {
	key := name + "\x00" + labels["objective"]
	if !g.recorded[key] {
		g.recorded[key] = true
		g.records = append(g.records, monitoringv1.Rule{Record: name, Expr: intstr.FromString(expr), Labels: labels})
	}
	return name
}

// histogram is the histogram `serve` exports for a time metric.
var histogram = map[v1alpha1.Metric]string{
	v1alpha1.MetricFirstResponseTime: "switchboard_first_response_seconds",
	v1alpha1.MetricResponseTime:      "switchboard_response_seconds",
	v1alpha1.MetricHandlingDuration:  "switchboard_handling_duration_seconds",
}

// what a supervisor reads for each metric.
var metricText = map[v1alpha1.Metric]struct{ name, observed string }{
	v1alpha1.MetricFirstResponseTime:   {"First response time", "first responses"},
	v1alpha1.MetricResponseTime:        {"Response time", "replies"},
	v1alpha1.MetricHandlingDuration:    {"Handling duration", "conversations"},
	v1alpha1.MetricContactsPerHour:     {"Contacts per agent-hour", ""},
	v1alpha1.MetricAverageHandlingTime: {"Average handling time", ""},
	v1alpha1.MetricSatisfaction:        {"Satisfaction", ""},
	v1alpha1.MetricConversionRate:      {"Conversion rate", ""},
}

func (g *generator) objective(o *v1alpha1.ProductivityObjective, target, warning, critical float64, window time.Duration) {
	lvl, sel := g.scope(o)
	ts := selector(g.tenant)
	w := promDuration(window)
	handled := fmt.Sprintf(`sum by (%s) (increase(switchboard_handling_duration_seconds_count%s[%s]))`, lvl.by, ts, w)
	switch o.Spec.Metric {
	case v1alpha1.MetricContactsPerHour:
		working := g.record(lvl.name+":switchboard_agents_working:sum",
			fmt.Sprintf(`sum by (%s) (switchboard_agents%s)`, lvl.by, selector(g.tenant, "status", "available|busy")), nil)
		// Nothing is recorded while nobody works, so a closed unit does not alert at night.
		name := g.record(lvl.name+":switchboard_contacts_per_agent_hour:rate"+w,
			fmt.Sprintf(`%s / %s / (avg_over_time(%s%s[%s]) > 0)`, handled, num(window.Hours()), working, ts, w), nil)
		g.thresholds(o, name, sel, "Low", "<", target, warning, critical, `printf "%.1f"`, num)
	case v1alpha1.MetricAverageHandlingTime:
		name := g.record(lvl.name+":switchboard_handling_duration_seconds:mean"+w,
			fmt.Sprintf(`sum by (%s) (increase(switchboard_handling_duration_seconds_sum%s[%s])) / (%s > 0)`, lvl.by, ts, w, handled), nil)
		g.thresholds(o, name, sel, "High", ">", target, warning, critical, "humanizeDuration", seconds)
	case v1alpha1.MetricSatisfaction:
		rated := fmt.Sprintf(`sum by (%s) (increase(switchboard_ratings_total%s[%s]))`, lvl.by, ts, w)
		satisfied := fmt.Sprintf(`sum by (%s) (increase(switchboard_ratings_total%s[%s]))`, lvl.by, selector(g.tenant, "value", "thumb_up|csat_4|csat_5"), w)
		// "or … * 0": a window of unsatisfied ratings only is 0%, not no value.
		name := g.record(lvl.name+":switchboard_satisfaction:ratio"+w,
			fmt.Sprintf(`(%s or %s * 0) / (%s > 0)`, satisfied, rated, rated), nil)
		g.thresholds(o, name, sel, "Low", "<", target/100, warning/100, critical/100, "humanizePercentage", percent)
	case v1alpha1.MetricConversionRate:
		converted := fmt.Sprintf(`sum by (%s) (increase(switchboard_conversions_total%s[%s]))`, lvl.by, ts, w)
		name := g.record(lvl.name+":switchboard_conversion:ratio"+w,
			fmt.Sprintf(`(%s or %s * 0) / (%s > 0)`, converted, handled, handled), nil)
		g.thresholds(o, name, sel, "Low", "<", target/100, warning/100, critical/100, "humanizePercentage", percent)
	case v1alpha1.MetricFirstResponseTime, v1alpha1.MetricResponseTime, v1alpha1.MetricHandlingDuration:
		if o.Spec.Scope.AgentSelector != nil {
			// The histograms are not per agent; the observations are per objective.
			g.burnRate(o, target, window)
			return
		}
		q := 0.5
		if o.Spec.Percent != nil {
			q = float64(*o.Spec.Percent) / 100
		}
		name := g.record(fmt.Sprintf("%s:%s:p%s_rate%s", lvl.name, histogram[o.Spec.Metric], num(q*100), w),
			fmt.Sprintf(`histogram_quantile(%s, sum by (%s, le) (rate(%s_bucket%s[%s])))`, num(q), lvl.by, histogram[o.Spec.Metric], ts, w), nil)
		if o.Spec.Percent == nil {
			g.thresholds(o, name, sel, "High", ">", target, warning, critical, "humanizeDuration", seconds)
			return
		}
		g.burnRate(o, target, window)
	}
}

// thresholds adds a warning and a critical alert on a recorded value; op is how a value
// passes a threshold ("<" when higher is better). Both fire past critical: Alertmanager's
// usual inhibition of warning by critical keeps one notification.
func (g *generator) thresholds(o *v1alpha1.ProductivityObjective, recorded, sel, suffix, op string, target, warning, critical float64, humanize string, format func(float64) string) {
	text := metricText[o.Spec.Metric]
	alert := "Switchboard" + upperFirst(string(o.Spec.Metric)) + suffix
	what := strings.ToLower(text.name[:1]) + text.name[1:]
	if histogram[o.Spec.Metric] != "" {
		what = "median " + what
	}
	direction := "below"
	if op == ">" {
		direction = "above"
	}
	for _, t := range []struct {
		severity  string
		threshold float64
	}{{SeverityWarning, warning}, {SeverityCritical, critical}} {
		g.alerts = append(g.alerts, monitoringv1.Rule{
			Alert:  alert,
			Expr:   intstr.FromString(fmt.Sprintf("%s%s %s %s", recorded, sel, op, num(t.threshold))),
			For:    ptr.To(monitoringv1.Duration(promDuration(forAggregate))),
			Labels: g.labels(o, t.severity),
			Annotations: map[string]string{
				"value":     valueAnnotation,
				"threshold": num(t.threshold),
				"summary":   fmt.Sprintf("%s %s %s in %s (objective %s)", text.name, direction, format(t.threshold), g.where(o), o.Name),
				"description": fmt.Sprintf("The %s over the last %s is {{ $value | %s }}. Objective %s aims for %s; it warns %s %s and is critical %s %s.",
					what, promDuration(windowOf(o)), humanize, o.Name, format(target), direction, format(warning), direction, format(critical)),
			},
		})
	}
}

// burnTier is one multi-window burn-rate alert: it fires when the share of missed
// observations over both the long and the short window is factor times the error budget.
type burnTier struct {
	severity    string
	long, short time.Duration
	factor      float64
}

// Windows below these cannot be measured from counters scraped every 15–30s.
const (
	minLongWindow  = 5 * time.Minute
	minShortWindow = time.Minute
)

// burnTiers scales the Google SRE workbook's multi-window, multi-burn-rate alerts (Sloth's
// and Pyrra's defaults) from a 30-day period to the objective's window: page (critical) at
// 14.4× the sustainable burn rate over window/720 and 6× over window/120, ticket (warning)
// at 3× over window/30 and 1× over window/10, each confirmed by a short window of 1/12 of
// the long one, so the alert clears soon after things recover. For a 30-day window that is
// 1h/5m, 6h/30m, 1d/2h and 3d/6h. The windows of short objectives (the default is 1h) would
// be seconds long, which counters scraped every 15–30s cannot measure, so they are raised
// to at least 5m (long) and 1m (short): the factors keep their meaning ("misses arrive N
// times faster than the objective allows") and detection takes those few minutes. A tier
// whose threshold is above 100% of observations could never fire and is left out (14.4×
// of a 10% budget), and of tiers of one severity with the same windows the lowest factor,
// which fires first, is kept.
func burnTiers(window time.Duration, budget float64) []burnTier {
	reference := []struct {
		severity string
		slice    float64 // the long window is window/slice
		factor   float64
	}{
		{SeverityCritical, 720, 14.4},
		{SeverityCritical, 120, 6},
		{SeverityWarning, 30, 3},
		{SeverityWarning, 10, 1},
	}
	var tiers []burnTier
	for _, r := range reference {
		long := max(roundWindow(time.Duration(float64(window)/r.slice)), minLongWindow)
		short := max(roundWindow(long/12), minShortWindow)
		if long > window || r.factor*budget > 1 {
			continue
		}
		if n := len(tiers); n > 0 && tiers[n-1].severity == r.severity && tiers[n-1].long == long && tiers[n-1].short == short {
			tiers[n-1].factor = min(tiers[n-1].factor, r.factor)
			continue
		}
		tiers = append(tiers, burnTier{r.severity, long, short, r.factor})
	}
	return tiers
}

// roundWindow rounds to whole minutes, as written in rule names.
func roundWindow(d time.Duration) time.Duration { return d.Round(time.Minute) }

// burnRate adds the error ratio of a percent objective over the windows its tiers use and
// one alert per tier.
func (g *generator) burnRate(o *v1alpha1.ProductivityObjective, target float64, window time.Duration) {
	pct := float64(*o.Spec.Percent)
	budget := 1 - pct/100
	by := "tenant, objective"
	matchers := []string{"objective", o.Name}
	if u := o.Spec.Scope.BusinessUnit; u != "" {
		by = "tenant, business_unit, objective"
		matchers = append(matchers, "business_unit", u)
	}
	sel := selector(g.tenant, matchers...)
	ratio := func(w time.Duration) string {
		all := fmt.Sprintf(`sum by (%s) (rate(switchboard_objective_observations_total%s[%s]))`, by, sel, promDuration(w))
		missed := fmt.Sprintf(`sum by (%s) (rate(switchboard_objective_observations_total%s[%s]))`, by, withMatcher(sel, "outcome", "missed"), promDuration(w))
		return g.record("tenant_objective:switchboard_objective_misses:ratio_rate"+promDuration(w),
			fmt.Sprintf(`(%s or %s * 0) / %s`, missed, all, all), map[string]string{"objective": o.Name})
	}
	text := metricText[o.Spec.Metric]
	for _, t := range burnTiers(window, budget) {
		long, short := ratio(t.long), ratio(t.short)
		threshold := num(t.factor * budget)
		labels := g.labels(o, t.severity)
		labels["long_window"], labels["short_window"] = promDuration(t.long), promDuration(t.short)
		spentIn := time.Duration(float64(window) / t.factor).Round(time.Minute)
		g.alerts = append(g.alerts, monitoringv1.Rule{
			Alert:  "SwitchboardObjectiveBudgetBurn",
			Expr:   intstr.FromString(fmt.Sprintf("%s%s > %s and %s%s > %s", long, sel, threshold, short, sel, threshold)),
			Labels: labels,
			Annotations: map[string]string{
				"value":     valueAnnotation,
				"threshold": threshold,
				"summary": fmt.Sprintf("%s in %s: objective %s (%s%% within %s) is burning its error budget at %s× the rate it allows",
					text.name, g.where(o), o.Name, num(pct), seconds(target), num(t.factor)),
				"description": fmt.Sprintf("{{ $value | humanizePercentage }} of %s over the last %s (and over the last %s) missed the %s target; "+
					"objective %s allows %s over %s. At this pace its error budget for %s is spent in %s.",
					text.observed, promDuration(t.long), promDuration(t.short), seconds(target), o.Name, percent(budget), promDuration(window), promDuration(window), promDuration(max(spentIn, time.Minute))),
			},
		})
	}
}

// labels of an objective's alerts; tenant is the generator's, never taken from a selector.
func (g *generator) labels(o *v1alpha1.ProductivityObjective, severity string) map[string]string {
	l := map[string]string{"tenant": g.tenant, "objective": o.Name, "metric": string(o.Spec.Metric), "severity": severity}
	if u := o.Spec.Scope.BusinessUnit; u != "" {
		l["business_unit"] = u
	}
	return l
}

// where says whom an objective covers. Label selectors allow no "{{", so they are safe in
// annotations, which Prometheus reads as templates.
func (g *generator) where(o *v1alpha1.ProductivityObjective) string {
	w := "tenant " + g.tenant
	if u := o.Spec.Scope.BusinessUnit; u != "" {
		w = fmt.Sprintf("business unit %s of tenant %s", u, g.tenant)
	}
	if sel := o.Spec.Scope.AgentSelector; sel != nil {
		w += fmt.Sprintf(" (agents %s)", metav1.FormatLabelSelector(sel))
	}
	return w
}

func windowOf(o *v1alpha1.ProductivityObjective) time.Duration {
	if o.Spec.Window != nil {
		return o.Spec.Window.Duration
	}
	return time.Hour
}

// selector is a PromQL label selector with tenant and more name/value pairs; a value with
// "|" is a regular expression of alternatives written by this package, never by a user.
// Values are quoted, so no label value can end the selector.
func selector(tenant string, pairs ...string) string {
	return withMatcher(`{tenant=`+quote(tenant)+`}`, pairs...)
}

func withMatcher(sel string, pairs ...string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(sel, "}"))
	for i := 0; i+1 < len(pairs); i += 2 {
		op := "="
		if strings.Contains(pairs[i+1], "|") {
			op = "=~"
		}
		b.WriteString("," + pairs[i] + op + quote(pairs[i+1]))
	}
	b.WriteString("}")
	return b.String()
}

// quote writes a PromQL string literal; PromQL reads Go's escapes.
func quote(s string) string { return strconv.Quote(s) }

func promDuration(d time.Duration) string { return model.Duration(d).String() }

// num writes a number without float noise (0.6, not 0.6000000000000001).
func num(v float64) string { return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64) }

func seconds(v float64) string { return promDuration(time.Duration(v * float64(time.Second))) }

func percent(v float64) string { return num(v*100) + "%" }

func upperFirst(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
