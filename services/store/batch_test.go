package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/store"
)

// TestGroupCommitKeepsEveryPromise stores messages of many conversations at once, with
// resends racing their originals, through the batching path, and checks that each
// conversation's messages are numbered 1, 2, 3… with none lost or doubled.
func TestGroupCommitKeepsEveryPromise(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	tenant, _ := seed(t, url)
	const conversations, senders, each = 20, 10, 15
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	var convs []uuid.UUID
	for i := 0; i < conversations; i++ {
		var id uuid.UUID
		err := owner.QueryRow(ctx, `INSERT INTO conversations (tenant_id, unit_id, visitor_id, state, visitor_token_hash)
			SELECT tenant_id, unit_id, (SELECT visitor_id FROM visitors WHERE tenant_id = $1), 'queued', '\x00'
			FROM business_units WHERE tenant_id = $1 RETURNING conversation_id`, tenant).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, id)
	}
	pool, err := store.Open(ctx, url, store.PoolOptions{MaxConns: 8, AsApp: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &store.DB{Pool: pool}
	go db.RunAppendBatches(ctx)
	batchesBefore, messagesBefore := store.BatchStats()

	var wg sync.WaitGroup
	var mu sync.Mutex
	seqOf := map[string]int64{} // client id -> seq acknowledged
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				for c, conv := range convs {
					// Sender s and sender s+1 send the same ids: every message is resent once.
					id := fmt.Sprintf("m-%d-%d-%d", c, s/2, i)
					out, e, _, err := db.AppendMessage(ctx, nil, tenant, store.NewMessage{Conversation: conv,
						Author: store.Author{Kind: store.AuthorVisitor, ID: "v"}, ClientMessageID: id, Body: id, Visibility: store.VisibleToAll})
					if err != nil || (out != store.OutcomeStored && out != store.OutcomeDuplicate) {
						t.Errorf("append %s: %s %v", id, out, err)
						return
					}
					mu.Lock()
					if prev, ok := seqOf[id]; ok && prev != e.Seq {
						t.Errorf("%s acknowledged as seq %d and %d", id, prev, e.Seq)
					}
					seqOf[id] = e.Seq
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for c, conv := range convs {
		rows, err := owner.Query(ctx, `SELECT seq, client_message_id FROM events WHERE conversation_id = $1 ORDER BY seq`, conv)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for rows.Next() {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				t.Fatal(err)
			}
			n++
			if seq != n {
				t.Fatalf("conversation %d: seq %d where %d was due", c, seq, n)
			}
			if seqOf[id] != seq {
				t.Fatalf("conversation %d: %s stored as %d, acknowledged as %d", c, id, seq, seqOf[id])
			}
		}
		rows.Close()
		if want := int64(senders / 2 * each); n != want {
			t.Fatalf("conversation %d has %d messages, want %d (one per distinct id)", c, n, want)
		}
	}
	batches, messages := store.BatchStats()
	batches, messages = batches-batchesBefore, messages-messagesBefore
	if batches == 0 || messages <= batches {
		t.Fatalf("%d messages in %d batches: nothing was grouped", messages, batches)
	}
	t.Logf("%d messages were stored in %d shared batches", messages, batches)
}

// TestATenantWhoseConversationsAreBusyDoesNotHoldUpAnotherTenantsMessages keeps a
// conversation of one tenant locked while messages pile up in it, and checks that another
// tenant's message is stored meanwhile: batches never mix tenants, and each tenant has
// workers of its own.
func TestATenantWhoseConversationsAreBusyDoesNotHoldUpAnotherTenantsMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	busy, other := seed(t, url)
	owner, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	convOf := func(tenant uuid.UUID) uuid.UUID {
		var id uuid.UUID
		if err := owner.QueryRow(ctx, `SELECT conversation_id FROM conversations WHERE tenant_id = $1`, tenant).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	busyConv, otherConv := convOf(busy), convOf(other)
	pool, err := store.Open(ctx, url, store.PoolOptions{MaxConns: 16, AsApp: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &store.DB{Pool: pool}
	go db.RunAppendBatches(ctx)

	// Another transaction holds the busy tenant's conversation.
	lock, err := owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx) //nolint:errcheck
	if _, err := lock.Exec(ctx, `SELECT 1 FROM conversations WHERE conversation_id = $1 FOR UPDATE`, busyConv); err != nil {
		t.Fatal(err)
	}
	send := func(tenant, conv uuid.UUID, id string) error {
		_, _, _, err := db.AppendMessage(ctx, nil, tenant, store.NewMessage{Conversation: conv,
			Author: store.Author{Kind: store.AuthorVisitor, ID: "v"}, ClientMessageID: id, Body: id, Visibility: store.VisibleToAll})
		return err
	}
	stuck := make(chan error, 10)
	for i := range 10 {
		go func() { stuck <- send(busy, busyConv, fmt.Sprintf("busy-%d", i)) }()
	}
	time.Sleep(200 * time.Millisecond) // the busy tenant's messages wait on the lock by now
	stored := make(chan error, 1)
	go func() { stored <- send(other, otherConv, "other") }()
	select {
	case err := <-stored:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other tenant's message waited for the busy tenant's conversation")
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := <-stuck; err != nil {
			t.Errorf("the busy tenant's message, once the lock was gone: %v", err)
		}
	}
}

// TestATenantHoldingHalfThePoolWaitsBehindItselfWhileAnotherTenantIsServed piles one
// tenant's transactions up until they would hold every pool connection, and checks that
// another tenant's transaction still runs at once while the first tenant's excess waits
// for its own to end.
func TestATenantHoldingHalfThePoolWaitsBehindItselfWhileAnotherTenantIsServed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.NewDatabase(t, cluster)
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	busy, other := seed(t, url)
	const poolSize = 4
	pool, err := store.Open(ctx, url, store.PoolOptions{MaxConns: poolSize, AsApp: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &store.DB{Pool: pool}

	// The busy tenant's transactions, as many as the pool, each holding on until released.
	release := make(chan struct{})
	var releaseOnce sync.Once
	// Also when the test fails: the pool closes only once its connections are back.
	defer releaseOnce.Do(func() { close(release) })
	running := make(chan struct{}, poolSize)
	done := make(chan error, poolSize)
	for range poolSize {
		go func() {
			done <- db.InTenant(ctx, busy, func(tx pgx.Tx) error {
				running <- struct{}{}
				<-release
				return nil
			})
		}()
	}
	// Half of them hold connections; the rest wait behind them.
	for range poolSize / 2 {
		<-running
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(running); n != 0 {
		t.Errorf("%d more of the busy tenant's transactions run beyond half the pool", n)
	}

	otherCtx, otherCancel := context.WithTimeout(ctx, 5*time.Second)
	defer otherCancel()
	var n int
	if err := db.InTenant(otherCtx, other, func(tx pgx.Tx) error {
		return tx.QueryRow(otherCtx, `SELECT count(*) FROM conversations`).Scan(&n)
	}); err != nil || n != 1 {
		t.Fatalf("the other tenant's transaction while the busy one piles up: %d conversations, %v; want 1 at once", n, err)
	}

	releaseOnce.Do(func() { close(release) })
	for range poolSize {
		if err := <-done; err != nil {
			t.Errorf("a busy tenant's transaction: %v", err)
		}
	}
	if got := poolSize/2 + len(running); got != poolSize {
		t.Errorf("%d of the busy tenant's %d transactions ran; want all once their turn came", got, poolSize)
	}
}
