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
	mathrand "math/rand/v2"
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

// How long a checked token is trusted without asking the database again. A staff token
// revoked on another replica keeps working here for at most staffCacheTTL; visitor tokens
// are never revoked, so they are checked less often. Each entry's lifetime is jittered so
// that tokens cached together do not all expire together, and an entry in the last
// quarter of its life is refreshed in the background while it keeps answering.
const (
	staffCacheTTL   = 10 * time.Second
	visitorCacheTTL = time.Minute
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

// Claims is what a bearer token says of itself, unchecked: the tenant it names and, for a
// visitor's token, the conversation; ok is false for anything not shaped like a token.
// Only what costs the caller nothing when a forger lies may rest on it, such as refusing
// early a call that the named tenant's exhausted limits would refuse anyway.
func Claims(token string) (tenant, conversation uuid.UUID, visitor, ok bool) {
	prefix, rest, _ := strings.Cut(token, ".")
	tenantPart, rest, _ := strings.Cut(rest, ".")
	var err error
	if tenant, err = uuid.Parse(tenantPart); err != nil {
		return uuid.Nil, uuid.Nil, false, false
	}
	switch prefix {
	case staffPrefix, apiKeyPrefix:
		return tenant, uuid.Nil, false, true
	case visitorPrefix:
		convPart, _, _ := strings.Cut(rest, ".")
		if conversation, err = uuid.Parse(convPart); err != nil {
			return uuid.Nil, uuid.Nil, false, false
		}
		return tenant, conversation, true, true
	}
	return uuid.Nil, uuid.Nil, false, false
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

// Authenticator checks tokens against the database, with a short cache.
type Authenticator struct {
	db     *store.DB
	public map[string]bool

	mu    sync.Mutex
	cache map[string]*cached
	// revokedKeys are API keys revoked here lately, so that a check that read the key as
	// live just before the revocation does not cache it again.
	revokedKeys map[uuid.UUID]time.Time
}

type cached struct {
	p          *Principal
	refreshAt  time.Time
	until      time.Time
	refreshing bool
}

// NewAuthenticator returns an authenticator; calls to the public procedures need no token.
func NewAuthenticator(db *store.DB, publicProcedures ...string) *Authenticator {
	a := &Authenticator{db: db, public: map[string]bool{}, cache: map[string]*cached{}, revokedKeys: map[uuid.UUID]time.Time{}}
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
// is dropped from the cache.
func (a *Authenticator) refresh(ctx context.Context, token string) (*Principal, error) {
	p, valid, err := a.check(ctx, token)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		if c := a.cache[token]; c != nil {
			c.refreshing = false
			if errors.Is(err, errBadToken) {
				delete(a.cache, token)
			}
		}
		return nil, err
	}
	if _, revoked := a.revokedKeys[p.APIKeyID]; revoked && p.APIKey != "" {
		delete(a.cache, token)
		return nil, errBadToken
	}
	ttl := staffCacheTTL
	if p.Visitor {
		ttl = visitorCacheTTL
	}
	ttl = time.Duration(float64(ttl) * (0.8 + 0.4*mathrand.Float64()))
	now := time.Now()
	until := now.Add(ttl)
	if valid.Before(until) {
		until = valid
	}
	if len(a.cache) > 100_000 {
		clear(a.cache)
	}
	a.cache[token] = &cached{p: p, until: until, refreshAt: now.Add(ttl * 3 / 4)}
	return p, nil
}

// ForgetAPIKey drops a revoked API key from the cache, so that this replica refuses it at
// once (other replicas within staffCacheTTL).
func (a *Authenticator) ForgetAPIKey(id uuid.UUID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for token, c := range a.cache {
		if c.p.APIKeyID == id {
			delete(a.cache, token)
		}
	}
	now := time.Now()
	for k, at := range a.revokedKeys {
		if now.Sub(at) > time.Minute {
			delete(a.revokedKeys, k)
		}
	}
	a.revokedKeys[id] = now
}

// Forget drops a token from the cache (after Logout).
func (a *Authenticator) Forget(token string) {
	a.mu.Lock()
	delete(a.cache, token)
	a.mu.Unlock()
}

func (a *Authenticator) check(ctx context.Context, token string) (*Principal, time.Time, error) {
	parts := strings.Split(token, ".")
	switch {
	case len(parts) == 3 && parts[0] == staffPrefix:
		tenant, err := uuid.Parse(parts[1])
		if err != nil {
			return nil, time.Time{}, errBadToken
		}
		acct, expires, err := a.db.SessionAccount(ctx, tenant, hashSecret(parts[2]))
		if errors.Is(err, store.ErrNotFound) {
			return nil, time.Time{}, errBadToken
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		return &Principal{Tenant: tenant, Account: acct, Token: token}, expires, nil
	case len(parts) == 3 && parts[0] == apiKeyPrefix:
		tenant, err := uuid.Parse(parts[1])
		if err != nil {
			return nil, time.Time{}, errBadToken
		}
		id, name, err := a.db.APIKeyBySecret(ctx, tenant, hashSecret(parts[2]))
		if errors.Is(err, store.ErrNotFound) {
			return nil, time.Time{}, errBadToken
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		return &Principal{Tenant: tenant, APIKey: name, APIKeyID: id, Token: token}, time.Now().Add(staffCacheTTL), nil
	case len(parts) == 4 && parts[0] == visitorPrefix:
		tenant, err1 := uuid.Parse(parts[1])
		conv, err2 := uuid.Parse(parts[2])
		if err1 != nil || err2 != nil {
			return nil, time.Time{}, errBadToken
		}
		stored, visitor, name, err := a.db.VisitorToken(ctx, tenant, conv)
		if errors.Is(err, store.ErrNotFound) {
			return nil, time.Time{}, errBadToken
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		if subtle.ConstantTimeCompare(stored, hashSecret(parts[3])) != 1 {
			return nil, time.Time{}, errBadToken
		}
		return &Principal{Tenant: tenant, Visitor: true, Conversation: conv, VisitorID: visitor, VisitorName: name, Token: token}, time.Now().Add(visitorCacheTTL), nil
	}
	return nil, time.Time{}, errBadToken
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

func (i interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := i.principal(ctx, conn.Spec().Procedure, conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
