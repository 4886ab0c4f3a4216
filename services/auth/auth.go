// Package auth authenticates every call and scopes it to one tenant: agents, supervisors
// and admins with bearer tokens from local accounts, visitors with the tenant's public
// widget key and then a token for their one conversation. One Connect interceptor does it
// for unary and streaming calls alike.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Principal is who makes a call, in which tenant.
type Principal struct {
	Tenant uuid.UUID
	// Visitor is set for a visitor's call; Conversation is then the only conversation the
	// token opens.
	Visitor      bool
	Conversation uuid.UUID
	VisitorID    uuid.UUID
	VisitorName  string
	// Account is set for staff calls.
	Account *store.Account
	// APIKey names the API key of a call from the tenant's backend (ConversionService only);
	// APIKeyID is its id.
	APIKey   string
	APIKeyID uuid.UUID
	// Token is the bearer token of the call (for Logout).
	Token string
	// Session is the staff session the token opens.
	Session uuid.UUID
	// Expires is when the token stops working; zero when no time is set yet (the visitor
	// token of an open conversation, an API key).
	Expires time.Time
}

// IsAgent reports whether the principal is an agent.
func (p *Principal) IsAgent() bool {
	return p.Account != nil && p.Account.Role == store.RoleAgent && p.Account.AgentID.Valid
}

// Author is the principal as the author of an event.
func (p *Principal) Author() store.Author {
	switch {
	case p.Visitor:
		return store.Author{Kind: store.AuthorVisitor, ID: p.VisitorID.String(), Name: p.VisitorName}
	case p.IsAgent():
		return store.Author{Kind: store.AuthorAgent, ID: p.Account.AgentName, Name: p.Account.DisplayName}
	default:
		return store.Author{Kind: store.AuthorSupervisor, ID: p.Account.Username, Name: p.Account.DisplayName}
	}
}

type principalKey struct{}

// FromContext returns the principal of an authenticated call, or nil for public calls.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Token prefixes: a staff token names its tenant; a visitor token its tenant and conversation.
// An API key names its tenant, like a staff token.
const (
	staffPrefix   = "sbs"
	visitorPrefix = "sbv"
	apiKeyPrefix  = "sbi"
)

// TokenTTL is how long a staff token works.
const TokenTTL = 12 * time.Hour

// How long a checked token is trusted without asking the database again. A token that
// ends early (revoked, expiry moved, account removed or its password changed) is
// announced on SessionsChannel and forgotten by every replica at once; the cache only
// bounds what a replica that missed the notice (its listener reconnecting) believes.
// Each entry's lifetime is jittered so that tokens cached together do not all expire
// together, and an entry in the last quarter of its life is refreshed in the background
// while it keeps answering. No entry outlives its token.
const (
	staffCacheTTL   = 10 * time.Second
	visitorCacheTTL = time.Minute
)

// Open streams are looked at every streamTick: one whose token's expiry passed ends, and
// one whose token was last read streamRecheckInterval ago has it read again (a visitor's
// token gets its expiry when the conversation closes, after the stream opened). Revoked
// tokens need neither: their notice ends the streams.
const (
	streamTick            = 30 * time.Second
	streamRecheckInterval = 5 * time.Minute
)

