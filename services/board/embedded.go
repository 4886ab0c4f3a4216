package board

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb"
)

// Defaults of the embedded engine.
const (
	// DefaultScrapeInterval is how often the engine gathers the process's registry: as
	// often as WatchBoard pushes the board, so that every push shows new figures. Each
	// gather reads the units' figures (one query across tenants), and "today" panels read
	// every sample since midnight: scraping more often would cost more on both sides for
	// figures no one sees sooner.
	DefaultScrapeInterval = 5 * time.Second
	// DefaultRetention keeps "today" in every time zone (up to 25 hours on the day clocks
	// go back) and the longest time-series span (24 hours).
	DefaultRetention = 26 * time.Hour
	// queryTimeout and maxSamples bound one query of the engine.
	queryTimeout = 10 * time.Second
	maxSamples   = 5_000_000
	// lookback is how far back an instant query finds a series' latest sample, as in
	// Prometheus; series that vanish get a staleness marker and leave at once.
	lookback = 5 * time.Minute
)

// EmbeddedOptions configure the embedded engine.
type EmbeddedOptions struct {
	// Gatherer is the registry scraped: the process's own.
	Gatherer prometheus.Gatherer
	// Dir keeps the samples; empty means a temporary folder removed on Close (and no
	// write-ahead log: nothing is kept across restarts anyway).
	Dir string
	// Interval is the scrape interval; 0 means DefaultScrapeInterval.
	Interval time.Duration
	// Retention is how long samples are kept; 0 means DefaultRetention.
	Retention time.Duration
}

// Embedded is the board's engine when no Prometheus is configured: a TSDB fed by scraping
// the process's registry, and a PromQL engine over it.
type Embedded struct {
	opts   EmbeddedOptions
	db     *tsdb.DB
	engine *promql.Engine
	temp   bool

	mu       sync.Mutex
	closed   bool
	buf      bytes.Buffer
	last     map[uint64]labels.Labels // series of the last scrape
	lastTime time.Time
	// scraped is the last scrape's time in Unix milliseconds, read by Now without mu.
	scraped atomic.Int64
}

// OpenEmbedded opens the engine's storage and scrapes once, so that a board has values
// from the start; run it with Run and close it with Close.
func OpenEmbedded(opts EmbeddedOptions) (*Embedded, error) {
	if opts.Gatherer == nil {
		return nil, errors.New("the embedded board engine needs a registry to scrape")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultScrapeInterval
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	e := &Embedded{opts: opts, last: map[uint64]labels.Labels{}}
	dir := opts.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "switchboard-board-"); err != nil {
			return nil, fmt.Errorf("making the board engine's folder: %w", err)
		}
		e.temp = true
	}
	to := tsdb.DefaultOptions()
	to.RetentionDuration = opts.Retention.Milliseconds()
	if e.temp {
		to.WALSegmentSize = -1
	}
	logger := slog.New(warnings{slog.Default().Handler()}).With("component", "board-tsdb")
	db, err := tsdb.Open(dir, logger, nil, to, nil)
	if err != nil {
		if e.temp {
			os.RemoveAll(dir) //nolint:errcheck
		}
		return nil, fmt.Errorf("opening the board engine's storage in %s: %w", dir, err)
	}
	e.db = db
	e.opts.Dir = dir
	e.engine = promql.NewEngine(promql.EngineOpts{
		Logger: logger, MaxSamples: maxSamples, Timeout: queryTimeout, LookbackDelta: lookback,
	})
	if err := e.Scrape(context.Background(), time.Now()); err != nil {
		slog.Warn("board: first scrape of the registry", "err", err)
	}
	return e, nil
}

// Name is the source's name on a board.
func (e *Embedded) Name() string { return "embedded" }

// Now is the last scrape's time: the board describes the newest complete data.
func (e *Embedded) Now() time.Time {
	if ms := e.scraped.Load(); ms != 0 {
		return time.UnixMilli(ms)
	}
	return time.Now()
}

// Dir is the folder of the samples.
func (e *Embedded) Dir() string { return e.opts.Dir }

// Interval is the scrape interval.
func (e *Embedded) Interval() time.Duration { return e.opts.Interval }

// Run scrapes the registry every interval until ctx ends.
func (e *Embedded) Run(ctx context.Context) {
	t := time.NewTicker(e.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := e.Scrape(ctx, now); err != nil && ctx.Err() == nil {
				slog.Warn("board: scraping the registry", "err", err)
			}
		}
	}
}

