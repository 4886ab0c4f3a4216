package store

import (
	"bytes"
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Group commit: messages sent at the same moment by different visitors and agents of a
// tenant are stored together, in one round trip and one transaction, instead of one
// commit each.
// A message is still acknowledged only after the transaction that stored it committed.
// When a batch fails (a resent client id, a deadlock, a lost connection) nothing of it
// was committed, and each of its messages is stored on its own, as without batching.

// A message that finds nothing of its tenant's being stored is stored at once, alone, in
// its caller's goroutine: batching buys nothing then, and waiting for company would only
// add appendLinger (and two goroutine hand-offs) to every message of a quiet tenant.
// Messages that arrive while one is being stored queue in the tenant's lane and go in
// batches.

// Each tenant has a lane of its own: its messages are batched only with each other, with
// at most appendWorkers of its batches in flight. A batch waits for the row locks of every
// conversation in it, so a tenant whose conversations are busy (a flood within its
// limits) would otherwise hold up the other tenants' messages sharing its batches and its
// workers; this way it delays only its own.

// Batching limits.
const (
	// appendWorkers is how many batches of one tenant may be in flight at once.
	appendWorkers = 3
	// maxAppendBatch caps the messages of one batch.
	maxAppendBatch = 128
	// A batch smaller than lingerBelow waits up to appendLinger for more messages.
	lingerBelow  = 8
	appendLinger = time.Millisecond
)

type appendReq struct {
	ctx    context.Context
	tenant uuid.UUID
	m      NewMessage
	done   chan appendResult
}

type appendResult struct {
	outcome      string
	event        *Event
	draftCleared bool
	err          error
}

type batcher struct {
	ctx     context.Context
	db      *DB
	mu      sync.Mutex
	lanes   map[uuid.UUID]*lane
	workers sync.WaitGroup
}

// lane is a tenant's queue of messages to store in batches.
type lane struct {
	reqs chan *appendReq
	// storing counts the tenant's messages being stored alone and its batches in flight.
	storing atomic.Int32
}

// lane returns the queue of a tenant's messages, starting its workers the first time;
// nil once the batcher stopped.
func (b *batcher) lane(tenant uuid.UUID) *lane {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx.Err() != nil {
		return nil
	}
	l := b.lanes[tenant]
	if l == nil {
		l = &lane{reqs: make(chan *appendReq, appendWorkers*maxAppendBatch)}
		b.lanes[tenant] = l
		for w := 0; w < appendWorkers; w++ {
			b.workers.Go(func() {
				for {
					select {
					case <-b.ctx.Done():
						return
					case r := <-l.reqs:
						l.storing.Add(1)
						b.db.appendBatch(gather(l.reqs, r))
						l.storing.Add(-1)
					}
				}
			})
		}
	}
	return l
}

// lane is the batching queue of a tenant's messages, or nil when RunAppendBatches does
// not run.
func (db *DB) lane(tenant uuid.UUID) *lane {
	if b := db.batch.Load(); b != nil {
		return b.lane(tenant)
	}
	return nil
}

// RunAppendBatches groups concurrent AppendMessage calls of each tenant into shared
// transactions until ctx ends; without it, each message is its own transaction.
func (db *DB) RunAppendBatches(ctx context.Context) {
	b := &batcher{ctx: ctx, db: db, lanes: map[uuid.UUID]*lane{}}
	db.batch.Store(b)
	<-ctx.Done()
	db.batch.Store(nil)
	b.workers.Wait()
	// Answer what is left so that no caller waits forever.
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lanes {
		for drained := false; !drained; {
			select {
			case r := <-l.reqs:
				r.done <- db.appendOne(r.ctx, db.Pool, r.tenant, r.m)
			default:
				drained = true
			}
		}
	}
}

// gather takes what is queued after first, and waits up to appendLinger for more while
// the batch is small: a little latency buys a larger batch, whose messages each cost the
// database less, which under load shortens every queue.
func gather(reqs chan *appendReq, first *appendReq) []*appendReq {
	batch := []*appendReq{first}
	var linger <-chan time.Time
	for len(batch) < maxAppendBatch {
		select {
		case r := <-reqs:
			batch = append(batch, r)
			continue
		default:
		}
		if len(batch) >= lingerBelow {
			return batch
		}
		if linger == nil {
			t := time.NewTimer(appendLinger)
			defer t.Stop()
			linger = t.C
		}
		select {
		case r := <-reqs:
			batch = append(batch, r)
		case <-linger:
			return batch
		}
	}
	return batch
}

// batchStats counts batches and the messages in them, for the benchmark.
var batchStats struct{ batches, messages atomic.Int64 }

// BatchStats returns how many batches stored how many messages so far.
func BatchStats() (batches, messages int64) {
	return batchStats.batches.Load(), batchStats.messages.Load()
}

const appendSQL = `SELECT * FROM sb_append_message($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

func appendArgs(tenant uuid.UUID, m NewMessage, checked bool) []any {
	return []any{pgtype.UUID{Bytes: tenant, Valid: true}, pgtype.UUID{Bytes: m.Conversation, Valid: true},
		m.Author.Kind, m.Author.ID, m.Author.Name, pgtype.UUID{Bytes: m.Agent.UUID, Valid: m.Agent.Valid},
		m.ClientMessageID, m.Body, m.Visibility, checked}
}

func scanAppend(row pgx.Row, tenant uuid.UUID, m NewMessage) appendResult {
	e := &Event{Tenant: tenant, ConversationID: m.Conversation, Kind: KindMessage, ClientMessageID: m.ClientMessageID}
	var r appendResult
	var createdAt *time.Time
	r.err = row.Scan(&r.outcome, &e.Seq, &createdAt, &e.AuthorKind, &e.AuthorID, &e.AuthorName, &e.Visibility, &e.Body, &r.draftCleared)
	if r.err != nil {
		return r
	}
	if createdAt != nil {
		e.CreatedAt = *createdAt
	}
	if r.outcome == OutcomeStored || r.outcome == OutcomeDuplicate {
		r.event = e
	}
	return r
}

func (db *DB) appendBatch(batch []*appendReq) {
	if len(batch) == 1 {
		r := batch[0]
		r.done <- db.appendOne(r.ctx, db.Pool, r.tenant, r.m)
		return
	}
	// Conversations are locked in one order by every batch, so batches never deadlock
	// each other.
	sort.Slice(batch, func(i, j int) bool {
		return bytes.Compare(batch[i].m.Conversation[:], batch[j].m.Conversation[:]) < 0
	})
	b := &pgx.Batch{}
	for _, r := range batch {
		b.Queue(appendSQL, appendArgs(r.tenant, r.m, false)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results := make([]appendResult, len(batch))
	br := db.Pool.SendBatch(ctx, b)
	failed := false
	for i, r := range batch {
		results[i] = scanAppend(br.QueryRow(), r.tenant, r.m)
		if results[i].err != nil {
			failed = true
			break
		}
	}
	if err := br.Close(); err != nil {
		failed = true
	}
	if failed {
		// At once, not one after the other: when the connection was lost each may need a
		// new one, and the last of a large batch would wait for every other's.
		var wg sync.WaitGroup
		for _, r := range batch {
			wg.Go(func() { r.done <- db.appendOne(r.ctx, db.Pool, r.tenant, r.m) })
		}
		wg.Wait()
		return
	}
	batchStats.batches.Add(1)
	batchStats.messages.Add(int64(len(batch)))
	for i, r := range batch {
		r.done <- results[i]
	}
}
