package soak

import (
	"math"
	"strings"
	"testing"
)

// syntheticRun makes the samples of a synthetic run: an idle sample, 20 of warm-up and 100
// measured every 10s with the load steady, and an idle sample after; shape sets each
// measured sample's figures.
func syntheticRun(shape func(i int, s *Sample)) []Sample {
	idle := Sample{HeapLive: 15 * mib, RSS: 60 * mib, Goroutines: 30, OpenFDs: 20, TCPClients: 1, TCPPostgres: 6, PoolOpen: 4, Backends: 6}
	before := idle
	before.Phase = phaseIdleBefore
	out := []Sample{before}
	for i := range 120 {
		s := Sample{Phase: phaseMeasured, ElapsedSeconds: float64(i * 10),
			HeapLive: 30 * mib, RSS: 150 * mib, Goroutines: 140, OpenFDs: 90, TCPClients: 45, TCPPostgres: 34,
			PoolOpen: 32, Backends: 34, Streams: 40, Sent: int64(i * 50)}
		if i < 20 {
			s.Phase = phaseWarmup
		}
		// The conversations open at a moment come and go.
		wobble := math.Sin(float64(i) * 0.7)
		s.HeapLive += wobble * mib
		s.Goroutines += math.Round(wobble * 8)
		s.Streams += math.Round(wobble * 4)
		if shape != nil {
			shape(i, &s)
		}
		out = append(out, s)
	}
	after := idle
	after.Phase, after.ElapsedSeconds = phaseIdleAfter, 1220
	after.HeapLive, after.TCPPostgres, after.PoolOpen, after.OpenFDs, after.Backends = 30*mib, 32, 30, 46, 32
	if shape != nil {
		shape(-1, &after)
	}
	return append(out, after)
}

func TestJudge(t *testing.T) {
	for _, c := range []struct {
		name  string
		shape func(i int, s *Sample)
		// failing names what must fail; empty means the run is flat.
		failing []string
	}{
		{name: "a server whose figures only wobble with the load is flat"},
		{
			name: "a heap that grows a little with every message is not flat",
			shape: func(i int, s *Sample) {
				if i >= 0 {
					s.HeapLive += float64(i) * 0.2 * mib
				}
			},
			failing: []string{"live heap"},
		},
		{
			name: "goroutines that start to pile up late in the run are not flat",
			shape: func(i int, s *Sample) {
				if i >= 90 {
					s.Goroutines += float64(i-90) * 1.4
				}
			},
			failing: []string{"goroutines: climbs"},
		},
		{
			name: "file descriptors that pile up are not flat",
			shape: func(i int, s *Sample) {
				if i >= 0 {
					s.OpenFDs += float64(i) / 2
				}
			},
			failing: []string{"open file descriptors"},
		},
		{
			name: "a pool above its size is not flat",
			shape: func(i int, s *Sample) {
				if i == 70 {
					s.PoolOpen = 40
				}
			},
			failing: []string{"pool connections"},
		},
		{
			name: "a stream left open once the load stopped is a leak",
			shape: func(i int, s *Sample) {
				if i == -1 {
					s.Streams = 1
				}
			},
			failing: []string{"streams left open"},
		},
		{
			name: "goroutines left running once the load stopped are a leak",
			shape: func(i int, s *Sample) {
				if i == -1 {
					s.Goroutines = 80
				}
			},
			failing: []string{"goroutines once the load stopped"},
		},
		{
			name: "a connection of a client kept once the load stopped is a leak",
			shape: func(i int, s *Sample) {
				if i == -1 {
					s.TCPClients, s.OpenFDs = 9, 54
				}
			},
			failing: []string{"TCP connections of clients once", "open files besides"},
		},
		{
			name: "a load that fell away cannot be judged flat",
			shape: func(i int, s *Sample) {
				if i >= 100 {
					s.Sent = int64(100*50 + (i-100)*10)
				}
			},
			failing: []string{"load steady"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := &Report{Samples: syntheticRun(c.shape), Load: Load{Calls: 1000, ConversationsStarted: 10, MessagesSent: 5000, StreamsOpened: 100}}
			judge(rep, Options{MaxConns: 32}.withDefaults())
			if len(c.failing) == 0 {
				if !rep.Flat {
					t.Fatalf("judged not flat: %s", strings.Join(rep.Failed, "; "))
				}
				return
			}
			if rep.Flat {
				t.Fatalf("judged flat; want %v to fail", c.failing)
			}
			for _, want := range c.failing {
				found := false
				for _, f := range rep.Failed {
					found = found || strings.HasPrefix(f, want) || strings.Contains(f, want)
				}
				if !found {
					t.Errorf("failed %q; want one starting %q", rep.Failed, want)
				}
			}
			if len(rep.Failed) != len(c.failing) {
				t.Errorf("failed %q; want only %v", rep.Failed, c.failing)
			}
		})
	}
}

func TestJudgeWantsEnoughSamples(t *testing.T) {
	samples := syntheticRun(nil)[:25] // 4 samples after the warm-up
	rep := &Report{Samples: samples}
	judge(rep, Options{MaxConns: 32}.withDefaults())
	if rep.Flat || len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0], "fewer than") {
		t.Fatalf("flat %v, failed %q; want a verdict refused for too few samples", rep.Flat, rep.Failed)
	}
}
