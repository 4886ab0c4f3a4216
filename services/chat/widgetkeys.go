package chat

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-chat/switchboard/services/store"
)

// widgetKeyTTL is how long a widget key's tenant is remembered. Suspending or resuming a
// tenant forgets it at once (see OnConfigChange); a deleted tenant's key works at most
// this long, into calls that then find nothing of it.
const widgetKeyTTL = 30 * time.Second

// widgetKeys remembers the tenants of known widget keys, so that widget calls (a page view
// on every page of a site) find their tenant without a query, and a flood of them is
// limited before any database work. Unknown keys are never remembered: guessing is
// limited per address instead. There are as many entries as tenants in use.
type widgetKeys struct {
	mu sync.Mutex
	m  map[string]widgetKey
}

type widgetKey struct {
	t     store.TenantRef
	until time.Time
}

// tenant finds the tenant of a widget key, remembered or from the database.
func (w *widgetKeys) tenant(ctx context.Context, db *store.DB, key string) (*store.TenantRef, error) {
	now := time.Now()
	w.mu.Lock()
	e, ok := w.m[key]
	w.mu.Unlock()
	if ok && now.Before(e.until) {
		t := e.t
		return &t, nil
	}
	t, err := db.TenantByWidgetKey(ctx, key)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if w.m == nil || len(w.m) > 10_000 {
		w.m = map[string]widgetKey{}
	}
	w.m[key] = widgetKey{t: *t, until: now.Add(widgetKeyTTL)}
	w.mu.Unlock()
	return t, nil
}

// remembered is the tenant of a widget key remembered now; it asks the database nothing.
func (w *widgetKeys) remembered(key string) (uuid.UUID, bool) {
	w.mu.Lock()
	e, ok := w.m[key]
	w.mu.Unlock()
	if !ok || !time.Now().Before(e.until) {
		return uuid.Nil, false
	}
	return e.t.ID, true
}

// forget drops a tenant's keys (uuid.Nil: every key).
func (w *widgetKeys) forget(tenant uuid.UUID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, e := range w.m {
		if tenant == uuid.Nil || e.t.ID == tenant {
			delete(w.m, k)
		}
	}
}
