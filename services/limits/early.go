package limits

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
)

// Middleware refuses a call that its tenant's or its caller's exhausted limit would
// refuse anyway, before Connect reads it: a message by its token, a widget call (a
// conversation started, a page view) by the widget key in its body, which
// widgetTenant looks up among the keys the server remembers. No token checked, nothing
// decoded but the key, no handler run. A flood far above a tenant's limits is mostly
// such calls, and what they cost the server is taken from every other tenant's share of
// the CPU.
//
// It trusts what the token says of itself (auth.Claims) only to look, not to take: a
// forged token naming a tenant spends nothing of that tenant's limits and is refused
// only when a genuine one would be; every admitted call is checked and counted as
// before, by the interceptor and the handler.
func (l *Limiter) Middleware(next http.Handler, widgetTenant func(key string) (uuid.UUID, bool)) http.Handler {
	errors := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == chatv1connect.ChatServiceSendMessageProcedure {
			if f := l.messageSpent(r.Header.Get("Authorization")); f != nil {
				switch {
				case connectUnary(r):
					f.unary.write(w)
					return
				case errors.IsSupported(r):
					errors.Write(w, r, f.err) //nolint:errcheck // the client went away
					return
				}
			}
		} else if call, ok := widgetCalls[r.URL.Path]; ok && connectUnary(r) {
			if f := l.widgetSpent(r, call, widgetTenant); f != nil {
				f.unary.write(w)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// widgetCalls are what each call of the widget costs of its tenant's limits.
var widgetCalls = map[string]WidgetCall{
	chatv1connect.ChatServiceStartConversationProcedure:   Conversation,
	chatv1connect.ChatServiceLeaveOfflineMessageProcedure: Conversation,
	chatv1connect.ChatServiceTrackPageViewProcedure:       PageView,
	chatv1connect.ChatServiceGetAvailabilityProcedure:     PageView,
}

// widgetSpent is the refusal of a widget call when its address tried too many unknown
// keys, or when one of its limits holds no token now; or nil. It reads the body to find
// the key, and leaves it to be read again.
func (l *Limiter) widgetSpent(r *http.Request, call WidgetCall, widgetTenant func(string) (uuid.UUID, bool)) *refused {
	addr := l.clients.Address(connect.Peer{Addr: r.RemoteAddr}, r.Header)
	if f := l.guessing(addr); f != nil {
		return f
	}
	key, ok := widgetKeyOf(r)
	if !ok {
		return nil
	}
	id, ok := widgetTenant(key)
	if !ok {
		return nil
	}
	t := l.tenant(id)
	site, visitor := l.widgetLimits(t, id, call, addr)
	now := l.now()
	limit, why, rt, wait := site.limit, site.why, site.r, site.peek(now)
	if d := visitor.peek(now); d > wait {
		limit, why, rt, wait = visitor.limit, visitor.why, visitor.r, d
	}
	if wait == 0 {
		return nil
	}
	l.refused.WithLabelValues(t.name, limit).Inc()
	return refusedAs(why, rt, wait)
}

// maxWidgetCall is the most of a widget call's body read to find its key: a call larger
// goes on to be read, and refused for its size, by Connect.
const maxWidgetCall = 16 << 10

// widgetKeyOf reads a Connect unary widget call's body and finds its widget_key (field 1
// of each widget request), as protobuf or as JSON; the body is left to be read again
// from the start. A body compressed, too large or malformed has no key here: Connect
// reads it and says what is wrong with it.
func widgetKeyOf(r *http.Request) (string, bool) {
	if e := r.Header.Get("Content-Encoding"); e != "" && e != "identity" {
		return "", false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWidgetCall+1))
	r.Body = readAgain{Reader: io.MultiReader(bytes.NewReader(body), r.Body), Closer: r.Body}
	if err != nil || len(body) > maxWidgetCall {
		return "", false
	}
	if r.Header.Get("Content-Type") == "application/json" {
		return jsonWidgetKey(body)
	}
	return protoWidgetKey(body)
}

// readAgain is a request body whose start was read once already.
type readAgain struct {
	io.Reader
	io.Closer
}

// protoWidgetKey is the last field 1 of a protobuf message, as protobuf decodes it.
func protoWidgetKey(b []byte) (string, bool) {
	var key []byte
	found := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", false
			}
			key, found, b = v, true, b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
	}
	return string(key), found && utf8.Valid(key)
}

// jsonWidgetKey is the widget key of a JSON request, under either of the names protojson
// takes; a request naming both, which protojson refuses, has none.
func jsonWidgetKey(b []byte) (string, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return "", false
	}
	raw, camel := fields["widgetKey"]
	snake, hasSnake := fields["widget_key"]
	if camel == hasSnake {
		return "", false
	}
	if hasSnake {
		raw = snake
	}
	var key string
	if json.Unmarshal(raw, &key) != nil {
		return "", false
	}
	return key, true
}

// connectUnary reports whether a POST is a Connect unary call in one of the two codecs
// Connect's clients send, which an error is answered to the same way whatever it says:
// in JSON, with an HTTP status for its code.
func connectUnary(r *http.Request) bool {
	switch r.Header.Get("Content-Type") {
	case "application/proto", "application/json":
		return true
	}
	return false
}

// answer is a response recorded once to be written many times.
type answer struct {
	header http.Header
	status int
	body   []byte
}

// unaryAnswer is what Connect's ErrorWriter writes for err to a Connect unary call.
func unaryAnswer(err error) answer {
	rec := httptest.NewRecorder()
	call := httptest.NewRequest(http.MethodPost, "/", nil)
	call.Header.Set("Content-Type", "application/proto")
	connect.NewErrorWriter().Write(rec, call, err) //nolint:errcheck // a recorder takes everything
	return answer{header: rec.Header(), status: rec.Code, body: rec.Body.Bytes()}
}

func (a *answer) write(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range a.header {
		// Clipped, an Add to the header copies before appending.
		h[k] = slices.Clip(v)
	}
	w.WriteHeader(a.status)
	w.Write(a.body) //nolint:errcheck // the client went away
}

// messageSpent is the refusal of a message sent with this Authorization header when one
// of its limits holds no token now, or nil.
func (l *Limiter) messageSpent(authorization string) *refused {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return nil
	}
	id, conv, visitor, ok := auth.Claims(token)
	if !ok {
		return nil
	}
	t := l.tenant(id)
	now := l.now()
	limits := l.messageLimits(t, id, visitor, conv)
	if !visitor {
		// The token does not say which account it is: only the tenant's limit is known.
		limits[0].r = rate{}
	}
	var worst *limitOn[uuid.UUID]
	var wait time.Duration
	for i, m := range limits {
		if d := m.peek(now); d > wait {
			worst, wait = &limits[i], d
		}
	}
	if worst == nil {
		return nil
	}
	l.refused.WithLabelValues(t.name, worst.limit).Inc()
	return refusedAs(worst.why, worst.r, wait)
}
