package limits

import (
	"net/http"
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
			if err := l.messageSpent(r.Header.Get("Authorization")); err != nil && errors.IsSupported(r) {
				errors.Write(w, r, err) //nolint:errcheck // the client went away
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// messageSpent is the refusal of a message sent with this Authorization header when one
// of its limits holds no token now, or nil.
func (l *Limiter) messageSpent(authorization string) error {
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
	return refusalOf(worst.why, worst.r, wait)
}
