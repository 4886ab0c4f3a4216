package board

import (
	"cmp"
	"context"
	"math"
	"regexp"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
)

// Source evaluates PromQL: the embedded engine or an external Prometheus.
type Source interface {
	// Name is "embedded" or the external Prometheus' host.
	Name() string
	// Now is the instant a board describes.
	Now() time.Time
	// Instant evaluates query at one instant.
	Instant(ctx context.Context, query string, at time.Time) ([]Series, error)
	// Range evaluates query from start to end every step.
	Range(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error)
}

// Series is one labelled series of a result.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is a value at a time.
type Point struct {
	T time.Time
	V float64
}

// Span bounds of time-series panels.
const (
	DefaultSpan = time.Hour
	MaxSpan     = 24 * time.Hour
	// points is about how many points a time-series panel gets over its span.
	points = 120
)

// Evaluate evaluates every panel within scope at src.Now(), time-series panels over span.
// A panel that fails carries its error; the others are still evaluated.
func Evaluate(ctx context.Context, src Source, scope Scope, span time.Duration) *supervisionv1.Board {
	now := src.Now()
	step := max(time.Second, (span / points).Round(time.Second))
	b := &supervisionv1.Board{EvaluatedAt: timestamppb.New(now), Source: src.Name(), Panels: make([]*supervisionv1.Panel, len(Panels))}
	var wg sync.WaitGroup
	for i, p := range Panels {
		out := &supervisionv1.Panel{
			Id: p.ID, Title: p.Title, Description: p.Description, Kind: p.Kind, Unit: p.Unit, Min: p.Min, Max: p.Max,
			X: p.X, Y: p.Y, Width: p.Width, Height: p.Height, Thresholds: scope.panelThresholds(p),
		}
		b.Panels[i] = out
		wg.Go(func() {
			for _, t := range p.Targets {
				series, err := evaluateTarget(ctx, src, scope, p, t, now, span, step)
				if err != nil {
					out.Series, out.Error = nil, err.Error()
					return
				}
				out.Series = append(out.Series, series...)
			}
		})
	}
	wg.Wait()
	return b
}

func evaluateTarget(ctx context.Context, src Source, scope Scope, p Panel, t Target, now time.Time, span, step time.Duration) ([]*supervisionv1.Series, error) {
	query, err := scope.Apply(t.Expr)
	if err != nil {
		return nil, err
	}
	var result []Series
	if p.Kind == supervisionv1.PanelKind_PANEL_KIND_TIME_SERIES {
		result, err = src.Range(ctx, query, now.Add(-span), now, step)
	} else {
		result, err = src.Instant(ctx, query, now)
	}
	if err != nil {
		return nil, err
	}
	var out []*supervisionv1.Series
	for _, r := range result {
		s := &supervisionv1.Series{Labels: map[string]string{}, Legend: legend(t.Legend, r.Labels)}
		for k, v := range r.Labels {
			if k != TenantLabel {
				s.Labels[k] = v
			}
		}
		for _, pt := range r.Points {
			if !math.IsNaN(pt.V) && !math.IsInf(pt.V, 0) {
				s.Samples = append(s.Samples, &supervisionv1.Sample{Time: timestamppb.New(pt.T), Value: pt.V})
			}
		}
		if p.Goals {
			s.Thresholds = scope.goalThresholds(s.Labels)
		}
		if len(s.Samples) > 0 {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *supervisionv1.Series) int { return cmp.Compare(a.Legend, b.Legend) })
	return out, nil
}

var legendLabel = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// legend writes a series' name from a Grafana legend format.
func legend(format string, labels map[string]string) string {
	if format == "" {
		keys := make([]string, 0, len(labels))
		for k := range labels {
			if k != TenantLabel {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		out := ""
		for i, k := range keys {
			if i > 0 {
				out += ", "
			}
			out += k + "=" + labels[k]
		}
		return out
	}
	return legendLabel.ReplaceAllStringFunc(format, func(m string) string {
		return labels[legendLabel.FindStringSubmatch(m)[1]]
	})
}
