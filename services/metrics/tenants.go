package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// tenantSeries remembers which tenants have series in some vectors, so that the series of
// a tenant that is gone (deleted, or no longer opted in) can be dropped from all of them.
type tenantSeries struct {
	vecs []interface {
		DeletePartialMatch(prometheus.Labels) int
	}
	mu   sync.Mutex
	seen map[string]bool
}

func newTenantSeries(vecs ...interface {
	DeletePartialMatch(prometheus.Labels) int
}) *tenantSeries {
	return &tenantSeries{vecs: vecs, seen: map[string]bool{}}
}

// saw notes that tenant has series.
func (t *tenantSeries) saw(tenant string) {
	t.mu.Lock()
	t.seen[tenant] = true
	t.mu.Unlock()
}

// keepOnly drops the series of every tenant not in keep, and returns their names.
func (t *tenantSeries) keepOnly(keep map[string]bool) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []string
	for name := range t.seen {
		if keep[name] {
			continue
		}
		for _, v := range t.vecs {
			v.DeletePartialMatch(prometheus.Labels{"tenant": name})
		}
		delete(t.seen, name)
		gone = append(gone, name)
	}
	return gone
}
