// Package live is the live hub: it fans events out to the streams of this process and,
// through PostgreSQL LISTEN/NOTIFY, to the streams of other replicas. Notifications carry
// only ids and sequence numbers; receivers read the events themselves from the database,
// which stays the source of truth.
//
// A publisher never waits for a subscriber: each subscription has a bounded buffer, and a
// subscription whose buffer is full is ended with ErrOverflow so its client resumes from
// the last sequence number it got.
package live

import (
	"errors"
	"sync"

	"github.com/google/uuid"

	"github.com/switchboard-chat/switchboard/services/store"
)

// TopicKind says what a topic follows.
type TopicKind byte

// Topic kinds.
const (
	// ConversationTopic carries a conversation's events.
	ConversationTopic TopicKind = 'c'
	// AgentTopic carries an agent's assignments and status.
	AgentTopic TopicKind = 'a'
	// SignalTopic carries a tenant's signals as they are raised and cleared.
	SignalTopic TopicKind = 'g'
	// ActivityTopic carries every message and system event of a tenant's conversations
	// (no drafts), for views over many conversations such as the open chats.
	ActivityTopic TopicKind = 'v'
)

// Topic is one conversation's or one agent's updates within a tenant.
type Topic struct {
	Tenant uuid.UUID
	Kind   TopicKind
	ID     uuid.UUID
}

// Conversation is the topic of a conversation's events.
func Conversation(tenant, conversation uuid.UUID) Topic {
	return Topic{Tenant: tenant, Kind: ConversationTopic, ID: conversation}
}

// Agent is the topic of an agent's assignments and status.
func Agent(tenant, agent uuid.UUID) Topic {
	return Topic{Tenant: tenant, Kind: AgentTopic, ID: agent}
}

// Signals is the topic of a tenant's signals.
func Signals(tenant uuid.UUID) Topic {
	return Topic{Tenant: tenant, Kind: SignalTopic}
}

// Activity is the topic of every message and system event of a tenant's conversations.
func Activity(tenant uuid.UUID) Topic {
	return Topic{Tenant: tenant, Kind: ActivityTopic}
}

// Item is one update on a topic; exactly one of Event, Assignment, Status and Signal is
// set, or Missed.
type Item struct {
	// Event is an event of a conversation topic.
	Event *store.Event
	// Assignment is, on an agent topic, a conversation as it is after its assignment changed.
	Assignment *store.Conversation
	// Agent is, with Assignment, the agent whose topic it is: the one that gained or lost
	// the conversation.
	Agent uuid.UUID
	// Status is, on an agent topic, the agent after its status changed.
	Status *store.Agent
	// Signal is, on a signal topic, a signal as raised or cleared.
	Signal *store.Signal
	// Remote is true for an item another replica stored (and told this one about).
	Remote bool
	// Missed says that updates of other replicas may have been lost (see Hub.Missed): the
	// stream reads again from the database what it shows.
	Missed bool
}

// Why a subscription ended.
var (
	// ErrOverflow: the subscriber fell behind and its buffer filled up.
	ErrOverflow = errors.New("subscriber fell behind")
	// ErrShutdown: the server is shutting down.
	ErrShutdown = errors.New("server shutting down")
)

// DefaultBuffer is the number of items a subscription holds before it overflows.
const DefaultBuffer = 1024

// Hub fans items out to subscriptions in this process.
type Hub struct {
	buffer int

	mu     sync.RWMutex
	topics map[Topic]map[*Subscription]struct{}
	closed bool
	taps   []func(Topic, Item)
}

// Tap calls fn with every item published on any topic, on the publisher's goroutine: fn
// must return at once (hand the item to a buffered channel, say). Set taps before
// publishing starts.
func (h *Hub) Tap(fn func(Topic, Item)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.taps = append(h.taps, fn)
}

// NewHub returns a hub whose subscriptions buffer up to buffer items (0 means DefaultBuffer).
func NewHub(buffer int) *Hub {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Hub{buffer: buffer, topics: map[Topic]map[*Subscription]struct{}{}}
}

