package chat

import (
	"github.com/google/uuid"

	"github.com/switchboard-chat/switchboard/services/store"
)

// Observer hears what the chat service stored, for metrics. Calls come on the request's
// path, so an Observer must return at once.
type Observer interface {
	// Message is a message stored in a conversation, by the kind of its author.
	Message(tenant, conversation uuid.UUID, authorKind string)
	// Rating is a visitor's rating of a conversation.
	Rating(tenant, conversation uuid.UUID, r store.Rating)
	// Closed is a conversation that ended.
	Closed(tenant, conversation uuid.UUID)
	// Transferred is a conversation handed to another agent or unit.
	Transferred(tenant, conversation uuid.UUID)
}

type noObserver struct{}

func (noObserver) Message(uuid.UUID, uuid.UUID, string)      {}
func (noObserver) Rating(uuid.UUID, uuid.UUID, store.Rating) {}
func (noObserver) Closed(uuid.UUID, uuid.UUID)               {}
func (noObserver) Transferred(uuid.UUID, uuid.UUID)          {}

// Observe sets the observer of stored messages and ratings.
func (s *Server) Observe(o Observer) { s.observer = o }
