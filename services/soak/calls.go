package soak

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
)

// calls counts every call the load makes, by procedure and answer, as a client-side
// Connect interceptor: unary calls when they return, streams when they end.
type calls struct {
	mu      sync.Mutex
	answers map[answer]int64

	total, unexpected atomic.Int64
	// streamsOpened counts streams started; streamsOpen those not ended yet.
	streamsOpened, streamsOpen atomic.Int64
	// offline counts StartConversation calls answered with an offline message (nobody
	// was online any more).
	offline atomic.Int64
}

// answer is a procedure ("ChatService/SendMessage") and its outcome: "ok" or a Connect
// code.
type answer struct{ procedure, code string }

const codeOK = "ok"

func newCalls() *calls { return &calls{answers: map[answer]int64{}} }

// clientOptions make clients count their calls here.
func (c *calls) clientOptions() []connect.ClientOption {
	return []connect.ClientOption{connect.WithInterceptors(c)}
}

func (c *calls) record(procedure string, err error) {
	a := answer{procedure: shortProcedure(procedure), code: codeOK}
	if err != nil && !errors.Is(err, io.EOF) {
		code := connect.CodeOf(err)
		a.code = code.String()
		if !expectedAnswer(a.procedure, code) {
			c.unexpected.Add(1)
		}
	}
	c.total.Add(1)
	c.mu.Lock()
	c.answers[a]++
	c.mu.Unlock()
}

// count is how many calls of a procedure got an answer.
func (c *calls) count(procedure, code string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answers[answer{procedure, code}]
}

// snapshot copies the counts.
func (c *calls) snapshot() map[answer]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.answers)
}

// shortProcedure drops the package: "/switchboard.chat.v1.ChatService/SendMessage" is
// "ChatService/SendMessage".
func shortProcedure(p string) string {
	service, method, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !ok {
		return p
	}
	return service[strings.LastIndex(service, ".")+1:] + "/" + method
}

// conversationCalls act on one conversation, which may have closed, been transferred or
// left the caller's units between the moment a person chose it and the call.
var conversationCalls = []string{
	"ChatService/SendMessage", "ChatService/UpdateDraft", "ChatService/AcceptConversation",
	"ChatService/CloseConversation", "ChatService/TransferConversation", "ChatService/RateConversation",
	"ChatService/Subscribe", "ChatService/GetConversation",
	"SupervisionService/WatchConversation", "SupervisionService/WatchConversations", "SupervisionService/Whisper",
	"SupervisionService/AddSupervisedChat", "SupervisionService/RemoveSupervisedChat",
	"SupervisionService/TransferConversation", "SupervisionService/FinishConversation",
}

// expectedAnswer reports whether an error is part of a busy desk's life rather than a
// fault: a call the client itself ended (a stream it was done with), and, on calls
// about one conversation, the conversation closed or moved meanwhile. Everything else —
// Internal, Unavailable, DeadlineExceeded, Unauthenticated, ResourceExhausted, Aborted
// (a stream cut off for falling behind), InvalidArgument — is unexpected.
func expectedAnswer(procedure string, code connect.Code) bool {
	switch code {
	case connect.CodeCanceled:
		return true
	case connect.CodeFailedPrecondition, connect.CodePermissionDenied, connect.CodeNotFound:
		return slices.Contains(conversationCalls, procedure)
	}
	return false
}

func (c *calls) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		if err == nil {
			if r, ok := res.Any().(*chatv1.StartConversationResponse); ok && r.OfflineMessageId != "" {
				c.offline.Add(1)
			}
		}
		c.record(req.Spec().Procedure, err)
		return res, err
	}
}

func (c *calls) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		c.streamsOpened.Add(1)
		c.streamsOpen.Add(1)
		return &countedStream{StreamingClientConn: next(ctx, spec), c: c}
	}
}

func (c *calls) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// countedStream records how a stream ended: its first error (io.EOF is a normal end),
// or Canceled when the client closed it before it ended.
type countedStream struct {
	connect.StreamingClientConn
	c     *calls
	ended sync.Once
}

func (s *countedStream) end(err error) {
	s.ended.Do(func() {
		s.c.streamsOpen.Add(-1)
		s.c.record(s.Spec().Procedure, err)
	})
}

func (s *countedStream) Send(msg any) error {
	err := s.StreamingClientConn.Send(msg)
	if err != nil && !errors.Is(err, io.EOF) {
		s.end(err)
	}
	return err
}

func (s *countedStream) Receive(msg any) error {
	err := s.StreamingClientConn.Receive(msg)
	if err != nil {
		s.end(err)
	}
	return err
}

func (s *countedStream) CloseResponse() error {
	err := s.StreamingClientConn.CloseResponse()
	s.end(connect.NewError(connect.CodeCanceled, errors.New("closed by the client")))
	return err
}
