package soak

import (
	"fmt"
	"math"
)

// How a run is judged.
//
// The first part of the run (Options.Warmup) is left out: caches fill, the pool and the
// heap grow to their working size. Of the samples after it, the mean of the first fifth
// is the metric's start and the mean of the last fifth its end; a fifth of a 25-minute
// window is 5 minutes, 30 samples at 10s, enough to average out the swing of a garbage
// collector or of the conversations open at one moment. A metric that leaks grows
// between the two by the leak's rate times the 20 minutes between them.
//
// A metric passes when it grew from start to end by no more than its allowance: a share
// of the start level plus a small absolute slack (for metrics whose level is small).
// The shares are what steady load moves a healthy server by on their own — the heap and
// the streams follow the conversations and watches open at the moment, which vary by
// about a tenth from one five-minute stretch to the next — with room to spare; what
// they let through is small (below). And the second half of the window must not climb
// faster than slopeFactor times the rate the allowance permits, measured by a
// least-squares fit: a leak that only begins late shows there first, and the factor
// leaves room for a fit over half the samples being twice as noisy.
//
// The pool and PostgreSQL's backends are not judged on drift: the pool keeps idle
// connections for minutes after a burst, so its level follows the busiest moment so far.
// They must stay bounded: never above the pool's size.
//
// Once the load stops and the server has settled, it must be back at its idle level:
// no stream left, the goroutines within a few of what an idle server runs, no file or
// connection kept but the pool's. This is the sharpest test, as it does not depend on
// the load's ups and downs.
//
// What the allowances let through: at the default pace the load stores about 10
// messages a second, 18,000 in 30 minutes, through about 1,500 conversations and
// several thousand streams. A leak of 1 KB a message, or a goroutine per hundred
// streams, fails; a few bytes per message do not show in 30 minutes.

// growth is a metric's allowance: share of the start level plus slack.
type growth struct {
	share float64
	slack float64
}

func (g growth) allowed(start float64) float64 { return g.share*math.Max(start, 0) + g.slack }

// slopeFactor is how much faster than the allowance's rate the second half may climb.
const slopeFactor = 2

// idleSlack are the allowances of the idle check.
const (
	idleGoroutines = 10 // timers, a collector, a connection closing
	idleFiles      = 3
)

// listeners are the connections the server takes out of its pool to LISTEN.
const listeners = 4

// judgedMetric is one curve the verdict reads.
type judgedMetric struct {
	name, unit string
	value      func(Sample) float64
	// growth judges drift; bound (when set) judges the maximum instead.
	growth growth
	bound  func(o Options) float64
	// info is shown but not judged.
	info bool
}

const (
	unitBytes = "bytes"
	unitCount = "count"
	unitCores = "cores"
	unitRate  = "per second"
)

const mib = 1 << 20

var judgedMetrics = []judgedMetric{
	{name: "live heap (reachable after GC)", unit: unitBytes, value: func(s Sample) float64 { return s.HeapLive }, growth: growth{0.20, 2 * mib}},
	{name: "resident memory (RSS)", unit: unitBytes, value: func(s Sample) float64 { return s.RSS }, growth: growth{0.20, 8 * mib}},
	{name: "goroutines", unit: unitCount, value: func(s Sample) float64 { return s.Goroutines }, growth: growth{0.15, 10}},
	{name: "open file descriptors", unit: unitCount, value: func(s Sample) float64 { return s.OpenFDs }, growth: growth{0.15, 10}},
	{name: "TCP connections of clients", unit: unitCount, value: func(s Sample) float64 { return s.TCPClients }, growth: growth{0.15, 10}},
	{name: "live streams", unit: unitCount, value: func(s Sample) float64 { return s.Streams }, growth: growth{0.20, 5}},
	{name: "pool connections", unit: unitCount, value: func(s Sample) float64 { return s.PoolOpen },
		bound: func(o Options) float64 { return float64(o.MaxConns) }},
	// The pool's connections, the four the server takes out of it for good to LISTEN (the
	// live bridge's, the configuration's, the sessions' and the widgets', which the pool
	// then no longer counts), and one more while the pool replaces one.
	{name: "PostgreSQL backends", unit: unitCount, value: func(s Sample) float64 { return s.Backends },
		bound: func(o Options) float64 { return float64(o.MaxConns) + listeners + 1 }},
	{name: "heap in use", unit: unitBytes, value: func(s Sample) float64 { return s.HeapInuse }, info: true},
	{name: "OS threads", unit: unitCount, value: func(s Sample) float64 { return s.Threads }, info: true},
	{name: "TCP connections to PostgreSQL", unit: unitCount, value: func(s Sample) float64 { return s.TCPPostgres }, info: true},
}

