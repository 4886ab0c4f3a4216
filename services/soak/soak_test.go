package soak

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image/png"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A short soak of the real `switchboard serve`, run as a child process, drives every
// kind of person through the public API, samples the server all along, and finds it
// back at its idle level once the load stopped. The curves' verdict is not asserted: 25
// seconds are mostly warm-up.
func TestShortSoakDrivesLoadAndSamplesTheServer(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "switchboard")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/switchboard-chat/switchboard/cmd/switchboard").CombinedOutput(); err != nil {
		t.Fatalf("building switchboard: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	var serveLog bytes.Buffer
	rep, err := Run(ctx, Options{
		Serve:    []string{bin, "serve"},
		Duration: 25 * time.Second, SampleEvery: time.Second, Warmup: 5 * time.Second, Settle: 3 * time.Second,
		// At 20 times a person's pace, 25 seconds hold shifts, sessions and many chats.
		Speed: 20, Agents: 6, Supervisors: 4, MaxConns: 8,
		ServeLog: &serveLog, Logf: t.Logf,
	})
	if rep != nil {
		var out strings.Builder
		if err := Print(&out, rep); err != nil {
			t.Fatal(err)
		}
		t.Logf("report:\n%s", out.String())
	}
	if err != nil && !errors.Is(err, ErrNotFlat) {
		t.Fatalf("Run: %v\nthe server's log:\n%s", err, serveLog.String())
	}

	t.Run("the server was sampled idle, all along the load, and idle again", func(t *testing.T) {
		phases := map[string]int{}
		for _, s := range rep.Samples {
			phases[s.Phase]++
			if s.HeapLive <= 0 || s.RSS <= 0 || s.Goroutines <= 0 || s.OpenFDs <= 0 || s.Backends <= 0 || s.PoolOpen <= 0 {
				t.Errorf("sample at %.0fs (%s) lacks a figure: %+v", s.ElapsedSeconds, s.Phase, s)
			}
		}
		if phases[phaseIdleBefore] != 1 || phases[phaseIdleAfter] != 1 || phases[phaseWarmup] < 1 || phases[phaseMeasured] < minSamples {
			t.Errorf("samples by phase %v; want one idle before and after, and the load sampled every second", phases)
		}
		busiest := maximum(rep.Samples, func(s Sample) float64 { return s.Streams })
		clients := maximum(rep.Samples, func(s Sample) float64 { return s.TCPClients })
		if busiest < 5 || clients < 5 {
			t.Errorf("at most %.0f streams and %.0f client connections seen by the server: the load did not reach it", busiest, clients)
		}
		if !strings.Contains(serveLog.String(), "msg=serving") {
			t.Error("the server's log was not passed on")
		}
	})

	t.Run("every kind of person used the API and the server answered as it should", func(t *testing.T) {
		l := rep.Load
		if l.Unexpected != 0 {
			t.Errorf("%d calls got an unexpected error: %+v", l.Unexpected, unexpectedAnswers(l))
		}
		if l.ConversationsStarted == 0 || l.ConversationsClosed == 0 || l.MessagesSent == 0 || l.PageViews == 0 {
			t.Errorf("load %+v: want conversations started and closed, messages and page views", l)
		}
		ok := map[string]bool{}
		for _, a := range l.Answers {
			if a.Code == codeOK || a.Code == "canceled" {
				ok[a.Procedure] = true
			}
		}
		for _, p := range []string{
			"AuthService/Login", "ChatService/TrackPageView", "ChatService/GetAvailability", "ChatService/StartConversation",
			"ChatService/Subscribe", "ChatService/AgentStream", "ChatService/SendMessage", "ChatService/UpdateDraft",
			"ChatService/AcceptConversation", "ChatService/CloseConversation", "SupervisionService/WatchBoard",
			"SupervisionService/WatchOpenChats", "SupervisionService/GetAgentTable", "SupervisionService/SearchChats",
		} {
			if !ok[p] {
				t.Errorf("no %s answered", p)
			}
		}
		if l.Logins <= int64(rep.Tenant.Agents) {
			t.Errorf("%d sign-ins for %d agents and 4 supervisors", l.Logins, rep.Tenant.Agents)
		}
	})

	t.Run("what people were told was stored is in the database", func(t *testing.T) {
		s, l := rep.Stored, rep.Load
		if s.Conversations < l.ConversationsStarted || s.Messages < l.MessagesSent || s.PageViews < l.PageViews {
			t.Errorf("stored %+v for load %+v", s, l)
		}
	})

	t.Run("the server came back to its idle level once the load stopped", func(t *testing.T) {
		for _, c := range rep.Checks {
			if strings.Contains(c.Name, "once the load stopped") && c.Verdict == fail {
				t.Errorf("%s: %s", c.Name, c.Value)
			}
		}
		if len(rep.Metrics) != len(judgedMetrics) {
			t.Errorf("%d metrics judged; want %d", len(rep.Metrics), len(judgedMetrics))
		}
	})

	t.Run("the samples are written as CSV and drawn", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteCSV(&b, rep); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(rep.Samples)+1 || rows[0][0] != "phase" || rows[1][0] != phaseIdleBefore {
			t.Errorf("%d CSV rows starting %v; want a header and %d samples", len(rows), rows[0], len(rep.Samples))
		}
		b.Reset()
		if err := Plot(&b, rep); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&b)
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() < 1000 || img.Bounds().Dy() < 800 {
			t.Errorf("plot of %v", img.Bounds())
		}
	})
}

func unexpectedAnswers(l Load) []Answer {
	var out []Answer
	for _, a := range l.Answers {
		if !a.Expected {
			out = append(out, a)
		}
	}
	return out
}
