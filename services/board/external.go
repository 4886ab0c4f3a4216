package board

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// externalTimeout bounds one query of an external Prometheus.
const externalTimeout = 10 * time.Second

// External is a Prometheus the board reads over its HTTP API.
type External struct {
	host string
	api  promv1.API
}

// NewExternal returns the Prometheus at address (e.g. http://prometheus:9090).
func NewExternal(address string) (*External, error) {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("the Prometheus URL %q is not an http(s) URL", address)
	}
	client, err := api.NewClient(api.Config{Address: address})
	if err != nil {
		return nil, fmt.Errorf("the Prometheus URL %q: %w", address, err)
	}
	return &External{host: u.Host, api: promv1.NewAPI(client)}, nil
}

// Name is the Prometheus' host.
func (x *External) Name() string { return x.host }

// Now is now: Prometheus answers with what it scraped last.
func (x *External) Now() time.Time { return time.Now() }

// Instant evaluates query at one instant.
func (x *External) Instant(ctx context.Context, query string, at time.Time) ([]Series, error) {
	v, _, _, err := x.api.Query(ctx, query, at, promv1.WithTimeout(externalTimeout))
	if err != nil {
		return nil, err
	}
	return fromModel(v)
}

// Range evaluates query from start to end every step.
func (x *External) Range(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	v, _, _, err := x.api.QueryRange(ctx, query, promv1.Range{Start: start, End: end, Step: step}, promv1.WithTimeout(externalTimeout))
	if err != nil {
		return nil, err
	}
	return fromModel(v)
}

func fromModel(v model.Value) ([]Series, error) {
	labelsOf := func(m model.Metric) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[string(k)] = string(v)
		}
		return out
	}
	switch v := v.(type) {
	case model.Vector:
		out := make([]Series, 0, len(v))
		for _, s := range v {
			if s.Histogram != nil {
				continue
			}
			out = append(out, Series{Labels: labelsOf(s.Metric), Points: []Point{{T: s.Timestamp.Time(), V: float64(s.Value)}}})
		}
		return out, nil
	case model.Matrix:
		out := make([]Series, 0, len(v))
		for _, s := range v {
			pts := make([]Point, len(s.Values))
			for i, p := range s.Values {
				pts[i] = Point{T: p.Timestamp.Time(), V: float64(p.Value)}
			}
			out = append(out, Series{Labels: labelsOf(s.Metric), Points: pts})
		}
		return out, nil
	case *model.Scalar:
		return []Series{{Labels: map[string]string{}, Points: []Point{{T: v.Timestamp.Time(), V: float64(v.Value)}}}}, nil
	}
	return nil, fmt.Errorf("unexpected result type %s", v.Type())
}
