package hostile_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
)

// methods are every rpc of every service, in the order of the proto files: the fuzzer
// picks one by a number, modulo their count.
var methods = func() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	for _, file := range []protoreflect.FileDescriptor{authv1.File_switchboard_auth_v1_auth_proto, chatv1.File_switchboard_chat_v1_chat_proto,
		supervisionv1.File_switchboard_supervision_v1_supervision_proto, conversionv1.File_switchboard_conversion_v1_conversion_proto} {
		for i := range file.Services().Len() {
			svc := file.Services().Get(i)
			for j := range svc.Methods().Len() {
				out = append(out, svc.Methods().Get(j))
			}
		}
	}
	return out
}()

func procedure(m protoreflect.MethodDescriptor) string {
	return "/" + string(m.Parent().FullName()) + "/" + string(m.Name())
}

// seed is a well-formed request of an rpc and the caller it is meant for.
type seed struct {
	who caller
	msg proto.Message
}

// visitorKey is shaped like the visitor keys the server hands out (it names nobody yet).
const visitorKey = "sbk.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"

var month = &supervisionv1.ReportRange{From: "2026-01-01", To: "2026-01-31", BusinessUnit: "sales", TimeZone: "Europe/Berlin"}

// seeds are a well-formed request for every rpc, naming the fixture's rows by their
// placeholders, so that mutations start from requests that reach deep.
var seeds = map[string]seed{
	"/switchboard.auth.v1.AuthService/Login":          {nobody, &authv1.LoginRequest{Tenant: "acme", Username: "cat", Password: "wrong password"}},
	"/switchboard.auth.v1.AuthService/ListSessions":   {admin, &authv1.ListSessionsRequest{Username: "cat"}},
	"/switchboard.auth.v1.AuthService/RevokeSessions": {admin, &authv1.RevokeSessionsRequest{Username: "cat", SessionIds: []string{sessionOfCat}}},
	"/switchboard.auth.v1.AuthService/Logout":         {agent, &authv1.LogoutRequest{}},
	"/switchboard.auth.v1.AuthService/WhoAmI":         {supervisor, &authv1.WhoAmIRequest{}},
	"/switchboard.auth.v1.AuthService/CreateApiKey":   {admin, &authv1.CreateApiKeyRequest{Name: "backend"}},
	"/switchboard.auth.v1.AuthService/ListApiKeys":    {admin, &authv1.ListApiKeysRequest{}},
	"/switchboard.auth.v1.AuthService/RevokeApiKey":   {admin, &authv1.RevokeApiKeyRequest{Name: "doomed"}},

	"/switchboard.chat.v1.ChatService/GetAvailability": {nobody, &chatv1.GetAvailabilityRequest{WidgetKey: widgetKey, BusinessUnit: "sales"}},
	"/switchboard.chat.v1.ChatService/StartConversation": {nobody, &chatv1.StartConversationRequest{WidgetKey: widgetKey, BusinessUnit: "support",
		VisitorName: "Vic", VisitorEmail: "vic@example.com", PageUrl: "https://shop.example/cart", VisitorKey: visitorKey,
		FirstMessage: &chatv1.Message{ClientMessageId: "c1", Text: "hello"}}},
	"/switchboard.chat.v1.ChatService/TrackPageView": {nobody, &chatv1.TrackPageViewRequest{WidgetKey: widgetKey, VisitorKey: visitorKey,
		PageUrl: "https://shop.example/", PageTitle: "Shop", Referrer: "https://search.example/?q=shoes"}},
	"/switchboard.chat.v1.ChatService/LeaveOfflineMessage": {nobody, &chatv1.LeaveOfflineMessageRequest{WidgetKey: widgetKey, BusinessUnit: "support",
		Name: "Vic", Email: "vic@example.com", Text: "call me"}},
	"/switchboard.chat.v1.ChatService/SendMessage":     {visitor, &chatv1.SendMessageRequest{ConversationId: openConversation, ClientMessageId: "m1", Text: "hi"}},
	"/switchboard.chat.v1.ChatService/Subscribe":       {visitor, &chatv1.SubscribeRequest{ConversationId: openConversation, AfterSeq: 1}},
	"/switchboard.chat.v1.ChatService/ListEvents":      {visitor, &chatv1.ListEventsRequest{ConversationId: openConversation, AfterSeq: 1, Limit: 10}},
	"/switchboard.chat.v1.ChatService/GetConversation": {agent, &chatv1.GetConversationRequest{ConversationId: openConversation}},
	"/switchboard.chat.v1.ChatService/UpdateDraft":     {agent, &chatv1.UpdateDraftRequest{ConversationId: openConversation, Text: "typing…"}},
	"/switchboard.chat.v1.ChatService/RateConversation": {closedVisitor, &chatv1.RateConversationRequest{ConversationId: closedConversation,
		Thumb: chatv1.Thumb_THUMB_UP, Csat: 5, Comment: "quick",
		Criteria: []*chatv1.CriterionScore{{Criterion: chatv1.RatingCriterion_RATING_CRITERION_QUALITY, Score: 4}}}},
	"/switchboard.chat.v1.ChatService/CloseConversation":   {visitor, &chatv1.CloseConversationRequest{ConversationId: openConversation, Reason: "done"}},
	"/switchboard.chat.v1.ChatService/SetStatus":           {agent, &chatv1.SetStatusRequest{Status: chatv1.AgentStatus_AGENT_STATUS_AVAILABLE}},
	"/switchboard.chat.v1.ChatService/AgentStream":         {agent, &chatv1.AgentStreamRequest{Resume: []*chatv1.ConversationCursor{{ConversationId: openConversation, AfterSeq: 1}}}},
	"/switchboard.chat.v1.ChatService/ListMyConversations": {agent, &chatv1.ListMyConversationsRequest{}},
	"/switchboard.chat.v1.ChatService/AcceptConversation":  {agent, &chatv1.AcceptConversationRequest{ConversationId: openConversation}},
	"/switchboard.chat.v1.ChatService/TransferConversation": {agent, &chatv1.TransferConversationRequest{ConversationId: openConversation,
		Target: &chatv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "support"}, Note: "billing question"}},
	"/switchboard.chat.v1.ChatService/ListTransferTargets": {agent, &chatv1.ListTransferTargetsRequest{ConversationId: openConversation}},

	"/switchboard.supervision.v1.SupervisionService/ListAgents":        {supervisor, &supervisionv1.ListAgentsRequest{BusinessUnit: "sales"}},
	"/switchboard.supervision.v1.SupervisionService/WatchAgents":       {supervisor, &supervisionv1.WatchAgentsRequest{BusinessUnit: "sales"}},
	"/switchboard.supervision.v1.SupervisionService/ListOpenChats":     {supervisor, &supervisionv1.ListOpenChatsRequest{BusinessUnit: "sales", Agent: "ann"}},
	"/switchboard.supervision.v1.SupervisionService/WatchConversation": {supervisor, &supervisionv1.WatchConversationRequest{ConversationId: openConversation, AfterSeq: 1}},
	"/switchboard.supervision.v1.SupervisionService/WatchConversations": {supervisor, &supervisionv1.WatchConversationsRequest{
		Conversations: []*supervisionv1.ConversationCursor{{ConversationId: openConversation, AfterSeq: 1}}}},
	"/switchboard.supervision.v1.SupervisionService/AddSupervisedChat":    {supervisor, &supervisionv1.AddSupervisedChatRequest{ConversationId: openConversation}},
	"/switchboard.supervision.v1.SupervisionService/RemoveSupervisedChat": {supervisor, &supervisionv1.RemoveSupervisedChatRequest{ConversationId: openConversation}},
	"/switchboard.supervision.v1.SupervisionService/ListSupervisedChats":  {supervisor, &supervisionv1.ListSupervisedChatsRequest{}},
	"/switchboard.supervision.v1.SupervisionService/Whisper": {supervisor, &supervisionv1.WhisperRequest{ConversationId: openConversation,
		ClientMessageId: "w1", Text: "psst"}},
	"/switchboard.supervision.v1.SupervisionService/TransferConversation": {supervisor, &supervisionv1.TransferConversationRequest{ConversationId: openConversation,
		Target: &supervisionv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "support"}, Note: "over to you"}},
	"/switchboard.supervision.v1.SupervisionService/FinishConversation": {supervisor, &supervisionv1.FinishConversationRequest{ConversationId: openConversation, Reason: "spam"}},
	"/switchboard.supervision.v1.SupervisionService/SearchChats": {supervisor, &supervisionv1.SearchChatsRequest{PageSize: 10, Filter: &supervisionv1.ChatFilter{
		BusinessUnit: "sales", Agent: "ann", From: timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), To: timestamppb.New(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)),
		CsatMin: 1, CsatMax: 5, Thumb: chatv1.Thumb_THUMB_UP, Sentiment: supervisionv1.Sentiment_SENTIMENT_POSITIVE, Text: "hello",
		State: supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_CLOSED}}},
	"/switchboard.supervision.v1.SupervisionService/ExportChats": {supervisor, &supervisionv1.ExportChatsRequest{Filter: &supervisionv1.ChatFilter{
		BusinessUnit: "sales", Text: "hello"}}},
	"/switchboard.supervision.v1.SupervisionService/ExportTranscript": {supervisor, &supervisionv1.ExportTranscriptRequest{ConversationId: openConversation, IncludeWhispers: true}},
	"/switchboard.supervision.v1.SupervisionService/SendTranscript":   {supervisor, &supervisionv1.SendTranscriptRequest{ConversationId: closedConversation, To: "vic@example.com"}},
	"/switchboard.supervision.v1.SupervisionService/ListOfflineMessages": {supervisor, &supervisionv1.ListOfflineMessagesRequest{BusinessUnit: "support",
		Query: "call", Limit: 10}},
	"/switchboard.supervision.v1.SupervisionService/ExportOfflineMessages": {supervisor, &supervisionv1.ExportOfflineMessagesRequest{BusinessUnit: "support", Query: "call"}},
	"/switchboard.supervision.v1.SupervisionService/ListAuditLog":          {admin, &supervisionv1.ListAuditLogRequest{BeforeId: 1000, Limit: 10}},
	"/switchboard.supervision.v1.SupervisionService/GetVisitor":            {supervisor, &supervisionv1.GetVisitorRequest{VisitorId: visitorOfOpen}},
	"/switchboard.supervision.v1.SupervisionService/ListContacts":          {supervisor, &supervisionv1.ListContactsRequest{Query: "vic", Limit: 10}},
	"/switchboard.supervision.v1.SupervisionService/CreateContact": {supervisor, &supervisionv1.CreateContactRequest{Profile: &supervisionv1.VisitorProfile{
		Name: "Vera", Email: "vera@example.com", Phone: "+49 30 1234567", Notes: "prefers mail"}}},
	"/switchboard.supervision.v1.SupervisionService/UpdateContact": {supervisor, &supervisionv1.UpdateContactRequest{VisitorId: visitorOfOpen,
		Profile: &supervisionv1.VisitorProfile{Name: "Vic", Email: "vic@example.com", Phone: "+1 (555) 0100", Notes: "regular"}}},
	"/switchboard.supervision.v1.SupervisionService/DeleteContact":  {supervisor, &supervisionv1.DeleteContactRequest{VisitorId: visitorOfOpen}},
	"/switchboard.supervision.v1.SupervisionService/WatchOpenChats": {supervisor, &supervisionv1.WatchOpenChatsRequest{BusinessUnit: "sales", Agent: "ann"}},
	"/switchboard.supervision.v1.SupervisionService/ListSignals": {supervisor, &supervisionv1.ListSignalsRequest{BusinessUnit: "sales", ActiveOnly: true,
		From: timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), ConversationId: openConversation, Limit: 10}},
	"/switchboard.supervision.v1.SupervisionService/GetBoard":                 {supervisor, &supervisionv1.GetBoardRequest{BusinessUnit: "sales", RangeSeconds: 900}},
	"/switchboard.supervision.v1.SupervisionService/WatchBoard":               {supervisor, &supervisionv1.WatchBoardRequest{BusinessUnit: "sales", RangeSeconds: 900}},
	"/switchboard.supervision.v1.SupervisionService/GetAgentTable":            {supervisor, &supervisionv1.GetAgentTableRequest{BusinessUnit: "sales"}},
	"/switchboard.supervision.v1.SupervisionService/GetDailyReport":           {supervisor, &supervisionv1.GetDailyReportRequest{Range: month}},
	"/switchboard.supervision.v1.SupervisionService/GetMonthlyReport":         {supervisor, &supervisionv1.GetMonthlyReportRequest{Range: month}},
	"/switchboard.supervision.v1.SupervisionService/GetVisitorStatistics":     {supervisor, &supervisionv1.GetVisitorStatisticsRequest{Range: month}},
	"/switchboard.supervision.v1.SupervisionService/GetAgentStatistics":       {supervisor, &supervisionv1.GetAgentStatisticsRequest{Range: month}},
	"/switchboard.supervision.v1.SupervisionService/GetInteractionStatistics": {supervisor, &supervisionv1.GetInteractionStatisticsRequest{Range: month}},
	"/switchboard.supervision.v1.SupervisionService/ExportReport": {supervisor, &supervisionv1.ExportReportRequest{Kind: supervisionv1.ReportKind_REPORT_KIND_DAILY,
		Range: month}},

	"/switchboard.conversion.v1.ConversionService/RecordConversion": {apiKey, &conversionv1.RecordConversionRequest{OrderId: "order-1", Amount: "10.00",
		Currency: "EUR", ConversationId: closedConversation, OccurredAt: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}},
}