func newSecret() (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	s := base64.RawURLEncoding.EncodeToString(b)
	return s, hashSecret(s)
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// NewStaffToken makes a bearer token for an account of tenant, and the hash to store.
func NewStaffToken(tenant uuid.UUID) (string, []byte) {
	s, h := newSecret()
	return staffPrefix + "." + tenant.String() + "." + s, h
}

// NewAPIKey makes an API key for the backend of tenant, and the hash to store.
func NewAPIKey(tenant uuid.UUID) (string, []byte) {
	s, h := newSecret()
	return apiKeyPrefix + "." + tenant.String() + "." + s, h
}

// HashAPIKey returns the stored hash of an API key of tenant, or false when key is not
// shaped like one of that tenant's.
func HashAPIKey(tenant uuid.UUID, key string) ([]byte, bool) {
	parts := strings.Split(key, ".")
	if len(parts) != 3 || parts[0] != apiKeyPrefix || parts[1] != tenant.String() {
		return nil, false
	}
	return hashSecret(parts[2]), true
}

// NewVisitorToken makes a token for one conversation of tenant, and the hash to store.
// The conversation id is chosen here so that the token can name it.
func NewVisitorToken(tenant, conversation uuid.UUID) (string, []byte) {
	s, h := newSecret()
	return visitorPrefix + "." + tenant.String() + "." + conversation.String() + "." + s, h
}

// tokenParts are the parts of a bearer token: its kind (a prefix), the tenant it names,
// for a visitor's token the conversation, and the secret.
type tokenParts struct {
	kind                 string
	tenant, conversation uuid.UUID
	secret               string
}

// parseToken splits a bearer token into its parts, checking its shape only; ok is false
// for anything not shaped like a token.
func parseToken(token string) (tp tokenParts, ok bool) {
	parts := strings.Split(token, ".")
	var err error
	if len(parts) < 3 {
		return tp, false
	}
	if tp.tenant, err = uuid.Parse(parts[1]); err != nil {
		return tp, false
	}
	switch tp.kind = parts[0]; {
	case len(parts) == 3 && (tp.kind == staffPrefix || tp.kind == apiKeyPrefix):
		tp.secret = parts[2]
		return tp, true
	case len(parts) == 4 && tp.kind == visitorPrefix:
		if tp.conversation, err = uuid.Parse(parts[2]); err != nil {
			return tp, false
		}
		tp.secret = parts[3]
		return tp, true
	}
	return tp, false
}

// Claims is what a bearer token says of itself, unchecked: the tenant it names and, for a
// visitor's token, the conversation; ok is false for anything not shaped like a token.
// Only what costs the caller nothing when a forger lies may rest on it, such as refusing
// early a call that the named tenant's exhausted limits would refuse anyway.
func Claims(token string) (tenant, conversation uuid.UUID, visitor, ok bool) {
	tp, ok := parseToken(token)
	if !ok {
		return uuid.Nil, uuid.Nil, false, false
	}
	return tp.tenant, tp.conversation, tp.kind == visitorPrefix, true
}

// visitorKeyPrefix starts a visitor key, the secret a widget keeps so that its visitor is
// recognised on the next visit.
const visitorKeyPrefix = "sbk."

// NewVisitorKey makes a visitor key and the hash to store.
func NewVisitorKey() (string, []byte) {
	s, h := newSecret()
	return visitorKeyPrefix + s, h
}

// HashVisitorKey returns the stored hash of a visitor key, or false when key is not shaped
// like one.
func HashVisitorKey(key string) ([]byte, bool) {
	s, ok := strings.CutPrefix(key, visitorKeyPrefix)
	if !ok || len(s) != 43 {
		return nil, false
	}
	return hashSecret(s), true
}

// HashPassword hashes a password for storage.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// dummyHash is compared against when an account does not exist, so that a wrong username
// takes as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)

// CheckPassword reports whether password matches hash; an empty hash never matches.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password)) //nolint:errcheck
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// Authenticator checks tokens against the database, with a short cache, and ends the
// streams of tokens that stop working.
type Authenticator struct {
	db     *store.DB
	public map[string]bool

	mu    sync.Mutex
	cache map[string]*cached
	// gen counts invalidations: a check that saw one while it read the database does not
	// cache its answer, which may predate it.
	gen uint64
	// streams are the open streams by their token.
	streams map[string]map[*openStream]struct{}
}

type cached struct {
	p          *Principal
	refreshAt  time.Time
	until      time.Time
	refreshing bool
}

// openStream is a streaming call in progress; cancel ends it with errBadToken as the cause.
// p is its token's principal as last read, at checked.
type openStream struct {
	p       *Principal
	checked time.Time
	cancel  context.CancelCauseFunc
}

// NewAuthenticator returns an authenticator; calls to the public procedures need no token.
// Run follows revocations.
func NewAuthenticator(db *store.DB, publicProcedures ...string) *Authenticator {
	a := &Authenticator{db: db, public: map[string]bool{}, cache: map[string]*cached{}, streams: map[string]map[*openStream]struct{}{}}
	for _, p := range publicProcedures {
		a.public[p] = true
	}
	return a
}

var errBadToken = errors.New("invalid, expired or revoked token")

// Authenticate resolves a bearer token to its principal.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	now := time.Now()
	a.mu.Lock()
	c, ok := a.cache[token]
	if ok && now.Before(c.until) {
		if now.After(c.refreshAt) && !c.refreshing {
			c.refreshing = true
			go a.refresh(context.WithoutCancel(ctx), token) //nolint:errcheck // a failed refresh drops or keeps the entry
		}
		a.mu.Unlock()
		return c.p, nil
	}
	a.mu.Unlock()
	return a.refresh(ctx, token)
}

