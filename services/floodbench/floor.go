package floodbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/switchboard-chat/switchboard/services/bench"
)

// FloorReport is what a flood costs a server that does nothing but refuse it.
type FloorReport struct {
	Command string `json:"command,omitempty"`
	NumCPU  int    `json:"numCPU"`
	// CallsPerSecond were answered while Cores of CPU were spent: MicrosPerCall each.
	CallsPerSecond float64    `json:"callsPerSecond"`
	Cores          float64    `json:"cores"`
	MicrosPerCall  float64    `json:"microsPerCall"`
	Flood          FloodStats `json:"flood"`
}

// Floor floods, as Run does, a bare net/http server speaking HTTP/2 that answers every
// call with one recorded refusal and does nothing else: what that costs it per call is
// the least any server on net/http pays for each call of the flood on this machine, the
// floor under the server's own cost that Run reports.
func Floor(ctx context.Context, o Options) (*FloorReport, error) {
	o = o.withDefaults()
	rec := httptest.NewRecorder()
	refusal := connect.NewError(connect.CodeResourceExhausted, errors.New("you are sending messages too fast (at most 1 a second); retry in 1.0s"))
	hint, err := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
	if err != nil {
		return nil, err
	}
	refusal.AddDetail(hint)
	call := httptest.NewRequest(http.MethodPost, "/", nil)
	call.Header.Set("Content-Type", "application/proto")
	if err := connect.NewErrorWriter().Write(rec, call, refusal); err != nil {
		return nil, err
	}
	status, contentType, body := rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes()
	var calls atomic.Int64
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // the refusal is the same either way
		calls.Add(1)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		w.Write(body) //nolint:errcheck // the client went away
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	defer srv.Close()

	r := &run{o: o}
	fl, err := r.startFlood(ctx, FloodConfig{Base: "http://" + ln.Addr().String(), WidgetKey: "floor", Unit: unitName,
		Visitors: []Visitor{{Conversation: "00000000-0000-0000-0000-000000000001", Token: "floor"}},
		Rate:     o.FloodRate, Clients: o.FloodClients, StartShare: o.FloodStartShare, HTTPConnections: 4})
	if err != nil {
		return nil, err
	}
	o.Logf("flood bench floor: %s warmup, %s measured", o.Warmup, o.Duration)
	select {
	case <-ctx.Done():
	case <-time.After(o.Warmup):
	}
	before, callsBefore := bench.SampleCPU(0), calls.Load()
	started := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(o.Duration):
	}
	cpu, n, took := before.Until(bench.SampleCPU(0)), calls.Load()-callsBefore, time.Since(started)
	st, err := fl.stop()
	rep := &FloorReport{Command: o.Command, NumCPU: runtime.NumCPU(), CallsPerSecond: float64(n) / took.Seconds(), Cores: cpu.ProcessCores, Flood: st}
	if n > 0 {
		rep.MicrosPerCall = cpu.ProcessSeconds / float64(n) * 1e6
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return rep, err
}

// PrintFloor writes the floor's report as a person reads it.
func PrintFloor(w io.Writer, rep *FloorReport) error {
	_, err := fmt.Fprintf(w, "floor: a bare net/http HTTP/2 server that answers every call with one recorded refusal, flooded at %.0f calls/s: %.2f cores of %d CPUs, %.0f µs per call\n",
		rep.CallsPerSecond, rep.Cores, rep.NumCPU, rep.MicrosPerCall)
	if err == nil && rep.Command != "" {
		_, err = fmt.Fprintf(w, "\nreproduce: %s\n", rep.Command)
	}
	return err
}
