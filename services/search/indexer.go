// Package search keeps the all-chats search index: behind the conversations (at once for
// closed ones, at most ReindexAfter for open ones), it adds their new messages' words to each conversation's search document
// and the visitor's sentiment to its summary, off the path that stores messages.
package search

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-chat/switchboard/services/sentiment"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Interval is how often the indexer looks for new messages.
const Interval = time.Second

// ReindexAfter is how long an open conversation's document waits between two updates:
// a closed conversation is indexed at once, an open one is searchable at most this far
// behind. Each update rewrites the whole document, so updating on every message would
// cost more the longer the conversation.
const ReindexAfter = 15 * time.Second

// batch is how many conversations one pass indexes per tenant.
const batch = 200

// Indexer fills the search index.
type Indexer struct {
	db     *store.DB
	scorer sentiment.Scorer
}

// NewIndexer returns an indexer scoring visitors' messages with scorer.
func NewIndexer(db *store.DB, scorer sentiment.Scorer) *Indexer {
	return &Indexer{db: db, scorer: scorer}
}

// Run indexes every Interval until ctx ends.
func (ix *Indexer) Run(ctx context.Context) {
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := ix.IndexOnce(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("search indexer", "err", err)
			}
		}
	}
}

// IndexOnce brings every tenant's index up to date, as far as one pass goes, and returns
// how many conversations it updated. A tenant another replica is indexing is skipped.
func (ix *Indexer) IndexOnce(ctx context.Context) (int, error) {
	tenants, err := ix.db.TenantIDs(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, tenant := range tenants {
		for {
			n, err := ix.indexTenant(ctx, tenant)
			if err != nil {
				return total, err
			}
			total += n
			if n < batch {
				break
			}
		}
	}
	return total, nil
}

func (ix *Indexer) indexTenant(ctx context.Context, tenant uuid.UUID) (int, error) {
	n := 0
	err := ix.db.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		n = 0
		if ok, err := store.TryIndexLock(ctx, tx, tenant); err != nil || !ok {
			return err
		}
		events, upTo, err := store.Unindexed(ctx, tx, batch, ReindexAfter)
		if err != nil {
			return err
		}
		for conv, evs := range events {
			u := store.IndexUpdate{Conversation: conv, UpToSeq: upTo[conv]}
			var text strings.Builder
			for _, e := range evs {
				if e.Kind != store.KindMessage || e.Visibility != store.VisibleToAll {
					continue
				}
				text.WriteString(e.Body)
				text.WriteByte('\n')
				u.Messages++
				if e.AuthorKind == store.AuthorVisitor {
					u.SentimentSum += ix.scorer.Score(e.Body)
					u.SentimentCount++
				}
			}
			u.Text = text.String()
			if err := store.ApplyIndex(ctx, tx, tenant, u); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
