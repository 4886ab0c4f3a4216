package soak

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// A panel of the plot: one or two curves sharing a unit.
type panel struct {
	title string
	unit  string
	// scale divides values for the axis (bytes to MiB).
	scale  float64
	curves []curve
}

type curve struct {
	label string
	value func(prev, s Sample) float64
	color color.RGBA
}

var (
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
	green  = color.RGBA{44, 160, 44, 255}
	grey   = color.RGBA{120, 120, 120, 255}
	black  = color.RGBA{0, 0, 0, 255}
	white  = color.RGBA{255, 255, 255, 255}
	// warmupShade is the warm-up's background; windowShade the first and last fifths the
	// verdict compares.
	warmupShade = color.RGBA{236, 236, 236, 255}
	windowShade = color.RGBA{222, 235, 247, 255}
)

func level(f func(Sample) float64) func(prev, s Sample) float64 {
	return func(_, s Sample) float64 { return f(s) }
}

var panels = []panel{
	{"Go heap", "MiB", mib, []curve{
		{"live (reachable after GC)", level(func(s Sample) float64 { return s.HeapLive }), blue},
		{"in use", level(func(s Sample) float64 { return s.HeapInuse }), orange},
	}},
	{"Resident memory (RSS)", "MiB", mib, []curve{{"RSS", level(func(s Sample) float64 { return s.RSS }), blue}}},
	{"Goroutines", "", 1, []curve{{"goroutines", level(func(s Sample) float64 { return s.Goroutines }), blue}}},
	{"Open file descriptors", "", 1, []curve{{"fds", level(func(s Sample) float64 { return s.OpenFDs }), blue}}},
	{"TCP connections", "", 1, []curve{
		{"clients", level(func(s Sample) float64 { return s.TCPClients }), blue},
		{"to PostgreSQL", level(func(s Sample) float64 { return s.TCPPostgres }), orange},
	}},
	{"Live streams", "", 1, []curve{
		{"server (switchboard_streams)", level(func(s Sample) float64 { return s.Streams }), blue},
		{"clients' open", level(func(s Sample) float64 { return float64(s.StreamsOpen) }), orange},
	}},
	{"PostgreSQL", "connections", 1, []curve{
		{"pool", level(func(s Sample) float64 { return s.PoolOpen }), blue},
		{"backends", level(func(s Sample) float64 { return s.Backends }), orange},
	}},
	{"Load", "per second", 1, []curve{
		{"messages sent", perSecond(func(s Sample) float64 { return float64(s.Sent) }), blue},
		{"serve CPU (cores x 10)", perSecond(func(s Sample) float64 { return 10 * s.ServeCPU }), orange},
		{"machine load average", level(func(s Sample) float64 { return s.Load1 }), green},
	}},
}

// perSecond is a cumulative counter's rate since the previous sample.
func perSecond(f func(Sample) float64) func(prev, s Sample) float64 {
	return func(prev, s Sample) float64 {
		d := s.ElapsedSeconds - prev.ElapsedSeconds
		if d <= 0 {
			return math.NaN()
		}
		return (f(s) - f(prev)) / d
	}
}

// Plot size.
const (
	plotColumns            = 2
	panelWidth, panelHigh  = 600, 240
	marginLeft, marginTop  = 60, 34
	marginRight, marginLow = 16, 40
)

// Plot draws the run's curves as a PNG: a panel per resource over the run's minutes,
// the warm-up shaded grey and the first and last fifths the verdict compares in blue.
func Plot(w io.Writer, rep *Report) error {
	var run []Sample
	for _, s := range rep.Samples {
		if s.Phase == phaseWarmup || s.Phase == phaseMeasured {
			run = append(run, s)
		}
	}
	if len(run) < 2 {
		return fmt.Errorf("%d samples of the load: nothing to plot", len(run))
	}
	rows := (len(panels) + plotColumns - 1) / plotColumns
	img := image.NewRGBA(image.Rect(0, 0, plotColumns*panelWidth, rows*panelHigh+30))
	draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	verdict := "flat"
	if !rep.Flat {
		verdict = "NOT flat"
	}
	text(img, 10, 20, black, fmt.Sprintf("switchboard bench soak: %s at %gx pace, started %s: %s", rep.Duration, rep.Speed, rep.StartedAt.Format("2006-01-02 15:04 MST"), verdict))
	for i, p := range panels {
		origin := image.Pt((i%plotColumns)*panelWidth, 30+(i/plotColumns)*panelHigh)
		drawPanel(img, origin, p, run)
	}
	return png.Encode(w, img)
}

