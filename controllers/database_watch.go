package controllers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

const (
	// databaseCheckInterval is how often the operator asks PostgreSQL whether it answers.
	databaseCheckInterval = 2 * time.Second
	// databaseCheckTimeout bounds one question, so that a server that hangs counts as down.
	databaseCheckTimeout = 2 * time.Second
)

// Check tells whether the shared database answers within databaseCheckTimeout. It is the
// operator's readiness check: while PostgreSQL is down the operator can change nothing.
func (d *Database) Check(req *http.Request) error {
	return d.ping(req.Context())
}

func (d *Database) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, databaseCheckTimeout)
	defer cancel()
	if err := d.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("PostgreSQL does not answer: %w", err)
	}
	return nil
}

// availability gives a controller an event each time PostgreSQL stops or starts
// answering; the controller then reconciles every resource of its kind (see watch).
func (d *Database) availability() <-chan event.GenericEvent {
	ch := make(chan event.GenericEvent, 1)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.subscribers = append(d.subscribers, ch)
	return ch
}

// watch asks PostgreSQL every databaseCheckInterval whether it answers and, when that
// changes, has every resource reconciled: when it stops, their conditions say so within
// seconds rather than at their next periodic refresh; when it is back, everything is
// applied at once rather than when each resource's backoff ends.
func (d *Database) watch(ctx context.Context) error {
	log := ctrl.Log.WithName("database")
	up := true
	tick := time.NewTicker(databaseCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		err := d.ping(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if (err == nil) == up {
			continue
		}
		up = err == nil
		if up {
			log.Info("PostgreSQL answers again; reconciling every resource")
		} else {
			log.Info("PostgreSQL stopped answering; reconciling every resource to say so", "error", err.Error())
		}
		d.mu.Lock()
		for _, ch := range d.subscribers {
			// One pending event is enough: it makes the controller list every resource.
			select {
			case ch <- event.GenericEvent{Object: &metav1.PartialObjectMetadata{}}:
			default:
			}
		}
		d.mu.Unlock()
	}
}
