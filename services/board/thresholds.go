package board

import (
	"slices"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/signals"
	"github.com/switchboard-chat/switchboard/services/store"
)

// goalLabel is the label naming a goal progress series' objective.
const goalLabel = "objective"

// panelThresholds are the thresholds of the scope's objectives on the metric p's values
// measure, in p's unit: each unit's own objectives, and the tenant's where a unit in scope
// has none of its own (the most specific objective applies, as for live signals). Objectives
// for some agents are left out: a panel's values are every agent's.
func (s Scope) panelThresholds(p Panel) []*supervisionv1.Threshold {
	if p.Objective == "" {
		return nil
	}
	var tenantWide, ofUnits []*supervisionv1.Threshold
	own := map[string]bool{}
	for _, o := range s.Objectives {
		if o.Metric != p.Objective || hasAgentSelector(o) {
			continue
		}
		t := &supervisionv1.Threshold{
			Objective: o.Name, BusinessUnit: o.Unit, Metric: o.Metric, HigherIsBetter: signals.HigherIsBetter(o.Metric),
			Target: inUnit(o.Target, o.Metric, p.Unit), Warning: ptr(inUnit(o.Warning, o.Metric, p.Unit)), Critical: ptr(inUnit(o.Critical, o.Metric, p.Unit)),
		}
		switch {
		case o.Unit == "":
			tenantWide = append(tenantWide, t)
		case s.Units == nil || slices.Contains(s.Units, o.Unit):
			ofUnits = append(ofUnits, t)
			own[o.Unit] = true
		}
	}
	if s.Units == nil || slices.ContainsFunc(s.Units, func(u string) bool { return !own[u] }) {
		return append(tenantWide, ofUnits...)
	}
	return ofUnits
}

// goalThresholds are the thresholds of a goal progress series' objective, in terms of its
// attainment (0–1): the target is 1, and warning and critical are set where the
// objective's translate (see store.AttainmentThresholds).
func (s Scope) goalThresholds(labels map[string]string) []*supervisionv1.Threshold {
	i := slices.IndexFunc(s.Objectives, func(o store.ObjectiveConfig) bool { return o.Name == labels[goalLabel] })
	if i < 0 {
		return nil
	}
	o := s.Objectives[i]
	t := &supervisionv1.Threshold{Objective: o.Name, BusinessUnit: o.Unit, Metric: o.Metric, HigherIsBetter: true, Target: 1}
	if warning, critical, ok := store.AttainmentThresholds(o); ok {
		t.Warning, t.Critical = &warning, &critical
	}
	return []*supervisionv1.Threshold{t}
}

func hasAgentSelector(o store.ObjectiveConfig) bool {
	return len(o.AgentSelector) > 0 && string(o.AgentSelector) != "null"
}

// inUnit converts an objective's value (base units: seconds, percent, contacts per hour)
// into a panel's unit: percentages become 0–1 on a "percentunit" panel.
func inUnit(v float64, metric, unit string) float64 {
	if unit == "percentunit" && (metric == "satisfaction" || metric == "conversionRate") {
		return v / 100
	}
	return v
}

func ptr(v float64) *float64 { return &v }
