package authz_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/localpg"
	"github.com/switchboard-chat/switchboard/services/localpg/pgtest"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

var cluster *localpg.Cluster

func TestMain(m *testing.M) {
	pgtest.Main(m, func(c *localpg.Cluster) int {
		cluster = c
		return m.Run()
	})
}

// config: in acme, unit sales has a supervisor for each permission set and sam with all
// three; xena supervises support only, with all three. ann takes sales' conversations
// (ben, also in sales, stays offline so that every conversation goes to ann); cat is an
// agent of support whose sessions the session rpcs name. globex, another tenant, has a
// unit of the same name, an agent and a supervisor.
const config = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
spec:
  offlineMessages: true
  supervisors:
    - {name: sergio, permissions: [Supervise]}
    - {name: olga, permissions: [SuperviseOpenChats]}
    - {name: alma, permissions: [AllChats]}
    - {name: sam, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: support, namespace: acme}
spec:
  offlineMessages: true
  supervisors:
    - {name: xena, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ann, namespace: acme}
spec: {agent: ann, businessUnits: [sales], maxConversations: 50}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: ben, namespace: acme}
spec: {agent: ben, businessUnits: [sales], maxConversations: 50}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: cat, namespace: acme}
spec: {agent: cat, businessUnits: [support], maxConversations: 1}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
spec:
  offlineMessages: true
  supervisors:
    - {name: gina, permissions: [Supervise, SuperviseOpenChats, AllChats]}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: AgentCapacity
