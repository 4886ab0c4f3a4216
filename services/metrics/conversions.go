package metrics

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-chat/switchboard/services/store"
)

// Conversions counts the sales tenants' backends record, once per new order: their number
// and their turnover, per tenant, business unit and currency. Like the recorder's
// families, a deleted tenant's series are dropped at the next scrape.
type Conversions struct {
	db       *store.DB
	count    *prometheus.CounterVec
	turnover *prometheus.CounterVec
	tenants  *tenantSeries
}

// NewConversions returns the conversion counters, registered with reg.
func NewConversions(db *store.DB, reg prometheus.Registerer) *Conversions {
	labels := append(append([]string{}, unitLabels...), "currency")
	c := &Conversions{
		db: db,
		count: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "conversions_total",
			Help: "Sales recorded by tenants' backends (RecordConversion), attributed to a conversation of the business unit; a resent order counts once."}, labels),
		turnover: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "turnover_total",
			Help: "Sum of the amounts of the sales recorded, in the currency's units (e.g. euros), per currency."}, labels),
	}
	c.tenants = newTenantSeries(c.count, c.turnover)
	reg.MustRegister(c)
	return c
}

// Recorded counts a newly recorded sale; amount is its decimal text.
func (c *Conversions) Recorded(tenant, unit, currency, amount string) {
	v, err := strconv.ParseFloat(amount, 64)
	if err != nil {
		return
	}
	c.tenants.saw(tenant)
	c.count.WithLabelValues(tenant, unit, currency).Inc()
	c.turnover.WithLabelValues(tenant, unit, currency).Add(v)
}

// Describe describes the counters.
func (c *Conversions) Describe(ch chan<- *prometheus.Desc) {
	c.count.Describe(ch)
	c.turnover.Describe(ch)
}

// Collect drops the series of tenants that no longer exist, then collects.
func (c *Conversions) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if existing, err := c.db.TenantNames(ctx); err == nil {
		c.tenants.keepOnly(existing)
	}
	c.count.Collect(ch)
	c.turnover.Collect(ch)
}
