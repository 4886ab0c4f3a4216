package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the PostgreSQL notification channel replicas share.
const Channel = "switchboard_live"

// Notice kinds.
const (
	// NoticeEvent: a conversation stored event Seq.
	NoticeEvent = 'e'
	// NoticeDraft: a draft of a conversation changed; Extra is the author kind.
	NoticeDraft = 'd'
	// NoticeAssignment: agent ID's hold on conversation Ref changed.
	NoticeAssignment = 'a'
	// NoticeStatus: agent ID's status changed.
	NoticeStatus = 's'
	// NoticeSignal: signal ID was raised or cleared.
	NoticeSignal = 'g'
)

// Notice is what one replica tells the others: ids and a sequence number, never content.
type Notice struct {
	Kind   byte
	Tenant uuid.UUID
	// ID is the conversation (events, drafts) or the agent (assignments, status).
	ID uuid.UUID
	// Ref is the conversation of an assignment notice.
	Ref   uuid.UUID
	Seq   int64
	Extra string
}

// Topic is the hub topic the notice is about.
func (n Notice) Topic() Topic {
	switch n.Kind {
	case NoticeAssignment, NoticeStatus:
		return Agent(n.Tenant, n.ID)
	case NoticeSignal:
		return Signals(n.Tenant)
	}
	return Conversation(n.Tenant, n.ID)
}

// Loader turns notices from other replicas into items for local subscribers, reading what
// it needs from the database.
type Loader func(ctx context.Context, notices []Notice)

// Bridge carries notices between replicas through LISTEN/NOTIFY. Notices are batched:
// a sender never waits on a notification round trip.
type Bridge struct {
	pool    *pgxpool.Pool
	hub     *Hub
	replica uuid.UUID
	self    string
	load    Loader
	queue   chan Notice
	ready   chan struct{}
}

// batchWindow is how long the bridge gathers notices into one notification.
const batchWindow = 5 * time.Millisecond

// maxPayload stays under PostgreSQL's 8000-byte notification payload limit.
const maxPayload = 7800

// NewBridge returns a bridge for replica; Run starts it.
func NewBridge(pool *pgxpool.Pool, hub *Hub, replica uuid.UUID, load Loader) *Bridge {
	return &Bridge{pool: pool, hub: hub, replica: replica, self: replica.String() + ";", load: load, queue: make(chan Notice, 1<<16), ready: make(chan struct{})}
}

// Ready is closed once the bridge listens.
func (b *Bridge) Ready() <-chan struct{} { return b.ready }

// Tell queues a notice for the other replicas. It never blocks: when the queue is full the
// notice is dropped, and remote subscribers fill the gap from the database on the next one.
func (b *Bridge) Tell(n Notice) {
	select {
	case b.queue <- n:
	default:
		slog.Warn("live bridge queue full, dropping a notice", "kind", string(n.Kind))
	}
}

// Run sends and receives notices until ctx ends.
func (b *Bridge) Run(ctx context.Context) {
	go b.listen(ctx)
	b.send(ctx)
}

func (b *Bridge) send(ctx context.Context) {
	var sb strings.Builder
	flush := func() {
		if sb.Len() == 0 {
			return
		}
		payload := sb.String()
		sb.Reset()
		// The events are committed: tell the others once the database answers again (a
		// replica whose listener was cut too re-reads anyway, see listenOnce).
		for wait := 100 * time.Millisecond; ; wait = min(wait*2, time.Second) {
			_, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, payload)
			if err == nil || ctx.Err() != nil {
				return
			}
			if !unreachable(err) {
				slog.Warn("live bridge: notify failed", "err", err)
				return
			}
			slog.Warn("live bridge: notify failed, retrying", "err", err, "wait", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-b.queue:
			sb.WriteString(b.replica.String())
			encode(&sb, n)
			// Gather what else comes within batchWindow, up to one payload: one
			// notification (one commit) carries many notices under load.
			window := time.NewTimer(batchWindow)
		more:
			for sb.Len() < maxPayload-200 {
				select {
				case n := <-b.queue:
					encode(&sb, n)
				case <-window.C:
					break more
				case <-ctx.Done():
					break more
				}
			}
			window.Stop()
			flush()
		}
	}
}

// unreachable reports whether err says the database could not be reached (no answer, or
// one refusing connections while it starts or stops), which a retry may cure.
func unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return true
}

func encode(sb *strings.Builder, n Notice) {
	sb.WriteByte(';')
	sb.WriteByte(n.Kind)
	sb.WriteByte(',')
	sb.WriteString(n.Tenant.String())
	sb.WriteByte(',')
	sb.WriteString(n.ID.String())
	sb.WriteByte(',')
	if n.Ref != uuid.Nil {
		sb.WriteString(n.Ref.String())
	}
	sb.WriteByte(',')
	sb.WriteString(strconv.FormatInt(n.Seq, 10))
	sb.WriteByte(',')
	sb.WriteString(n.Extra)
}

// decode parses a payload; it returns the sending replica and its notices.
func decode(payload string) (uuid.UUID, []Notice, error) {
	parts := strings.Split(payload, ";")
	replica, err := uuid.Parse(parts[0])
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("bad replica id: %w", err)
	}
	notices := make([]Notice, 0, len(parts)-1)
	for _, p := range parts[1:] {
		f := strings.Split(p, ",")
		if len(f) != 6 || len(f[0]) != 1 {
			return uuid.Nil, nil, fmt.Errorf("bad notice %q", p)
		}
		n := Notice{Kind: f[0][0], Extra: f[5]}
		if n.Tenant, err = uuid.Parse(f[1]); err != nil {
			return uuid.Nil, nil, err
		}
		if n.ID, err = uuid.Parse(f[2]); err != nil {
			return uuid.Nil, nil, err
		}
		if f[3] != "" {
			if n.Ref, err = uuid.Parse(f[3]); err != nil {
				return uuid.Nil, nil, err
			}
		}
		if n.Seq, err = strconv.ParseInt(f[4], 10, 64); err != nil {
			return uuid.Nil, nil, err
		}
		notices = append(notices, n)
	}
	return replica, notices, nil
}

func (b *Bridge) listen(ctx context.Context) {
	wait := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		listened, err := b.listenOnce(ctx, &first)
		if ctx.Err() != nil {
			return
		}
		if listened {
			wait = 100 * time.Millisecond // lost after working: come back quickly
		}
		slog.Warn("live bridge: listener lost, reconnecting", "err", err, "wait", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// listenOnce listens until the connection fails; listened says whether it got as far as
// listening.
func (b *Bridge) listenOnce(ctx context.Context, first *bool) (listened bool, err error) {
	pc, err := b.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return false, err
	}
	if *first {
		*first = false
		close(b.ready)
	} else {
		// Notices sent while nobody listened are gone; now that every later one will be
		// heard, the streams read again what they may have missed.
		slog.Info("live bridge: listening again; streams re-read what they may have missed")
		b.hub.Missed()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if strings.HasPrefix(n.Payload, b.self) {
			continue // this replica's own notification
		}
		replica, notices, err := decode(n.Payload)
		if err != nil {
			slog.Warn("live bridge: ignoring a bad payload", "err", err)
			continue
		}
		if replica == b.replica {
			continue
		}
		wanted := notices[:0]
		for _, n := range notices {
			if b.hub.HasSubscribers(n.Topic()) {
				wanted = append(wanted, n)
			}
		}
		if len(wanted) > 0 {
			b.load(ctx, wanted)
		}
	}
}
