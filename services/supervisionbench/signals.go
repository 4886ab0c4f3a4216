package supervisionbench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/bench"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Signals is the live-signal part of the fan-out phase: a handlingDuration objective is
// set so that every open conversation crosses its warning threshold, then its critical one
// a second later, while the agents keep writing; one supervisor watches the open chats.
// Latency runs from the instant a conversation crossed a threshold (its assignment time
// plus the threshold) to the arrival of that signal on the supervisor's WatchOpenChats
// stream.
type Signals struct {
	Objective     string  `json:"objective"`
	Conversations int     `json:"conversations"`
	WarningAfter  string  `json:"warningAfter"`
	CriticalAfter string  `json:"criticalAfter"`
	Warning       Latency `json:"warning"`
	Critical      Latency `json:"critical"`
	// Missing counts (conversation, level) pairs whose signal never reached the stream.
	Missing  int      `json:"missing"`
	Problems []string `json:"problems,omitempty"`
}

// signalWatch follows the signals of the fan-out's conversations on one stream.
type signalWatch struct {
	f                 *fanOut
	warning, critical time.Duration
	crossing          map[string]time.Time // conversation id → assigned at
	last              time.Time            // the last critical crossing

	mu        sync.Mutex
	received  map[string][2]time.Time // conversation id → first warning, first critical
	streamErr error
}

// startSignals sets the objective so that the first warning falls one second after the
// warmup, and starts the supervisor's stream.
func (f *fanOut) startSignals(ctx, streamCtx context.Context, wg *sync.WaitGroup) (*signalWatch, error) {
	e := f.e
	rows, err := e.owner.Query(ctx, `SELECT conversation_id, assigned_at FROM conversations
		WHERE tenant_id = $1 AND state IN ('assigned', 'active')`, f.tenant.ID)
	if err != nil {
		return nil, fmt.Errorf("reading assignment times: %w", err)
	}
	s := &signalWatch{f: f, crossing: map[string]time.Time{}, received: map[string][2]time.Time{}}
	var first, last time.Time
	for rows.Next() {
		var id uuid.UUID
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		s.crossing[id.String()] = at
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(s.crossing) == 0 {
		return nil, fmt.Errorf("no open conversation to raise signals on")
	}
	s.warning = (time.Since(first) + f.o.Warmup + time.Second).Round(time.Millisecond)
	s.critical = s.warning + time.Second
	s.last = last.Add(s.critical)
	objective := store.ObjectiveConfig{Name: signalObjective, Metric: "handlingDuration",
		Target: s.warning.Seconds() / 2, Warning: s.warning.Seconds(), Critical: s.critical.Seconds(), Window: time.Hour}
	if err := pgx.BeginFunc(ctx, e.owner, func(tx pgx.Tx) error {
		return store.UpsertObjective(ctx, tx, f.tenant.ID, objective)
	}); err != nil {
		return nil, fmt.Errorf("setting the objective: %w", err)
	}

	sup := f.supervisors[0]
	stream, err := sup.api.supervision.WatchOpenChats(streamCtx, authorized(sup.token, &supervisionv1.WatchOpenChatsRequest{}))
	if err != nil {
		return nil, fmt.Errorf("watching the open chats: %w", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stream.Close()
		for stream.Receive() {
			now := time.Now()
			c := stream.Msg().GetChat()
			if c == nil {
				continue
			}
			for _, sig := range c.Signals {
				if sig.Objective != signalObjective {
					continue
				}
				level := 0
				if sig.Level == supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL {
					level = 1
				}
				s.mu.Lock()
				got := s.received[c.Conversation.Id]
				if got[level].IsZero() {
					got[level] = now
					s.received[c.Conversation.Id] = got
				}
				s.mu.Unlock()
			}
		}
		if streamCtx.Err() == nil {
			s.mu.Lock()
			s.streamErr = fmt.Errorf("the open chats stream ended: %v", stream.Err())
			s.mu.Unlock()
		}
	}()
	return s, nil
}

// signalObjective names the bench's objective.
const signalObjective = "bench-handling"

// signalGrace is how long after the last crossing the signals may still arrive.
const signalGrace = 5 * time.Second

// finish waits for the last signals and measures them.
func (s *signalWatch) finish(ctx context.Context) *Signals {
	res := &Signals{Objective: signalObjective + " (handlingDuration)", Conversations: len(s.crossing),
		WarningAfter: s.warning.String(), CriticalAfter: s.critical.String()}
	deadline := s.last.Add(signalGrace)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		complete := 0
		for _, got := range s.received {
			if !got[0].IsZero() && !got[1].IsZero() {
				complete++
			}
		}
		s.mu.Unlock()
		if complete == len(s.crossing) {
			break
		}
		select {
		case <-ctx.Done():
			return res
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var lat [2][]int64
	for id, at := range s.crossing {
		got := s.received[id]
		for level, threshold := range []time.Duration{s.warning, s.critical} {
			if got[level].IsZero() {
				res.Missing++
				continue
			}
			lat[level] = append(lat[level], int64(got[level].Sub(at.Add(threshold))))
		}
	}
	res.Warning, res.Critical = bench.LatencyOf(lat[0]), bench.LatencyOf(lat[1])
	if s.streamErr != nil {
		res.Problems = append(res.Problems, s.streamErr.Error())
	}
	return res
}
