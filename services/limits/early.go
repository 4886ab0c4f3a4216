package limits

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
)

// Middleware refuses a message that its tenant's or its writer's exhausted limit would
// refuse anyway, before Connect reads it: no body read or decoded, no token checked, no
// handler run. A flood far above a tenant's limits is mostly such calls, and what they
// cost the server is taken from every other tenant's share of the CPU.
//
// It trusts what the token says of itself (auth.Claims) only to look, not to take: a
// forged token naming a tenant spends nothing of that tenant's limits and is refused
// only when a genuine one would be; every admitted call is checked and counted as
// before, by the interceptor.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	errors := connect.NewErrorWriter()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == chatv1connect.ChatServiceSendMessageProcedure && r.Method == http.MethodPost {
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
		}
		next.ServeHTTP(w, r)
	})
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
	var worst *messageLimit
	var wait time.Duration
	for i, m := range limits {
		if d := m.b.peek(m.key, m.r, now); d > wait {
			worst, wait = &limits[i], d
		}
	}
	if worst == nil {
		return nil
	}
	l.refused.WithLabelValues(t.name, worst.limit).Inc()
	return refusedAs(worst.why, worst.r, wait)
}