// refresh checks a token against the database and caches the answer; a token found bad
// is dropped from the cache. When an invalidation came while the database was read, the
// answer may predate it: the token is read again, and not cached if that keeps happening.
func (a *Authenticator) refresh(ctx context.Context, token string) (*Principal, error) {
	for attempt := 1; ; attempt++ {
		a.mu.Lock()
		gen := a.gen
		a.mu.Unlock()
		p, err := a.check(ctx, token)
		a.mu.Lock()
		if err != nil {
			if c := a.cache[token]; c != nil {
				c.refreshing = false
				if errors.Is(err, errBadToken) {
					delete(a.cache, token)
				}
			}
			a.mu.Unlock()
			return nil, err
		}
		if a.gen != gen {
			delete(a.cache, token)
			a.mu.Unlock()
			if attempt < 3 {
				continue
			}
			return p, nil
		}
		ttl := staffCacheTTL
		if p.Visitor {
			ttl = visitorCacheTTL
		}
		ttl = time.Duration(float64(ttl) * (0.8 + 0.4*mathrand.Float64()))
		now := time.Now()
		until := now.Add(ttl)
		if !p.Expires.IsZero() && p.Expires.Before(until) {
			until = p.Expires
		}
		if len(a.cache) > 100_000 {
			clear(a.cache)
		}
		a.cache[token] = &cached{p: p, until: until, refreshAt: now.Add(ttl * 3 / 4)}
		a.mu.Unlock()
		return p, nil
	}
}

// What a notice on SessionsChannel is about: the payload is "kind,tenant,id".
const (
	endedAccount      = "s" // every session of account id
	endedAPIKey       = "k" // API key id
	endedConversation = "v" // the visitor token of conversation id
)

// SessionsChannel is where tokens that end early are announced (see migration 0018).
const SessionsChannel = "switchboard_sessions"

// matcher returns what a notice of kind about id in tenant concerns.
func matcher(kind string, tenant, id uuid.UUID) func(*Principal) bool {
	return func(p *Principal) bool {
		if p.Tenant != tenant {
			return false
		}
		switch kind {
		case endedAccount:
			return p.Account != nil && p.Account.ID == id
		case endedAPIKey:
			return p.APIKey != "" && p.APIKeyID == id
		case endedConversation:
			return p.Visitor && p.Conversation == id
		}
		return false
	}
}

// ended forgets the cached tokens that match and checks the streams opened with them again
// in the background, ending those whose token no longer works.
func (a *Authenticator) ended(ctx context.Context, match func(*Principal) bool) {
	a.mu.Lock()
	a.gen++
	for token, c := range a.cache {
		if match(c.p) {
			delete(a.cache, token)
		}
	}
	var tokens []string
	for token, streams := range a.streams {
		for s := range streams {
			if match(s.p) {
				tokens = append(tokens, token)
				break
			}
		}
	}
	a.mu.Unlock()
	if len(tokens) > 0 {
		go a.recheck(context.WithoutCancel(ctx), tokens)
	}
}