// extremes are variants of a request with one number at a time at an edge: -1, the least
// and the greatest of its type, an enum value no one declared. Byte mutations rarely turn
// a one-byte varint into a ten-byte negative one; from these they vary it.
func extremes(msg proto.Message) []proto.Message {
	var out []proto.Message
	for _, path := range numberPaths(msg.ProtoReflect(), nil) {
		last := path[len(path)-1]
		var values []protoreflect.Value
		switch last.Kind() {
		case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
			values = []protoreflect.Value{protoreflect.ValueOfInt32(-1), protoreflect.ValueOfInt32(math.MinInt32), protoreflect.ValueOfInt32(math.MaxInt32)}
		case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
			values = []protoreflect.Value{protoreflect.ValueOfInt64(-1), protoreflect.ValueOfInt64(math.MinInt64), protoreflect.ValueOfInt64(math.MaxInt64)}
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
			values = []protoreflect.Value{protoreflect.ValueOfUint32(math.MaxUint32)}
		case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			values = []protoreflect.Value{protoreflect.ValueOfUint64(math.MaxUint64)}
		case protoreflect.EnumKind:
			values = []protoreflect.Value{protoreflect.ValueOfEnum(-1), protoreflect.ValueOfEnum(1000)}
		}
		for _, v := range values {
			variant := proto.Clone(msg)
			m := variant.ProtoReflect()
			for _, fd := range path[:len(path)-1] {
				if fd.IsList() {
					m = m.Mutable(fd).List().Get(0).Message()
				} else {
					m = m.Mutable(fd).Message()
				}
			}
			m.Set(last, v)
			out = append(out, variant)
		}
	}
	return out
}