metadata: {name: gus, namespace: globex}
spec: {agent: gus, businessUnits: [sales], maxConversations: 5}
`

// canary is in every acme conversation; no refusal and no answer to another tenant's
// caller may carry it.
const canary = "my card number is 4711-canary"

// caller is who calls; the rows' expectations name callers by these.
type caller int

const (
	visitorOwn caller = iota
	visitorOther
	agentOwn
	agentOther
	supSupervise
	supOpenChats
	supAllChats
	supAll
	supOtherUnit
	tenantAdmin
	foreignAgent
	foreignSupervisor
	foreignAdmin
	foreignVisitor
	apiKey
	noToken
	expiredStaff
	expiredVisitor
	revokedStaff
	flippedStaff
	flippedVisitor
	tenantSwappedStaff
	tenantSwappedVisitor
	conversationSwapped
	truncated
	garbage
	callers // the number of callers
)

var callerNames = [callers]string{
	visitorOwn:           "the visitor of the conversation",
	visitorOther:         "another visitor of the tenant",
	agentOwn:             "the agent of the conversation",
	agentOther:           "an agent the conversation is not assigned to",
	supSupervise:         "a supervisor with Supervise only",
	supOpenChats:         "a supervisor with SuperviseOpenChats only",
	supAllChats:          "a supervisor with AllChats only",
	supAll:               "a supervisor with all three permissions",
	supOtherUnit:         "a supervisor of another unit only",
	tenantAdmin:          "the tenant admin",
	foreignAgent:         "an agent of another tenant",
	foreignSupervisor:    "a supervisor of another tenant",
	foreignAdmin:         "an admin of another tenant",
	foreignVisitor:       "a visitor of another tenant",
	apiKey:               "the tenant's API key",
	noToken:              "no token",
	expiredStaff:         "an expired staff token",
	expiredVisitor:       "an expired visitor token",
	revokedStaff:         "a revoked staff token",
	flippedStaff:         "a staff token with a secret bit flipped",
	flippedVisitor:       "a visitor token with a secret bit flipped",
	tenantSwappedStaff:   "a staff token moved to another tenant",
	tenantSwappedVisitor: "a visitor token moved to another tenant",
	conversationSwapped:  "a visitor token moved to another conversation",
	truncated:            "a truncated token",
	garbage:              "garbage",
}

// short names the callers in the printed matrix.
var short = [callers]string{"vis", "vis2", "agt", "agt2", "S", "O", "A", "SOA", "unit2", "adm", "xAgt", "xSup", "xAdm", "xVis", "key",
	"none", "expS", "expV", "revS", "flipS", "flipV", "tenS", "tenV", "conv", "trunc", "junk"}

// foreign callers belong to globex: no answer they get may carry acme's data.
func (c caller) foreign() bool {
	return c == foreignAgent || c == foreignSupervisor || c == foreignAdmin || c == foreignVisitor
}

// badToken callers hold no working token of anyone.
func (c caller) badToken() bool { return c >= noToken }

// want is a row's expected answers: the callers named get the code given, every other
// caller of acme or globex PermissionDenied, and the callers without a working token
// Unauthenticated.
type want map[connect.Code][]caller

// ok is the zero code: the call succeeds.
const ok connect.Code = 0

func (w want) code(c caller) connect.Code {
	for code, cs := range w {
		if slices.Contains(cs, c) {
			return code
		}
	}
	if c.badToken() {
		return connect.CodeUnauthenticated
	}
	return connect.CodePermissionDenied
}

// everyone is every caller: public procedures answer them all alike.
func everyone() []caller {
	out := make([]caller, callers)
	for i := range out {
		out[i] = caller(i)
	}
	return out
}

// conversation is one of acme's conversations with its visitor's token.
type conversation struct {
	id, visitorID, token string
}

// scene is what the rows act on: the victim conversation (open, active with ann), which
// a row that may end or move it gets afresh; a closed one to rate; the other visitor's;
// an expired one.
type scene struct {
	victim, closed, other, expired *conversation
	// n numbers the cases, for names that must be unique.
	n int
}

// call is one case: a caller's clients and the conversation its requests are about.
type call struct {
	ctx  context.Context
	chat chatv1connect.ChatServiceClient
	sup  supervisionv1connect.SupervisionServiceClient
	auth authv1connect.AuthServiceClient
	conv conversionv1connect.ConversionServiceClient
	// c is the conversation the request names; widgetKey is acme's.
	c         *conversation
	widgetKey string
	n         int
}

// row is one rpc: how to call it, and who gets what.
type row struct {
	// rpc is the procedure's full name: package.Service/Method.
	rpc  string
	want want
	do   func(x *call) ([]proto.Message, error)
	// target picks the conversation the row acts on; nil means the victim.
	target func(s *scene) *conversation
	// spoils marks a row whose success ends or moves the conversation: the next case gets a
	// fresh one.
	spoils bool
	// spendsToken marks a row whose success revokes the caller's token (Logout).
	spendsToken bool
}

// public reports whether the row answers everyone alike (the procedure takes no token).
func (r row) public() bool {
	for c := range callers {
		if r.want.code(c) != ok {
			return false
		}
	}
	return true
}

func unary[T any](res *connect.Response[T], err error) ([]proto.Message, error) {
	if err != nil {
		return nil, err
	}
	return []proto.Message{any(res.Msg).(proto.Message)}, nil
}

// first reads a stream's first message: a granted stream sends one (a snapshot, a
// replay, a header row) at once; a refused one none.
func first[T any](s *connect.ServerStreamForClient[T], err error) ([]proto.Message, error) {
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if s.Receive() {
		return []proto.Message{any(s.Msg()).(proto.Message)}, nil
	}
	if s.Err() == nil {
		return nil, fmt.Errorf("the stream ended with no message and no error")
	}
	return nil, s.Err()
}

func req[T any](m *T) *connect.Request[T] { return connect.NewRequest(m) }

var month = &supervisionv1.ReportRange{From: "2026-01-01", To: "2026-01-31", BusinessUnit: "sales"}

// rows are every rpc of every service, in the order walked: the conversion and chat
// services, supervision, then auth, whose Logout spends the callers' tokens last.
func rows() []row {
	visitorAndAgent := want{ok: {visitorOwn, agentOwn}, connect.CodeNotFound: {foreignAgent}}
	agents := want{ok: {agentOwn, agentOther, foreignAgent}}
	ownAgent := want{ok: {agentOwn}, connect.CodeNotFound: {foreignAgent}}
	supervise := want{ok: {supSupervise, supAll, tenantAdmin}, connect.CodeNotFound: {foreignSupervisor, foreignAdmin}}
	anyPermission := want{ok: {supSupervise, supOpenChats, supAllChats, supAll, tenantAdmin, foreignSupervisor, foreignAdmin}}
	openChats := want{ok: {supOpenChats, supAll, tenantAdmin, foreignSupervisor, foreignAdmin}}
	allChats := want{ok: {supAllChats, supAll, tenantAdmin, foreignSupervisor, foreignAdmin}}
	allChatsSomewhere := want{ok: {supAllChats, supAll, supOtherUnit, tenantAdmin, foreignSupervisor, foreignAdmin}}
	allChatsOnVisitor := want{ok: {supAllChats, supAll, supOtherUnit, tenantAdmin}, connect.CodeNotFound: {foreignSupervisor, foreignAdmin}}
	supervisors := want{ok: {supSupervise, supOpenChats, supAllChats, supAll, supOtherUnit, tenantAdmin, foreignSupervisor, foreignAdmin}}
	staff := want{ok: {agentOwn, agentOther, supSupervise, supOpenChats, supAllChats, supAll, supOtherUnit, tenantAdmin, foreignAgent, foreignSupervisor, foreignAdmin}}
	admins := want{ok: {tenantAdmin, foreignAdmin}}
	adminOnTarget := want{ok: {tenantAdmin}, connect.CodeNotFound: {foreignAdmin}}
	public := want{ok: everyone()}
	closed := func(s *scene) *conversation { return s.closed }

	return []row{
		{rpc: "switchboard.conversion.v1.ConversionService/RecordConversion", want: want{ok: {apiKey}}, do: func(x *call) ([]proto.Message, error) {
			return unary(x.conv.RecordConversion(x.ctx, req(&conversionv1.RecordConversionRequest{
				OrderId: fmt.Sprintf("order-%d", x.n), Amount: "10.00", Currency: "EUR", ConversationId: x.c.id})))
		}},

		{rpc: "switchboard.chat.v1.ChatService/GetAvailability", want: public, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.GetAvailability(x.ctx, req(&chatv1.GetAvailabilityRequest{WidgetKey: x.widgetKey, BusinessUnit: "support"})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/StartConversation", want: public, do: func(x *call) ([]proto.Message, error) {
			// support has nobody online: the message is kept offline, and ann's load is left alone.
			return unary(x.chat.StartConversation(x.ctx, req(&chatv1.StartConversationRequest{WidgetKey: x.widgetKey, BusinessUnit: "support",
				FirstMessage: &chatv1.Message{ClientMessageId: uuid.NewString(), Text: "hello"}})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/TrackPageView", want: public, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.TrackPageView(x.ctx, req(&chatv1.TrackPageViewRequest{WidgetKey: x.widgetKey, PageUrl: "https://shop.example/", PageTitle: "Shop"})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/LeaveOfflineMessage", want: public, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.LeaveOfflineMessage(x.ctx, req(&chatv1.LeaveOfflineMessageRequest{WidgetKey: x.widgetKey, BusinessUnit: "support", Email: "vic@example.com", Text: "call me"})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/SendMessage", want: visitorAndAgent, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.SendMessage(x.ctx, req(&chatv1.SendMessageRequest{ConversationId: x.c.id, ClientMessageId: uuid.NewString(), Text: "hi"})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/Subscribe", want: visitorAndAgent, do: func(x *call) ([]proto.Message, error) {
			return first(x.chat.Subscribe(x.ctx, req(&chatv1.SubscribeRequest{ConversationId: x.c.id})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/ListEvents", want: visitorAndAgent, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.ListEvents(x.ctx, req(&chatv1.ListEventsRequest{ConversationId: x.c.id})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/GetConversation", want: visitorAndAgent, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.GetConversation(x.ctx, req(&chatv1.GetConversationRequest{ConversationId: x.c.id})))
		}},
		// UpdateDraft reads the conversation before it asks who calls: another tenant's
		// callers are told it does not exist, this tenant's that they may not.
		{rpc: "switchboard.chat.v1.ChatService/UpdateDraft", want: want{ok: {visitorOwn, agentOwn}, connect.CodeNotFound: {foreignAgent, foreignSupervisor, foreignAdmin, foreignVisitor}}, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.UpdateDraft(x.ctx, req(&chatv1.UpdateDraftRequest{ConversationId: x.c.id, Text: "typing…"})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/RateConversation", target: closed, want: want{ok: {visitorOwn}}, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.RateConversation(x.ctx, req(&chatv1.RateConversationRequest{ConversationId: x.c.id, Csat: 5})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/CloseConversation", want: visitorAndAgent, spoils: true, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.CloseConversation(x.ctx, req(&chatv1.CloseConversationRequest{ConversationId: x.c.id})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/SetStatus", want: agents, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.SetStatus(x.ctx, req(&chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AVAILABLE})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/AgentStream", want: agents, do: func(x *call) ([]proto.Message, error) {
			return first(x.chat.AgentStream(x.ctx, req(&chatv1.AgentStreamRequest{})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/ListMyConversations", want: agents, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.ListMyConversations(x.ctx, req(&chatv1.ListMyConversationsRequest{})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/AcceptConversation", want: ownAgent, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.AcceptConversation(x.ctx, req(&chatv1.AcceptConversationRequest{ConversationId: x.c.id})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/TransferConversation", want: ownAgent, spoils: true, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.TransferConversation(x.ctx, req(&chatv1.TransferConversationRequest{ConversationId: x.c.id,
				Target: &chatv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "support"}})))
		}},
		{rpc: "switchboard.chat.v1.ChatService/ListTransferTargets", want: ownAgent, do: func(x *call) ([]proto.Message, error) {
			return unary(x.chat.ListTransferTargets(x.ctx, req(&chatv1.ListTransferTargetsRequest{ConversationId: x.c.id})))
		}},

		{rpc: "switchboard.supervision.v1.SupervisionService/ListAgents", want: anyPermission, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.ListAgents(x.ctx, req(&supervisionv1.ListAgentsRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/WatchAgents", want: anyPermission, do: func(x *call) ([]proto.Message, error) {
			return first(x.sup.WatchAgents(x.ctx, req(&supervisionv1.WatchAgentsRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ListOpenChats", want: openChats, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.ListOpenChats(x.ctx, req(&supervisionv1.ListOpenChatsRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/WatchConversation", want: supervise, do: func(x *call) ([]proto.Message, error) {
			return first(x.sup.WatchConversation(x.ctx, req(&supervisionv1.WatchConversationRequest{ConversationId: x.c.id})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/WatchConversations", want: supervise, do: func(x *call) ([]proto.Message, error) {
			return first(x.sup.WatchConversations(x.ctx, req(&supervisionv1.WatchConversationsRequest{
				Conversations: []*supervisionv1.ConversationCursor{{ConversationId: x.c.id}}})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/AddSupervisedChat", want: supervise, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.AddSupervisedChat(x.ctx, req(&supervisionv1.AddSupervisedChatRequest{ConversationId: x.c.id})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/RemoveSupervisedChat", want: supervisors, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.RemoveSupervisedChat(x.ctx, req(&supervisionv1.RemoveSupervisedChatRequest{ConversationId: x.c.id})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ListSupervisedChats", want: supervisors, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.ListSupervisedChats(x.ctx, req(&supervisionv1.ListSupervisedChatsRequest{})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/Whisper", want: supervise, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.Whisper(x.ctx, req(&supervisionv1.WhisperRequest{ConversationId: x.c.id, ClientMessageId: uuid.NewString(), Text: "psst"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/TransferConversation", want: supervise, spoils: true, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.TransferConversation(x.ctx, req(&supervisionv1.TransferConversationRequest{ConversationId: x.c.id,
				Target: &supervisionv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "support"}})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/FinishConversation", want: supervise, spoils: true, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.FinishConversation(x.ctx, req(&supervisionv1.FinishConversationRequest{ConversationId: x.c.id})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/SearchChats", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.SearchChats(x.ctx, req(&supervisionv1.SearchChatsRequest{Filter: &supervisionv1.ChatFilter{BusinessUnit: "sales"}})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ExportChats", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return first(x.sup.ExportChats(x.ctx, req(&supervisionv1.ExportChatsRequest{Filter: &supervisionv1.ChatFilter{BusinessUnit: "sales"}})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ExportTranscript",
			want: want{ok: {supSupervise, supAllChats, supAll, tenantAdmin}, connect.CodeNotFound: {foreignSupervisor, foreignAdmin}},
			do: func(x *call) ([]proto.Message, error) {
				return first(x.sup.ExportTranscript(x.ctx, req(&supervisionv1.ExportTranscriptRequest{ConversationId: x.c.id, IncludeWhispers: true})))
			}},
		// acme has no mail relay: the callers allowed get as far as being told so.
		{rpc: "switchboard.supervision.v1.SupervisionService/SendTranscript",
			want: want{connect.CodeFailedPrecondition: {supSupervise, supAllChats, supAll, tenantAdmin}, connect.CodeNotFound: {foreignSupervisor, foreignAdmin}},
			do: func(x *call) ([]proto.Message, error) {
				return unary(x.sup.SendTranscript(x.ctx, req(&supervisionv1.SendTranscriptRequest{ConversationId: x.c.id, To: "someone@example.com"})))
			}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ListOfflineMessages", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.ListOfflineMessages(x.ctx, req(&supervisionv1.ListOfflineMessagesRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ExportOfflineMessages", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return first(x.sup.ExportOfflineMessages(x.ctx, req(&supervisionv1.ExportOfflineMessagesRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ListAuditLog", want: admins, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.ListAuditLog(x.ctx, req(&supervisionv1.ListAuditLogRequest{})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/GetVisitor",
			want: want{ok: {supSupervise, supOpenChats, supAllChats, supAll, supOtherUnit, tenantAdmin}, connect.CodeNotFound: {foreignSupervisor, foreignAdmin}},
			do: func(x *call) ([]proto.Message, error) {
				return unary(x.sup.GetVisitor(x.ctx, req(&supervisionv1.GetVisitorRequest{VisitorId: x.c.visitorID})))
			}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ListContacts", want: allChatsSomewhere, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.ListContacts(x.ctx, req(&supervisionv1.ListContactsRequest{})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/CreateContact", want: allChatsSomewhere, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.CreateContact(x.ctx, req(&supervisionv1.CreateContactRequest{
				Profile: &supervisionv1.VisitorProfile{Name: fmt.Sprintf("Contact %d", x.n), Email: fmt.Sprintf("contact%d@example.com", x.n)}})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/UpdateContact", want: allChatsOnVisitor, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.UpdateContact(x.ctx, req(&supervisionv1.UpdateContactRequest{VisitorId: x.c.visitorID,
				Profile: &supervisionv1.VisitorProfile{Name: "Vic", Notes: fmt.Sprintf("note %d", x.n)}})))
		}},
		// A visitor who chatted stays, anonymous: the next case needs a visitor with a profile.
		{rpc: "switchboard.supervision.v1.SupervisionService/DeleteContact", want: allChatsOnVisitor, spoils: true, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.DeleteContact(x.ctx, req(&supervisionv1.DeleteContactRequest{VisitorId: x.c.visitorID})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/WatchOpenChats", want: openChats, do: func(x *call) ([]proto.Message, error) {
			return first(x.sup.WatchOpenChats(x.ctx, req(&supervisionv1.WatchOpenChatsRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ListSignals", want: anyPermission, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.ListSignals(x.ctx, req(&supervisionv1.ListSignalsRequest{BusinessUnit: "sales", ActiveOnly: true})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/GetBoard", want: anyPermission, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.GetBoard(x.ctx, req(&supervisionv1.GetBoardRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/WatchBoard", want: anyPermission, do: func(x *call) ([]proto.Message, error) {
			return first(x.sup.WatchBoard(x.ctx, req(&supervisionv1.WatchBoardRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/GetAgentTable", want: anyPermission, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.GetAgentTable(x.ctx, req(&supervisionv1.GetAgentTableRequest{BusinessUnit: "sales"})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/GetDailyReport", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.GetDailyReport(x.ctx, req(&supervisionv1.GetDailyReportRequest{Range: month})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/GetMonthlyReport", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.GetMonthlyReport(x.ctx, req(&supervisionv1.GetMonthlyReportRequest{Range: month})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/GetVisitorStatistics", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.GetVisitorStatistics(x.ctx, req(&supervisionv1.GetVisitorStatisticsRequest{Range: month})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/GetAgentStatistics", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.GetAgentStatistics(x.ctx, req(&supervisionv1.GetAgentStatisticsRequest{Range: month})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/GetInteractionStatistics", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return unary(x.sup.GetInteractionStatistics(x.ctx, req(&supervisionv1.GetInteractionStatisticsRequest{Range: month})))
		}},
		{rpc: "switchboard.supervision.v1.SupervisionService/ExportReport", want: allChats, do: func(x *call) ([]proto.Message, error) {
			return first(x.sup.ExportReport(x.ctx, req(&supervisionv1.ExportReportRequest{Kind: supervisionv1.ReportKind_REPORT_KIND_DAILY, Range: month})))
		}},

		{rpc: "switchboard.auth.v1.AuthService/Login", want: public, do: func(x *call) ([]proto.Message, error) {
			return unary(x.auth.Login(x.ctx, req(&authv1.LoginRequest{Tenant: "acme", Username: "cat", Password: testenv.Password})))
		}},
		{rpc: "switchboard.auth.v1.AuthService/WhoAmI", want: staff, do: func(x *call) ([]proto.Message, error) {
			return unary(x.auth.WhoAmI(x.ctx, req(&authv1.WhoAmIRequest{})))
		}},
		{rpc: "switchboard.auth.v1.AuthService/ListSessions", want: adminOnTarget, do: func(x *call) ([]proto.Message, error) {
			return unary(x.auth.ListSessions(x.ctx, req(&authv1.ListSessionsRequest{Username: "cat"})))
		}},
		{rpc: "switchboard.auth.v1.AuthService/RevokeSessions", want: adminOnTarget, do: func(x *call) ([]proto.Message, error) {
			return unary(x.auth.RevokeSessions(x.ctx, req(&authv1.RevokeSessionsRequest{Username: "cat", All: true})))
		}},
		{rpc: "switchboard.auth.v1.AuthService/CreateApiKey", want: admins, do: func(x *call) ([]proto.Message, error) {
			return unary(x.auth.CreateApiKey(x.ctx, req(&authv1.CreateApiKeyRequest{Name: fmt.Sprintf("key-%d", x.n)})))
		}},
		{rpc: "switchboard.auth.v1.AuthService/ListApiKeys", want: admins, do: func(x *call) ([]proto.Message, error) {
			return unary(x.auth.ListApiKeys(x.ctx, req(&authv1.ListApiKeysRequest{})))
		}},
		{rpc: "switchboard.auth.v1.AuthService/RevokeApiKey", want: adminOnTarget, do: func(x *call) ([]proto.Message, error) {
			return unary(x.auth.RevokeApiKey(x.ctx, req(&authv1.RevokeApiKeyRequest{Name: "doomed"})))
		}},
		{rpc: "switchboard.auth.v1.AuthService/Logout", want: staff, spendsToken: true, do: func(x *call) ([]proto.Message, error) {
			return unary(x.auth.Logout(x.ctx, req(&authv1.LogoutRequest{})))
		}},
	}
}

// TestAuthorizationMatrix walks every rpc of every service with every caller: each
// answer is the one its row names; a refusal carries no data (a refused stream no
// message) and changes no row of any tenant table.
func TestAuthorizationMatrix(t *testing.T) {
	rows := rows()
	t.Run("every rpc of every service has a row", func(t *testing.T) {
		walked := map[string]bool{}
		for _, r := range rows {
			walked[r.rpc] = true
		}
		for _, file := range []protoreflect.FileDescriptor{authv1.File_switchboard_auth_v1_auth_proto, chatv1.File_switchboard_chat_v1_chat_proto,
			supervisionv1.File_switchboard_supervision_v1_supervision_proto, conversionv1.File_switchboard_conversion_v1_conversion_proto} {
			for i := range file.Services().Len() {
				svc := file.Services().Get(i)
				for j := range svc.Methods().Len() {
					name := string(svc.FullName()) + "/" + string(svc.Methods().Get(j).Name())
					if !walked[name] {
						t.Errorf("rpc %s has no row in the matrix", name)
					}
					delete(walked, name)
				}
			}
		}
		for name := range walked {
			t.Errorf("row %s names no rpc", name)
		}
	})

	f := newFixture(t)
	var cases, refusals int
	grid := map[string][callers]string{}
	for _, r := range rows {
		// Refusals first, the batch between two snapshots, then the callers allowed. (A
		// caller allowed who is told the precondition fails changes nothing either, and
		// goes with the refusals, though not counted as one.)
		var refused, allowed []caller
		for c := range callers {
			if r.want.code(c) == ok {
				allowed = append(allowed, c)
			} else {
				refused = append(refused, c)
			}
		}
		var cells [callers]string
		for c := range callers {
			f.token(t, c, f.scene.victim) // signing in writes a session: not during the refusals
		}
		before := f.settledSnapshot(t)
		for _, c := range refused {
			cells[c] = f.run(t, r, c)
			cases++
			if code := r.want.code(c); code != connect.CodeFailedPrecondition {
				refusals++
			}
		}
		if after := f.snapshot(t); after != before {
			t.Errorf("refused calls of %s changed rows: %s", r.rpc, diff(before, after))
		}
		for _, c := range allowed {
			cells[c] = f.run(t, r, c)
			cases++
		}
		grid[r.rpc] = cells
	}
	t.Logf("authorization matrix (OK, or the code: PD PermissionDenied, NF NotFound, UA Unauthenticated, FP FailedPrecondition):\n%s", table(rows, grid))
	t.Logf("%d rpcs × %d callers: %d cases asserted, %d of them refusals", len(rows), callers, cases, refusals)
}

var abbrev = map[connect.Code]string{ok: "OK", connect.CodePermissionDenied: "PD", connect.CodeNotFound: "NF",
	connect.CodeUnauthenticated: "UA", connect.CodeFailedPrecondition: "FP"}

func table(rows []row, grid map[string][callers]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-42s", "")
	for _, s := range short {
		fmt.Fprintf(&b, " %-5s", s)
	}
	b.WriteByte('\n')
	for _, r := range rows {
		_, method, _ := strings.Cut(r.rpc, ".v1.")
		fmt.Fprintf(&b, "%-42s", method)
		for _, cell := range grid[r.rpc] {
			fmt.Fprintf(&b, " %-5s", cell)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// run makes one case's call and checks its answer; it returns the answer's abbreviation.
func (f *fixture) run(t *testing.T, r row, c caller) string {
	t.Helper()
	f.scene.n++
	target := f.scene.victim
	if r.target != nil {
		target = r.target(f.scene)
	}
	if c == expiredVisitor {
		target = f.scene.expired
	}
	token := f.token(t, c, target)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	x := &call{ctx: ctx, c: target, widgetKey: f.env.Tenants["acme"].WidgetKey, n: f.scene.n,
		chat: f.env.Chat(token), sup: f.env.Supervision(token), auth: f.env.Auth(token),
		conv: conversionv1connect.NewConversionServiceClient(f.env.HTTP, f.env.Base, connect.WithInterceptors(testenv.Bearer(token)))}
	msgs, err := r.do(x)
	got := testenv.Code(err)
	wantCode := r.want.code(c)
	name := fmt.Sprintf("%s: %s", r.rpc, callerNames[c])
	if got != wantCode {
		t.Errorf("%s: got %v, want %s", name, describe(err), describe(connect.NewError(wantCode, nil)))
	}
	if err != nil {
		if len(msgs) > 0 {
			t.Errorf("%s: refused, yet %d messages came", name, len(msgs))
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("%s: the refusal carries the conversation's text: %v", name, err)
		}
	}
	if c.foreign() && !r.public() {
		for _, m := range msgs {
			text, _ := protojson.Marshal(m)
			for _, secret := range f.acmeSecrets() {
				if strings.Contains(string(text), secret) {
					t.Errorf("%s: another tenant's caller got acme's %q: %s", name, secret, text)
				}
			}
		}
	}
	if err == nil && r.spoils && r.target == nil && c != expiredVisitor {
		f.renew(t)
	}
	if err == nil && r.spendsToken {
		delete(f.tokens, c)
	}
	if a, ok := abbrev[got]; ok {
		return a
	}
	return got.String()
}

func describe(err error) string {
	if err == nil {
		return "OK"
	}
	return err.Error()
}
