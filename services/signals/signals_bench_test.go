package signals

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/store"
)

// BenchmarkTapOnTheRequestPath is what live signals add to each message a replica
// publishes: the hub's tap handing the conversation to the engine.
func BenchmarkTapOnTheRequestPath(b *testing.B) {
	e := New(nil, live.NewHub(0), func(live.Notice) {})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // drain as Run would, without the database
		for {
			select {
			case <-ctx.Done():
				return
			case <-e.touched:
			}
		}
	}()
	tenant := uuid.New()
	it := live.Item{Event: &store.Event{Tenant: tenant, ConversationID: uuid.New(), Kind: store.KindMessage, AuthorKind: store.AuthorAgent}}
	b.ReportAllocs()
	for b.Loop() {
		e.tap(live.Activity(tenant), it)
	}
}

// BenchmarkEvaluatingAThousandConversations is one pass of the engine over a tenant's
// 1,000 open conversations under three objectives, with nothing to change.
func BenchmarkEvaluatingAThousandConversations(b *testing.B) {
	e := New(nil, live.NewHub(0), func(live.Notice) {})
	tenant := uuid.New()
	unit := uuid.New()
	st := &store.SignalState{TenantName: "acme", Units: map[uuid.UUID]string{unit: "sales"}, Agents: map[uuid.UUID]store.SignalAgent{}}
	for _, m := range liveMetrics {
		st.Objectives = append(st.Objectives, store.SignalObjective{Name: m, Metric: m, Target: 3600, Warning: 7200, Critical: 10800})
	}
	now := time.Now()
	for range 1000 {
		agent := uuid.New()
		st.Conversations = append(st.Conversations, &store.ConversationTimes{ID: uuid.New(), Unit: unit, Agent: uuid.NullUUID{UUID: agent, Valid: true},
			State: store.StateActive, AssignedAt: &now, FirstAgentAt: &now, AwaitingSince: &now})
	}
	e.apply(tenant, st)
	b.ReportAllocs()
	for b.Loop() {
		e.evaluate(context.Background(), now)
	}
}