// numberPaths are the paths to m's singular number and enum fields, through the messages
// set in m (and the first element of a list of them).
func numberPaths(m protoreflect.Message, prefix []protoreflect.FieldDescriptor) [][]protoreflect.FieldDescriptor {
	var out [][]protoreflect.FieldDescriptor
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		path := append(slices.Clone(prefix), fd)
		switch {
		case fd.IsMap():
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind && m.Get(fd).List().Len() > 0 {
				out = append(out, numberPaths(m.Get(fd).List().Get(0).Message(), path)...)
			}
		case fd.Kind() == protoreflect.MessageKind:
			if m.Has(fd) {
				out = append(out, numberPaths(m.Get(fd).Message(), path)...)
			}
		case fd.Kind() != protoreflect.StringKind && fd.Kind() != protoreflect.BytesKind && fd.Kind() != protoreflect.BoolKind &&
			fd.Kind() != protoreflect.FloatKind && fd.Kind() != protoreflect.DoubleKind:
			out = append(out, path)
		}
	}
	return out
}

// TestEveryRpcHasASeed keeps the corpus whole: an rpc without a well-formed seed is still
// fuzzed, from an empty body, but its mutations rarely get past the first check.
func TestEveryRpcHasASeed(t *testing.T) {
	named := map[string]bool{}
	for _, m := range methods {
		name := procedure(m)
		named[name] = true
		s, ok := seeds[name]
		if !ok {
			t.Errorf("rpc %s has no seed", name)
			continue
		}
		if got, want := s.msg.ProtoReflect().Descriptor().FullName(), m.Input().FullName(); got != want {
			t.Errorf("rpc %s: the seed is a %s, want a %s", name, got, want)
		}
	}
	for name := range seeds {
		if !named[name] {
			t.Errorf("seed %s names no rpc", name)
		}
	}
}

