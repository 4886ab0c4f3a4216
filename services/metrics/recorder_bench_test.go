package metrics

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkMessageOnTheRequestPath is what a stored message pays for its metrics on the
// request's path: handing the observation to the recorder.
func BenchmarkMessageOnTheRequestPath(b *testing.B) {
	r := NewRecorder(nil, prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // drain as Run would, without the database
		for {
			select {
			case <-ctx.Done():
				return
			case <-r.queue:
			}
		}
	}()
	tenant, conv := uuid.New(), uuid.New()
	b.ReportAllocs()
	for b.Loop() {
		r.Message(tenant, conv, "visitor")
	}
}

// BenchmarkCountingAMessage is the recorder's own work per message once the conversation's
// names are known: the labelled counter's increment.
func BenchmarkCountingAMessage(b *testing.B) {
	r := NewRecorder(nil, prometheus.NewRegistry())
	n := unitName{tenant: "acme", unit: "sales"}
	o := observation{tenant: uuid.New(), conversation: uuid.New(), authorKind: "visitor"}
	b.ReportAllocs()
	for b.Loop() {
		r.count(n, o)
	}
}
