package chat

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/store"
)

var stateToProto = map[string]chatv1.ConversationState{
	store.StateQueued:   chatv1.ConversationState_CONVERSATION_STATE_QUEUED,
	store.StateAssigned: chatv1.ConversationState_CONVERSATION_STATE_ASSIGNED,
	store.StateActive:   chatv1.ConversationState_CONVERSATION_STATE_ACTIVE,
	store.StateClosed:   chatv1.ConversationState_CONVERSATION_STATE_CLOSED,
}

var authorToProto = map[string]chatv1.AuthorKind{
	store.AuthorVisitor:    chatv1.AuthorKind_AUTHOR_KIND_VISITOR,
	store.AuthorAgent:      chatv1.AuthorKind_AUTHOR_KIND_AGENT,
	store.AuthorSupervisor: chatv1.AuthorKind_AUTHOR_KIND_SUPERVISOR,
	store.AuthorSystem:     chatv1.AuthorKind_AUTHOR_KIND_SYSTEM,
}

var systemToProto = map[string]chatv1.SystemEventKind{
	store.SystemStarted:     chatv1.SystemEventKind_SYSTEM_EVENT_KIND_STARTED,
	store.SystemQueued:      chatv1.SystemEventKind_SYSTEM_EVENT_KIND_QUEUED,
	store.SystemAssigned:    chatv1.SystemEventKind_SYSTEM_EVENT_KIND_ASSIGNED,
	store.SystemAccepted:    chatv1.SystemEventKind_SYSTEM_EVENT_KIND_ACCEPTED,
	store.SystemTransferred: chatv1.SystemEventKind_SYSTEM_EVENT_KIND_TRANSFERRED,
	store.SystemClosed:      chatv1.SystemEventKind_SYSTEM_EVENT_KIND_CLOSED,
	store.SystemRated:       chatv1.SystemEventKind_SYSTEM_EVENT_KIND_RATED,
}

var statusToProto = map[string]chatv1.AgentStatus{
	"available": chatv1.AgentStatus_AGENT_STATUS_AVAILABLE,
	"busy":      chatv1.AgentStatus_AGENT_STATUS_BUSY,
	"away":      chatv1.AgentStatus_AGENT_STATUS_AWAY,
	"offline":   chatv1.AgentStatus_AGENT_STATUS_OFFLINE,
}

var statusFromProto = map[chatv1.AgentStatus]string{
	chatv1.AgentStatus_AGENT_STATUS_AVAILABLE: "available",
	chatv1.AgentStatus_AGENT_STATUS_BUSY:      "busy",
	chatv1.AgentStatus_AGENT_STATUS_AWAY:      "away",
}

// ConversationToProto converts a conversation for the API.
func ConversationToProto(c *store.Conversation) *chatv1.Conversation {
	out := &chatv1.Conversation{
		Id:             c.ID.String(),
		BusinessUnit:   c.UnitName,
		State:          stateToProto[c.State],
		Agent:          c.AgentName,
		VisitorId:      c.VisitorID.String(),
		VisitorName:    c.VisitorName,
		CreatedAt:      timestamppb.New(c.CreatedAt),
		LastActivityAt: timestamppb.New(c.LastActivityAt),
		LastSeq:        c.LastSeq,
	}
	if c.ClosedAt != nil {
		out.ClosedAt = timestamppb.New(*c.ClosedAt)
	}
	return out
}

// AuthorToProto converts an event's author for the API.
func AuthorToProto(a store.Author) *chatv1.Author {
	return &chatv1.Author{Kind: authorToProto[a.Kind], Id: a.ID, DisplayName: a.Name}
}

// EventToProto converts a stored or live event for the API. The caller has already
// decided the audience may see it; drafts are converted as drafts (for staff).
func EventToProto(e *store.Event) *chatv1.Event {
	out := &chatv1.Event{
		ConversationId: e.ConversationID.String(),
		Seq:            e.Seq,
		CreatedAt:      timestamppb.New(e.CreatedAt),
		Author:         &chatv1.Author{Kind: authorToProto[e.AuthorKind], Id: e.AuthorID, DisplayName: e.AuthorName},
	}
	switch e.Kind {
	case store.KindMessage:
		out.Payload = &chatv1.Event_Message{Message: &chatv1.Message{ClientMessageId: e.ClientMessageID, Text: e.Body}}
	case store.KindSystem:
		out.Payload = &chatv1.Event_System{System: &chatv1.SystemEvent{
			Kind: systemToProto[e.SystemKind], Agent: e.AgentName, BusinessUnit: e.UnitName, Detail: e.Body}}
	case store.KindDraft:
		out.Payload = &chatv1.Event_Draft{Draft: &chatv1.Draft{Text: e.Body}}
	}
	return out
}

// eventFor converts a stored event for the principal who reads it: a visitor's system
// events carry no detail, which holds staff's words (a transfer note, a close reason).
func eventFor(p *auth.Principal, e *store.Event) *chatv1.Event {
	out := EventToProto(e)
	if sys := out.GetSystem(); sys != nil && p.Visitor {
		sys.Detail = ""
	}
	return out
}

// typingToProto is what a visitor sees of an agent's draft: that the agent types, not what.
func typingToProto(e *store.Event) *chatv1.Event {
	return &chatv1.Event{
		ConversationId: e.ConversationID.String(),
		Seq:            e.Seq,
		CreatedAt:      timestamppb.New(e.CreatedAt),
		Author:         &chatv1.Author{Kind: authorToProto[e.AuthorKind], Id: e.AuthorID, DisplayName: e.AuthorName},
		Payload:        &chatv1.Event_Typing{Typing: &chatv1.Typing{Typing: e.Body != ""}},
	}
}

// StatusToProto converts an agent status for the API.
func StatusToProto(status string) chatv1.AgentStatus { return statusToProto[status] }