// FuzzEveryRequest sends a fuzzed body to an rpc as a caller and checks the answer (see
// the package doc). The seeds are every rpc's well-formed request from every caller, and
// its empty request from the caller it is meant for.
func FuzzEveryRequest(f *testing.F) {
	for i, m := range methods {
		s, ok := seeds[procedure(m)]
		if !ok {
			f.Add(uint16(i), uint8(nobody), []byte{})
			continue
		}
		body, err := proto.Marshal(s.msg)
		if err != nil {
			f.Fatal(err)
		}
		for c := range callers {
			f.Add(uint16(i), uint8(c), body)
		}
		f.Add(uint16(i), uint8(s.who), []byte{})
		for _, v := range extremes(s.msg) {
			body, err := proto.Marshal(v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint16(i), uint8(s.who), body)
		}
	}
	// The coordinator of `go test -fuzz` only hands inputs to its worker processes: it
	// needs no world of its own.
	var fx *fixture
	if !coordinating() {
		fx = newFixture(f, cluster)
	}
	f.Fuzz(func(t *testing.T, rpc uint16, who uint8, body []byte) {
		fx.check(t, methods[int(rpc)%len(methods)], caller(who%uint8(callers)), body)
	})
}

// coordinating reports whether this process coordinates `go test -fuzz`'s workers.
func coordinating() bool {
	fuzz, worker := flag.Lookup("test.fuzz"), flag.Lookup("test.fuzzworker")
	return fuzz != nil && fuzz.Value.String() != "" && (worker == nil || worker.Value.String() != "true")
}