// Metric is the verdict on one curve.
type Metric struct {
	Name string `json:"name"`
	Unit string `json:"unit"`
	// Start and End are the means of the first and last fifth after the warm-up; Max is
	// the highest sample after it.
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Max   float64 `json:"max"`
	// Drift is End - Start.
	Drift float64 `json:"drift"`
	// SlopePerHour is the least-squares slope over the second half, per hour.
	SlopePerHour float64 `json:"slopePerHour"`
	Tolerance    string  `json:"tolerance"`
	// Verdict is PASS, FAIL or INFO (shown, not judged).
	Verdict string `json:"verdict"`
	Why     string `json:"why,omitempty"`
}

// Check is a verdict that is not a curve: the idle level, the load.
type Check struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Verdict string `json:"verdict"`
}

const (
	pass = "PASS"
	fail = "FAIL"
	info = "INFO"
)

// judge fills the report's verdict from its samples.
func judge(rep *Report, o Options) {
	var measured []Sample
	var before, after *Sample
	for i, s := range rep.Samples {
		switch s.Phase {
		case phaseMeasured:
			measured = append(measured, s)
		case phaseIdleBefore:
			before = &rep.Samples[i]
		case phaseIdleAfter:
			after = &rep.Samples[i]
		}
	}
	rep.Flat = true
	failed := func(what string) {
		rep.Flat = false
		rep.Failed = append(rep.Failed, what)
	}
	if len(measured) < minSamples {
		failed(fmt.Sprintf("only %d samples after the warm-up, fewer than %d", len(measured), minSamples))
		return
	}
	fifth := max(len(measured)/5, 1)
	span := (mean(measured[len(measured)-fifth:], elapsed) - mean(measured[:fifth], elapsed)) / 3600
	second := measured[len(measured)/2:]
	for _, jm := range judgedMetrics {
		m := Metric{Name: jm.name, Unit: jm.unit,
			Start: mean(measured[:fifth], jm.value), End: mean(measured[len(measured)-fifth:], jm.value),
			Max: maximum(measured, jm.value), SlopePerHour: slope(second, jm.value) * 3600}
		m.Drift = m.End - m.Start
		switch {
		case jm.info:
			m.Verdict, m.Tolerance = info, "shown, not judged"
		case jm.bound != nil:
			limit := jm.bound(o)
			m.Tolerance = fmt.Sprintf("at most %s", quantity(limit, jm.unit))
			m.Verdict = pass
			if m.Max > limit {
				m.Verdict, m.Why = fail, fmt.Sprintf("reached %s, above %s", quantity(m.Max, jm.unit), quantity(limit, jm.unit))
			}
		default:
			allowed := jm.growth.allowed(m.Start)
			m.Tolerance = fmt.Sprintf("+%.0f%% + %s", jm.growth.share*100, quantity(jm.growth.slack, jm.unit))
			m.Verdict = pass
			switch {
			case m.Drift > allowed:
				m.Verdict, m.Why = fail, fmt.Sprintf("grew %s from start to end, more than the %s allowed", quantity(m.Drift, jm.unit), quantity(allowed, jm.unit))
			case span > 0 && m.SlopePerHour > slopeFactor*allowed/span:
				m.Verdict, m.Why = fail, fmt.Sprintf("climbs %s an hour over the second half, more than %s", quantity(m.SlopePerHour, jm.unit), quantity(slopeFactor*allowed/span, jm.unit))
			}
		}
		if m.Verdict == fail {
			failed(m.Name + ": " + m.Why)
		}
		rep.Metrics = append(rep.Metrics, m)
	}

	check := func(name, value string, ok bool) {
		c := Check{Name: name, Value: value, Verdict: pass}
		if !ok {
			c.Verdict = fail
			failed(name + ": " + value)
		}
		rep.Checks = append(rep.Checks, c)
	}
	if before != nil && after != nil {
		check("streams left open once the load stopped", fmt.Sprintf("%.0f (idle before: %.0f)", after.Streams, before.Streams), after.Streams == 0)
		check("goroutines once the load stopped", fmt.Sprintf("%.0f, idle before %.0f (at most +%d)", after.Goroutines, before.Goroutines, idleGoroutines),
			after.Goroutines <= before.Goroutines+idleGoroutines)
		outside := func(s *Sample) float64 { return s.OpenFDs - s.TCPPostgres }
		check("open files besides PostgreSQL connections once the load stopped", fmt.Sprintf("%.0f, idle before %.0f (at most +%d)", outside(after), outside(before), idleFiles),
			outside(after) <= outside(before)+idleFiles)
		check("TCP connections of clients once the load stopped", fmt.Sprintf("%.0f, idle before %.0f", after.TCPClients, before.TCPClients),
			after.TCPClients <= before.TCPClients+idleFiles)
		rep.Checks = append(rep.Checks, Check{Name: "live heap once the load stopped", Verdict: info,
			Value: fmt.Sprintf("%s, idle before %s", quantity(after.HeapLive, unitBytes), quantity(before.HeapLive, unitBytes))})
	}
	l := rep.Load
	check("calls answered with an unexpected error", fmt.Sprintf("%d of %d", l.Unexpected, l.Calls), l.Unexpected == 0)
	check("load driven", fmt.Sprintf("%d conversations started, %d messages sent, %d streams opened", l.ConversationsStarted, l.MessagesSent, l.StreamsOpened),
		l.ConversationsStarted > 0 && l.MessagesSent > 0 && l.StreamsOpened > 0)
	first, last := rate(measured[:fifth], sent), rate(measured[len(measured)-fifth:], sent)
	check("load steady: messages/s in the first and last fifth", fmt.Sprintf("%.2f and %.2f (within ±%.0f%%)", first, last, steadyShare*100),
		first > 0 && math.Abs(last-first) <= steadyShare*first)
}