// recheck reads the tokens of open streams again and ends the streams of those that no
// longer work; a token that cannot be read now (the database down) keeps its streams
// until the next try.
func (a *Authenticator) recheck(ctx context.Context, tokens []string) {
	for _, token := range tokens {
		p, err := a.Authenticate(ctx, token)
		if err != nil && !errors.Is(err, errBadToken) {
			continue
		}
		now := time.Now()
		a.mu.Lock()
		for s := range a.streams[token] {
			if err != nil {
				s.cancel(errBadToken)
			} else {
				s.p, s.checked = p, now
			}
		}
		a.mu.Unlock()
	}
}

// lookAtStreams ends the streams whose token expired and reads again the tokens last read
// streamRecheckInterval ago.
func (a *Authenticator) lookAtStreams(ctx context.Context) {
	now := time.Now()
	var stale []string
	a.mu.Lock()
	for token, streams := range a.streams {
		for s := range streams {
			switch {
			case !s.p.Expires.IsZero() && now.After(s.p.Expires):
				s.cancel(errBadToken)
			case now.Sub(s.checked) > streamRecheckInterval:
				stale = append(stale, token)
			}
		}
	}
	a.mu.Unlock()
	a.recheck(ctx, slices.Compact(slices.Sorted(slices.Values(stale))))
}

// SessionsEnded makes this replica refuse at once the tokens of an account's sessions that
// were revoked (the others hear of it on SessionsChannel).
func (a *Authenticator) SessionsEnded(ctx context.Context, tenant, account uuid.UUID) {
	a.ended(ctx, matcher(endedAccount, tenant, account))
}

// ForgetAPIKey makes this replica refuse a revoked API key at once (the others hear of it
// on SessionsChannel).
func (a *Authenticator) ForgetAPIKey(ctx context.Context, tenant, id uuid.UUID) {
	a.ended(ctx, matcher(endedAPIKey, tenant, id))
}

// follow registers a stream opened with p's token; the returned context ends, with
// errBadToken as its cause, when the token stops working. gen is the generation the token
// was checked at: an invalidation since then has it checked again at once.
func (a *Authenticator) follow(ctx context.Context, p *Principal, gen uint64) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	s := &openStream{p: p, checked: time.Now(), cancel: cancel}
	a.mu.Lock()
	if a.streams[p.Token] == nil {
		a.streams[p.Token] = map[*openStream]struct{}{}
	}
	a.streams[p.Token][s] = struct{}{}
	missed := a.gen != gen
	a.mu.Unlock()
	if missed {
		go a.recheck(context.WithoutCancel(ctx), []string{p.Token})
	}
	return ctx, func() {
		a.mu.Lock()
		delete(a.streams[p.Token], s)
		if len(a.streams[p.Token]) == 0 {
			delete(a.streams, p.Token)
		}
		a.mu.Unlock()
		cancel(nil)
	}
}

// sessionCleanupInterval is how often a replica deletes sessions that ended a month ago.
const sessionCleanupInterval = time.Hour

// Run follows SessionsChannel, looks at open streams every streamTick and deletes
// long-ended sessions every sessionCleanupInterval, until ctx ends.
func (a *Authenticator) Run(ctx context.Context) {
	go func() {
		streams := time.NewTicker(streamTick)
		defer streams.Stop()
		cleanup := time.NewTicker(sessionCleanupInterval)
		defer cleanup.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-streams.C:
				a.lookAtStreams(ctx)
			case <-cleanup.C:
				if n, err := a.db.ForgetEndedSessions(ctx); err != nil {
					slog.Warn("deleting ended sessions", "err", err)
				} else if n > 0 {
					slog.Info("deleted sessions that ended a month ago", "sessions", n)
				}
			}
		}
	}()
	first := true
	a.db.Listen(ctx, SessionsChannel, func() {
		// Notices may have been missed while the listener was away: forget everything.
		if !first {
			a.ended(ctx, func(*Principal) bool { return true })
		}
		first = false
	}, func(payload string) {
		kind, rest, _ := strings.Cut(payload, ",")
		t, i, _ := strings.Cut(rest, ",")
		tenant, err1 := uuid.Parse(t)
		id, err2 := uuid.Parse(i)
		if err1 != nil || err2 != nil {
			slog.Warn("ignoring a bad notice", "channel", SessionsChannel, "payload", payload)
			return
		}
		a.ended(ctx, matcher(kind, tenant, id))
	})
}