// Subscription receives the items of its topics on C until Done is closed.
type Subscription struct {
	hub  *Hub
	ch   chan Item
	done chan struct{}
	once sync.Once
	err  error

	mu     sync.Mutex
	topics map[Topic]struct{}
}

// Subscribe starts a subscription to the given topics.
func (h *Hub) Subscribe(topics ...Topic) *Subscription {
	s := &Subscription{hub: h, ch: make(chan Item, h.buffer), done: make(chan struct{}), topics: map[Topic]struct{}{}}
	h.mu.RLock()
	closed := h.closed
	h.mu.RUnlock()
	if closed {
		s.end(ErrShutdown)
		return s
	}
	for _, t := range topics {
		s.Add(t)
	}
	return s
}

// C delivers the subscription's items in the order they were published per topic.
func (s *Subscription) C() <-chan Item { return s.ch }

// Done is closed when the subscription ended; Err then says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is why the subscription ended: ErrOverflow, ErrShutdown, or nil after Close.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Add subscribes to one more topic.
func (s *Subscription) Add(t Topic) {
	s.mu.Lock()
	s.topics[t] = struct{}{}
	s.mu.Unlock()
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		go s.end(ErrShutdown)
		return
	}
	subs := h.topics[t]
	if subs == nil {
		subs = map[*Subscription]struct{}{}
		h.topics[t] = subs
	}
	subs[s] = struct{}{}
}

// Remove unsubscribes from a topic.
func (s *Subscription) Remove(t Topic) {
	s.mu.Lock()
	delete(s.topics, t)
	s.mu.Unlock()
	s.hub.detach(s, t)
}

// Close ends the subscription.
func (s *Subscription) Close() { s.end(nil) }

func (s *Subscription) end(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
		s.mu.Lock()
		topics := make([]Topic, 0, len(s.topics))
		for t := range s.topics {
			topics = append(topics, t)
		}
		s.mu.Unlock()
		for _, t := range topics {
			s.hub.detach(s, t)
		}
	})
}

func (h *Hub) detach(s *Subscription, t Topic) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if subs := h.topics[t]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.topics, t)
		}
	}
}

// Publish hands an item to every subscription of the topic without waiting: a
// subscription whose buffer is full is ended with ErrOverflow.
func (h *Hub) Publish(t Topic, it Item) {
	var overflowed []*Subscription
	h.mu.RLock()
	for _, tap := range h.taps {
		tap(t, it)
	}
	for s := range h.topics[t] {
		select {
		case s.ch <- it:
		default:
			overflowed = append(overflowed, s)
		}
	}
	h.mu.RUnlock()
	for _, s := range overflowed {
		s.end(ErrOverflow)
	}
}

// Missed hands every subscription one Missed item: the live bridge lost its database
// connection, so other replicas' notices went unheard and any stream may lack updates that
// no later notice will reveal. A subscription whose buffer is full is ended with
// ErrOverflow, which has its client read again too.
func (h *Hub) Missed() {
	var overflowed []*Subscription
	told := map[*Subscription]bool{}
	h.mu.RLock()
	for _, subs := range h.topics {
		for s := range subs {
			if told[s] {
				continue
			}
			told[s] = true
			select {
			case s.ch <- Item{Missed: true}:
			default:
				overflowed = append(overflowed, s)
			}
		}
	}
	h.mu.RUnlock()
	for _, s := range overflowed {
		s.end(ErrOverflow)
	}
}

// HasSubscribers reports whether anyone in this process follows the topic.
func (h *Hub) HasSubscribers(t Topic) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.topics[t]) > 0
}

// Subscribers counts the subscriptions of this process, for metrics.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	seen := map[*Subscription]struct{}{}
	for _, subs := range h.topics {
		for s := range subs {
			seen[s] = struct{}{}
		}
	}
	return len(seen)
}

// Shutdown ends every subscription with ErrShutdown and refuses new ones, so streams
// return and the server can drain.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	h.closed = true
	var all []*Subscription
	for _, subs := range h.topics {
		for s := range subs {
			all = append(all, s)
		}
	}
	h.mu.Unlock()
	for _, s := range all {
		s.end(ErrShutdown)
	}
}
