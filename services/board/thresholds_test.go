package board_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/services/board"
	"github.com/switchboard-chat/switchboard/services/store"
)

func TestEachGoalRowCarriesItsObjectivesThresholdsInAttainment(t *testing.T) {
	reg := prometheus.NewRegistry()
	attainment := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_objective_attainment_ratio"}, []string{"tenant", "business_unit", "objective", "metric"})
	reg.MustRegister(attainment)
	attainment.WithLabelValues("acme", "sales", "contacts", "contactsPerHour").Set(0.7)
	attainment.WithLabelValues("acme", "sales", "handling", "averageHandlingTime").Set(0.5)
	attainment.WithLabelValues("acme", "sales", "first-response", "firstResponseTime").Set(0.9)
	e, err := board.OpenEmbedded(board.EmbeddedOptions{Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	objectives := []store.ObjectiveConfig{
		{Name: "contacts", Unit: "sales", Metric: "contactsPerHour", Target: 10, Warning: 8, Critical: 5},
		{Name: "handling", Unit: "sales", Metric: "averageHandlingTime", Target: 300, Warning: 600, Critical: 1200},
		{Name: "first-response", Metric: "firstResponseTime", Target: 30, Warning: 60, Critical: 120},
	}
	b := board.Evaluate(context.Background(), e, board.Scope{Tenant: "acme", Objectives: objectives}, time.Hour)
	want := map[string][2]float64{"contacts": {0.8, 0.5}, "handling": {0.5, 0.25}}
	for _, p := range b.Panels {
		if p.Id != "objectives" {
			continue
		}
		if len(p.Series) != 3 {
			t.Fatalf("goal rows %v", p.Series)
		}
		for _, s := range p.Series {
			name := s.Labels["objective"]
			if len(s.Thresholds) != 1 || s.Thresholds[0].Objective != name || !s.Thresholds[0].HigherIsBetter || s.Thresholds[0].Target != 1 {
				t.Fatalf("goal row %s: thresholds %v, want its objective's with target 1, higher is better", name, s.Thresholds)
			}
			th := s.Thresholds[0]
			if w, ok := want[name]; ok {
				if th.Warning == nil || th.Critical == nil || *th.Warning != w[0] || *th.Critical != w[1] {
					t.Errorf("goal row %s: warning %v critical %v, want %v", name, th.Warning, th.Critical, w)
				}
			} else if th.Warning != nil || th.Critical != nil {
				t.Errorf("goal row %s: a share of conversations within target has no warning or critical attainment, got %v", name, th)
			}
		}
		return
	}
	t.Fatal("no goal progress panel")
}