func drawPanel(img *image.RGBA, origin image.Point, p panel, run []Sample) {
	area := image.Rect(origin.X+marginLeft, origin.Y+marginTop, origin.X+panelWidth-marginRight, origin.Y+panelHigh-marginLow)
	t0, t1 := run[0].ElapsedSeconds, run[len(run)-1].ElapsedSeconds
	values := make([][]float64, len(p.curves))
	lo, hi := math.Inf(1), math.Inf(-1)
	for c, cv := range p.curves {
		values[c] = make([]float64, len(run))
		for i, s := range run {
			prev := s
			if i > 0 {
				prev = run[i-1]
			}
			v := cv.value(prev, s) / p.scale // NaN for a rate at the first sample
			values[c][i] = v
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	hi *= 1.08
	x := func(t float64) int {
		return area.Min.X + int(float64(area.Dx())*(t-t0)/math.Max(t1-t0, 1))
	}
	y := func(v float64) int {
		return area.Max.Y - int(float64(area.Dy())*(v-lo)/(hi-lo))
	}

	// The warm-up, then the first and last fifths after it.
	var measured []Sample
	for _, s := range run {
		if s.Phase == phaseMeasured {
			measured = append(measured, s)
		}
	}
	shade := func(from, to float64, c color.RGBA) {
		r := image.Rect(x(from), area.Min.Y, x(to), area.Max.Y).Intersect(area)
		draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
	}
	if len(measured) > 0 {
		shade(t0, measured[0].ElapsedSeconds, warmupShade)
		fifth := max(len(measured)/5, 1)
		shade(measured[0].ElapsedSeconds, measured[fifth-1].ElapsedSeconds, windowShade)
		shade(measured[len(measured)-fifth].ElapsedSeconds, measured[len(measured)-1].ElapsedSeconds, windowShade)
	}

	// Axes with three values on y and a tick every few minutes on x.
	line(img, area.Min.X, area.Max.Y, area.Max.X, area.Max.Y, black)
	line(img, area.Min.X, area.Min.Y, area.Min.X, area.Max.Y, black)
	for _, v := range []float64{lo, (lo + hi) / 2, hi} {
		yy := y(v)
		line(img, area.Min.X-4, yy, area.Min.X, yy, black)
		label := axisNumber(v)
		text(img, area.Min.X-8-7*len(label), yy+4, black, label)
	}
	minutes := (t1 - t0) / 60
	step := niceStep(minutes / 6)
	for m := math.Ceil(t0/60/step) * step; m <= t1/60+1e-9; m += step {
		xx := x(m * 60)
		line(img, xx, area.Max.Y, xx, area.Max.Y+4, black)
		label := axisNumber(m)
		text(img, xx-7*len(label)/2, area.Max.Y+17, black, label)
	}
	text(img, area.Max.X-80, area.Max.Y+32, grey, "minutes")

	title := p.title
	if p.unit != "" {
		title += " (" + p.unit + ")"
	}
	text(img, origin.X+marginLeft, origin.Y+16, black, title)
	lx := origin.X + marginLeft
	for c, cv := range p.curves {
		draw.Draw(img, image.Rect(lx, origin.Y+22, lx+14, origin.Y+26), image.NewUniform(cv.color), image.Point{}, draw.Src)
		text(img, lx+18, origin.Y+29, grey, cv.label)
		lx += 18 + 7*len(cv.label) + 14
		for i := 1; i < len(run); i++ {
			a, b := values[c][i-1], values[c][i]
			if math.IsNaN(a) || math.IsNaN(b) {
				continue
			}
			thick(img, x(run[i-1].ElapsedSeconds), y(a), x(run[i].ElapsedSeconds), y(b), cv.color)
		}
	}
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func axisNumber(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func text(img *image.RGBA, x, y int, c color.RGBA, s string) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// line draws a one-pixel line (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.SetRGBA(x0, y0, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// thick draws a curve's segment two pixels wide.
func thick(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	line(img, x0, y0, x1, y1, c)
	line(img, x0, y0+1, x1, y1+1, c)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