func (a *Authenticator) check(ctx context.Context, token string) (*Principal, error) {
	tp, ok := parseToken(token)
	if !ok {
		return nil, errBadToken
	}
	switch tp.kind {
	case staffPrefix:
		acct, session, expires, err := a.db.SessionAccount(ctx, tp.tenant, hashSecret(tp.secret))
		if errors.Is(err, store.ErrNotFound) {
			return nil, errBadToken
		}
		if err != nil {
			return nil, err
		}
		return &Principal{Tenant: tp.tenant, Account: acct, Token: token, Session: session, Expires: expires}, nil
	case apiKeyPrefix:
		id, name, err := a.db.APIKeyBySecret(ctx, tp.tenant, hashSecret(tp.secret))
		if errors.Is(err, store.ErrNotFound) {
			return nil, errBadToken
		}
		if err != nil {
			return nil, err
		}
		return &Principal{Tenant: tp.tenant, APIKey: name, APIKeyID: id, Token: token}, nil
	default: // visitorPrefix
		stored, visitor, name, expires, err := a.db.VisitorToken(ctx, tp.tenant, tp.conversation)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errBadToken
		}
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare(stored, hashSecret(tp.secret)) != 1 {
			return nil, errBadToken
		}
		return &Principal{Tenant: tp.tenant, Visitor: true, Conversation: tp.conversation, VisitorID: visitor, VisitorName: name, Token: token, Expires: expires}, nil
	}
}

// conversionProcedures starts the procedures of the ConversionService.
var conversionProcedures = "/" + conversionv1connect.ConversionServiceName + "/"

// Interceptor authenticates unary and streaming handler calls alike: it puts the
// principal in the context, or answers Unauthenticated.
func (a *Authenticator) Interceptor() connect.Interceptor { return interceptor{a} }

type interceptor struct{ a *Authenticator }

func (i interceptor) principal(ctx context.Context, procedure string, h interface{ Get(string) string }) (context.Context, error) {
	if i.a.public[procedure] {
		return ctx, nil
	}
	header := h.Get("Authorization")
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("missing bearer token (Authorization: Bearer <token>)"))
	}
	p, err := i.a.Authenticate(ctx, token)
	if errors.Is(err, errBadToken) {
		return nil, connect.NewError(connect.CodeUnauthenticated, err)
	}
	if err != nil {
		return nil, connect.NewError(connect.CodeUnavailable, errors.New("cannot check the token right now; retry"))
	}
	// API keys are for the tenant's backend: they call the ConversionService, which
	// nothing else calls.
	switch conversion := strings.HasPrefix(procedure, conversionProcedures); {
	case conversion && p.APIKey == "":
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("the ConversionService takes the tenant's API keys (Bearer sbi.…) only"))
	case !conversion && p.APIKey != "":
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("API keys call the ConversionService only"))
	}
	return WithPrincipal(ctx, p), nil
}

func (i interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, err := i.principal(ctx, req.Spec().Procedure, req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler authenticates a stream like a unary call, and ends it with
// Unauthenticated when its token stops working while it is open (revoked, expired).
func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		i.a.mu.Lock()
		gen := i.a.gen
		i.a.mu.Unlock()
		ctx, err := i.principal(ctx, conn.Spec().Procedure, conn.RequestHeader())
		if err != nil {
			return err
		}
		p := FromContext(ctx)
		if p == nil {
			return next(ctx, conn)
		}
		ctx, done := i.a.follow(ctx, p, gen)
		defer done()
		err = next(ctx, conn)
		if errors.Is(context.Cause(ctx), errBadToken) {
			return connect.NewError(connect.CodeUnauthenticated, errBadToken)
		}
		return err
	}
}
