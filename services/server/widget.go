package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-chat/switchboard/services/store"
)

// widgetOrigins knows, by widget key, where the widget's frame may be shown (Tenant
// spec.widget.allowedOrigins). Every page view of a customer's site loads the frame, so the
// answers are kept in memory; a change announced on store.WidgetChannel drops the tenant's,
// and everything is dropped when the listener reconnects (it may have missed some).
type widgetOrigins struct {
	db *store.DB
	mu sync.Mutex
	// byKey holds known keys only: an unknown key is asked of the database each time, so
	// that a stranger's made-up keys cannot fill the memory.
	byKey map[string]widgetEntry
}

type widgetEntry struct {
	tenant  uuid.UUID
	origins []string
	at      time.Time
}

// widgetOriginsTTL bounds how long an answer is kept should a notification be lost with
// the listener's connection before it noticed.
const widgetOriginsTTL = 5 * time.Minute

// maxWidgetKeys bounds the memory: past it the map starts again (each tenant has one key).
const maxWidgetKeys = 10_000

func newWidgetOrigins(db *store.DB) *widgetOrigins {
	return &widgetOrigins{db: db, byKey: map[string]widgetEntry{}}
}

// Lookup returns the origins whose pages may show the frame of key (none: every site), or
// ok false for a key no tenant has or when the database cannot tell.
func (w *widgetOrigins) Lookup(ctx context.Context, key string) ([]string, bool) {
	w.mu.Lock()
	e, hit := w.byKey[key]
	w.mu.Unlock()
	if hit && time.Since(e.at) < widgetOriginsTTL {
		return e.origins, true
	}
	tenant, origins, err := w.db.WidgetOrigins(ctx, key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			slog.Warn("widget origins lookup failed; the frame may be shown on Switchboard's own pages only", "err", err)
		}
		return nil, false
	}
	w.mu.Lock()
	if len(w.byKey) >= maxWidgetKeys {
		clear(w.byKey)
	}
	w.byKey[key] = widgetEntry{tenant: tenant, origins: origins, at: time.Now()}
	w.mu.Unlock()
	return origins, true
}

// Run follows changes until ctx ends.
func (w *widgetOrigins) Run(ctx context.Context) {
	w.db.Listen(ctx, store.WidgetChannel, w.forgetAll, func(payload string) {
		tenant, err := uuid.Parse(payload)
		if err != nil {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		for key, e := range w.byKey {
			if e.tenant == tenant {
				delete(w.byKey, key)
			}
		}
	})
}

func (w *widgetOrigins) forgetAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.byKey)
}
