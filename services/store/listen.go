package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen follows a notification channel on a connection of its own until ctx ends, and
// reconnects with a backoff when the connection is lost. connected (if not nil) is called
// each time it listens, the first time too: notices sent while it was away are lost, and
// a follower that must not miss any catches up there. notified is called with each
// payload, in order, on Listen's goroutine.
func (db *DB) Listen(ctx context.Context, channel string, connected func(), notified func(payload string)) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		listened, err := db.listenOnce(ctx, channel, connected, notified)
		if ctx.Err() != nil {
			return
		}
		if listened {
			wait = 100 * time.Millisecond
		}
		slog.Warn("listener lost, reconnecting", "channel", channel, "err", err, "wait", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// listenOnce listens until the connection fails; listened says whether it got that far.
func (db *DB) listenOnce(ctx context.Context, channel string, connected func(), notified func(string)) (listened bool, err error) {
	pc, err := db.Pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, err
	}
	if connected != nil {
		connected()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		notified(n.Payload)
	}
}