// Scrape gathers the registry once and stores its samples at time at, as Prometheus would
// from /metrics: series gone since the last scrape get a staleness marker, and a counter or
// histogram series that appeared gets a zero at the last scrape's time (it was not there,
// so it was zero), so that increase() counts its first events.
func (e *Embedded) Scrape(ctx context.Context, at time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("the board engine is closed")
	}
	families, gatherErr := e.opts.Gatherer.Gather()
	e.buf.Reset()
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(&e.buf, mf); err != nil {
			return fmt.Errorf("writing %s: %w", mf.GetName(), err)
		}
	}
	ts := at.UnixMilli()
	prev := e.lastTime.UnixMilli()
	first := e.lastTime.IsZero()
	app := e.db.Appender(ctx)
	seen := make(map[uint64]labels.Labels, len(e.last))
	p := textparse.NewPromParser(e.buf.Bytes(), nil, false)
	cumulative := false
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			app.Rollback() //nolint:errcheck
			return fmt.Errorf("parsing the registry's exposition: %w", err)
		}
		switch entry {
		case textparse.EntryType:
			_, typ := p.Type()
			cumulative = typ == model.MetricTypeCounter || typ == model.MetricTypeHistogram || typ == model.MetricTypeSummary
			continue
		case textparse.EntrySeries:
		default:
			continue
		}
		_, _, v := p.Series()
		var l labels.Labels
		p.Labels(&l)
		h := l.Hash()
		seen[h] = l
		if _, was := e.last[h]; !was && cumulative && !first && prev < ts {
			if _, err := app.Append(0, l, prev, 0); err != nil {
				app.Rollback() //nolint:errcheck
				return fmt.Errorf("appending %s: %w", l, err)
			}
		}
		if _, err := app.Append(0, l, ts, v); err != nil {
			app.Rollback() //nolint:errcheck
			return fmt.Errorf("appending %s: %w", l, err)
		}
	}
	for h, l := range e.last {
		if _, ok := seen[h]; !ok {
			if _, err := app.Append(0, l, ts, math.Float64frombits(value.StaleNaN)); err != nil {
				app.Rollback() //nolint:errcheck
				return fmt.Errorf("marking %s stale: %w", l, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("storing a scrape: %w", err)
	}
	e.last, e.lastTime = seen, at
	e.scraped.Store(ts)
	if gatherErr != nil {
		return fmt.Errorf("gathering (the rest was stored): %w", gatherErr)
	}
	return nil
}

// Close stops scraping, closes the storage and removes a temporary folder.
func (e *Embedded) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	err := e.db.Close()
	if e.temp {
		err = errors.Join(err, os.RemoveAll(e.opts.Dir))
	}
	return err
}

// Instant evaluates query at one instant.
func (e *Embedded) Instant(ctx context.Context, query string, at time.Time) ([]Series, error) {
	q, err := e.engine.NewInstantQuery(ctx, e.db, nil, query, at)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return fromPromQL(q.Exec(ctx))
}

// Range evaluates query from start to end every step.
func (e *Embedded) Range(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	q, err := e.engine.NewRangeQuery(ctx, e.db, nil, query, start, end, step)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return fromPromQL(q.Exec(ctx))
}

func fromPromQL(res *promql.Result) ([]Series, error) {
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		out := make([]Series, 0, len(v))
		for _, s := range v {
			if s.H != nil {
				continue
			}
			out = append(out, Series{Labels: s.Metric.Map(), Points: []Point{{T: time.UnixMilli(s.T), V: s.F}}})
		}
		return out, nil
	case promql.Matrix:
		out := make([]Series, 0, len(v))
		for _, s := range v {
			pts := make([]Point, len(s.Floats))
			for i, f := range s.Floats {
				pts[i] = Point{T: time.UnixMilli(f.T), V: f.F}
			}
			out = append(out, Series{Labels: s.Metric.Map(), Points: pts})
		}
		return out, nil
	case promql.Scalar:
		return []Series{{Labels: map[string]string{}, Points: []Point{{T: time.UnixMilli(v.T), V: v.V}}}}, nil
	}
	return nil, fmt.Errorf("unexpected result type %s", res.Value.Type())
}

// warnings passes on the storage's and engine's warnings and errors, not their chatter.
type warnings struct{ slog.Handler }

func (w warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnings) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnings{w.Handler.WithAttrs(attrs)}
}

func (w warnings) WithGroup(name string) slog.Handler { return warnings{w.Handler.WithGroup(name)} }