// answer is what the server said to one call: a Connect code (0 for success) and message,
// or that the connection failed.
type answer struct {
	code    connect.Code
	message string
	// open is a stream that had sent nothing when the caller stopped waiting.
	open bool
}

// streamWait is how long a stream's first frame is waited for: a granted stream sends its
// snapshot at once, a refused one its error; one that waits for events is left open.
const streamWait = 500 * time.Millisecond

// check makes one call and checks its answer.
func (f *fixture) check(t *testing.T, m protoreflect.MethodDescriptor, who caller, body []byte) {
	ctx := context.Background()
	name := fmt.Sprintf("%s by %s", procedure(m), callerNames[who])
	body = f.body(body)
	a, err := f.call(ctx, m, f.tokens[who], body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	switch {
	case a.code == connect.CodeInternal || a.code == connect.CodeUnknown || a.code == connect.CodeDataLoss:
		t.Errorf("%s: answered %v %q: the server failed on a request instead of refusing it", name, a.code, a.message)
	case a.code == connect.CodeUnavailable && strings.HasPrefix(a.message, "storage is unavailable"):
		// The database is up all along: this is an error of the server's own, which tells
		// the caller to retry what will never work.
		t.Errorf("%s: answered %v %q while the database is up", name, a.code, a.message)
	}
	request := newRequest(m)
	malformed := proto.Unmarshal(body, request) != nil
	if malformed && a.code == 0 && !a.open {
		t.Errorf("%s: a malformed body was accepted", name)
	}
	if a.code == connect.CodeInvalidArgument && !strings.HasPrefix(a.message, "unmarshal") {
		if err := namesField(a.message, m.Input()); err != nil {
			t.Errorf("%s: InvalidArgument %q %v", name, a.message, err)
		}
	}
	if err := f.healthy(ctx); err != nil {
		t.Fatalf("%s: after the call, %v", name, err)
	}
	if a.code == 0 {
		if err := f.recover(ctx, m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func newRequest(m protoreflect.MethodDescriptor) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(m.Input().FullName())
	if err != nil {
		panic(err)
	}
	return mt.New().Interface()
}

// recover puts the world back after a call that succeeded and may have spent it: the
// staff's sessions revoked, the visitor's conversation ended, moved or its visitor deleted.
func (f *fixture) recover(ctx context.Context, m protoreflect.MethodDescriptor) error {
	switch m.Name() {
	case "Logout", "RevokeSessions":
		return f.relogin(ctx)
	case "RevokeApiKey":
		return f.newAPIKey(ctx)
	case "CloseConversation", "FinishConversation", "TransferConversation", "DeleteContact":
		return f.renew(ctx)
	}
	return nil
}

// fieldPath is a field path as rpcerr.Invalid names it: names joined by dots, each maybe
// indexed ("conversations[2].after_seq").
var fieldPath = regexp.MustCompile(`^([a-z][a-z0-9_]*(\[[0-9]+\])?)(\.[a-z][a-z0-9_]*(\[[0-9]+\])?)*: `)

// namesField checks that an InvalidArgument message starts with "field: " where field is
// a field (or oneof) path of the request.
func namesField(message string, md protoreflect.MessageDescriptor) error {
	loc := fieldPath.FindString(message)
	if loc == "" {
		return fmt.Errorf("does not start with the field at fault (%q)", "field: …")
	}
	path := strings.TrimSuffix(loc, ": ")
	for i, part := range strings.Split(path, ".") {
		part, _, _ = strings.Cut(part, "[")
		if md == nil {
			return fmt.Errorf("names %s, but %s has no fields", path, strings.Join(strings.Split(path, ".")[:i], "."))
		}
		if fd := md.Fields().ByName(protoreflect.Name(part)); fd != nil {
			md = fd.Message()
			continue
		}
		if md.Oneofs().ByName(protoreflect.Name(part)) != nil {
			md = nil
			continue
		}
		return fmt.Errorf("names %s, which is not a field of %s", path, md.FullName())
	}
	return nil
}

// call sends body to the rpc m with the Connect protocol and the binary codec and reads
// the answer; an error is a call the server did not answer (a dropped connection, a
// malformed answer, no answer within a minute).
func (f *fixture) call(ctx context.Context, m protoreflect.MethodDescriptor, token string, body []byte) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	streaming := m.IsStreamingServer()
	contentType := "application/proto"
	if streaming {
		contentType = "application/connect+proto"
		envelope := make([]byte, 5, 5+len(body))
		binary.BigEndian.PutUint32(envelope[1:], uint32(len(body)))
		body = append(envelope, body...)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.env.Base+procedure(m), bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Connect-Protocol-Version", "1")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if !streaming {
		res, err := f.env.HTTP.Do(req)
		if err != nil {
			return answer{}, fmt.Errorf("the call failed: %w", err)
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		if err != nil {
			return answer{}, fmt.Errorf("reading the answer: %w", err)
		}
		if res.StatusCode == http.StatusOK {
			return answer{}, nil
		}
		return connectError(res.StatusCode, data)
	}

	// Stop waiting for the first frame after streamWait; a deadline that ends the call is
	// then ours, not the server's doing.
	timer := time.AfterFunc(streamWait, cancel)
	defer timer.Stop()
	waited := func(err error) bool { return ctx.Err() != nil && !timer.Stop() }
	res, err := f.env.HTTP.Do(req)
	if err != nil {
		if waited(err) {
			return answer{open: true}, nil
		}
		return answer{}, fmt.Errorf("the call failed: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(res.Body)
		return connectError(res.StatusCode, data)
	}
	var head [5]byte
	if _, err := io.ReadFull(res.Body, head[:]); err != nil {
		if waited(err) {
			return answer{open: true}, nil
		}
		return answer{}, fmt.Errorf("reading the first frame: %w", err)
	}
	frame := make([]byte, binary.BigEndian.Uint32(head[1:]))
	if _, err := io.ReadFull(res.Body, frame); err != nil {
		if waited(err) {
			return answer{open: true}, nil
		}
		return answer{}, fmt.Errorf("reading the first frame: %w", err)
	}
	if head[0]&0x02 == 0 {
		return answer{}, nil // a message: the stream is granted
	}
	var end struct {
		Error *wireError `json:"error"`
	}
	if err := json.Unmarshal(frame, &end); err != nil {
		return answer{}, fmt.Errorf("the end of the stream is not JSON: %q", frame)
	}
	if end.Error == nil {
		return answer{}, nil
	}
	return end.Error.answer()
}

// wireError is a Connect error as JSON.
type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (w *wireError) answer() (answer, error) {
	var code connect.Code
	if err := code.UnmarshalText([]byte(w.Code)); err != nil {
		return answer{}, fmt.Errorf("an error with no Connect code: %q", w.Code)
	}
	return answer{code: code, message: w.Message}, nil
}

func connectError(status int, data []byte) (answer, error) {
	var w wireError
	if err := json.Unmarshal(data, &w); err != nil {
		return answer{}, fmt.Errorf("HTTP %d with a body that is no Connect error: %q", status, data)
	}
	return w.answer()
}

// healthy checks that the replica still answers its readiness check.
func (f *fixture) healthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.env.Base+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := f.env.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("the replica does not answer its readiness check: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(res.Body)
		return errors.New("the replica is not ready: " + strings.TrimSpace(string(data)))
	}
	return nil
}