// steadyShare is how far the message rate of the last fifth may be from the first's:
// agents' breaks and visitors' arrivals are random, and a verdict on flat resources
// needs the same load at both ends.
const steadyShare = 0.3

func elapsed(s Sample) float64 { return s.ElapsedSeconds }
func sent(s Sample) float64    { return float64(s.Sent) }

func mean(ss []Sample, v func(Sample) float64) float64 {
	var total float64
	for _, s := range ss {
		total += v(s)
	}
	return total / float64(len(ss))
}

func maximum(ss []Sample, v func(Sample) float64) float64 {
	m := math.Inf(-1)
	for _, s := range ss {
		m = math.Max(m, v(s))
	}
	return m
}

// slope is the least-squares slope of v over elapsed time, per second.
func slope(ss []Sample, v func(Sample) float64) float64 {
	if len(ss) < 2 {
		return 0
	}
	mx, my := mean(ss, elapsed), mean(ss, v)
	var sxy, sxx float64
	for _, s := range ss {
		dx := s.ElapsedSeconds - mx
		sxy += dx * (v(s) - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}

// rate is a cumulative counter's growth per second over the samples.
func rate(ss []Sample, v func(Sample) float64) float64 {
	if len(ss) < 2 {
		return 0
	}
	first, last := ss[0], ss[len(ss)-1]
	if d := last.ElapsedSeconds - first.ElapsedSeconds; d > 0 {
		return (v(last) - v(first)) / d
	}
	return 0
}
