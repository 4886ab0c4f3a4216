package limits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/switchboard-chat/switchboard/services/store"
)

// reloadInterval is how often the tenants' limits are read again even without a
// notification, in case one was missed while the listener reconnected.
const reloadInterval = time.Minute

// sweepInterval is how often buckets that refilled are forgotten.
const sweepInterval = 30 * time.Second

// streamRetry is the hint given with a refused stream: about when one of the token's other
// streams may have ended.
const streamRetry = 5 * time.Second

// Limiter applies a server's limits. Its methods are safe for concurrent use.
type Limiter struct {
	cfg     Config
	clients Clients
	db      *store.DB
	// clock tells the time: time.Now but in tests.
	clock  atomic.Pointer[func() time.Time]
	reload chan struct{}
	// tenants are the tenants' own limits, merged over cfg.Tenant, by tenant id.
	tenants atomic.Pointer[map[uuid.UUID]tenant]

	tenantConversations  buckets[uuid.UUID]
	tenantMessages       buckets[uuid.UUID]
	tenantDrafts         buckets[uuid.UUID]
	tenantPageViews      buckets[uuid.UUID]
	addressConversations buckets[tenantAddress]
	addressPageViews     buckets[tenantAddress]
	visitorMessages      buckets[uuid.UUID] // by conversation
	agentMessages        buckets[uuid.UUID] // by account
	writerDrafts         buckets[uuid.UUID] // by conversation (visitors) or account (staff)
	widgetKeyFailures    buckets[netip.Addr]
	accountLogins        buckets[account]
	addressLogins        buckets[netip.Addr]

	streamsMu sync.Mutex
	streams   map[string]int // open streams by token

	startsMu sync.Mutex
	starts   map[uuid.UUID]chan struct{} // conversation starts in progress by tenant

	refused *prometheus.CounterVec
}

type tenant struct {
	name   string
	limits Tenant
}

type tenantAddress struct {
	tenant uuid.UUID
	addr   netip.Addr
}

type account struct{ tenant, username string }

// New returns a limiter of cfg; clients says how to tell a request's client address, and
// db is where the tenants' own limits are read (by Run).
func New(cfg Config, clients Clients, db *store.DB) *Limiter {
	l := &Limiter{cfg: cfg, clients: clients, db: db, reload: make(chan struct{}, 1), streams: map[string]int{}, starts: map[uuid.UUID]chan struct{}{},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_limited_calls_total",
			Help: "Calls refused with ResourceExhausted by a limit, by tenant (empty before the tenant is known) and limit.",
		}, []string{"tenant", "limit"}),
	}
	l.tenants.Store(&map[uuid.UUID]tenant{})
	now := time.Now
	l.clock.Store(&now)
	return l
}

func (l *Limiter) now() time.Time { return (*l.clock.Load())() }

// Config is the limiter's configuration.
func (l *Limiter) Config() Config { return l.cfg }

// Metrics is the collector of refused calls, for the server's registry.
func (l *Limiter) Metrics() prometheus.Collector { return l.refused }

// Run reads the tenants' own limits, again whenever Changed is called and every
// reloadInterval, and forgets idle buckets, until ctx ends.
func (l *Limiter) Run(ctx context.Context) {
	l.load(ctx)
	reload := time.NewTicker(reloadInterval)
	defer reload.Stop()
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.reload:
			l.load(ctx)
		case <-reload.C:
			l.load(ctx)
		case <-sweep.C:
			l.sweep(l.now())
		}
	}
}

// Changed says that a tenant's configuration changed (uuid.Nil: any tenant's), so that its
// limits are read again.
func (l *Limiter) Changed(uuid.UUID) {
	select {
	case l.reload <- struct{}{}:
	default:
	}
}

// Reload reads the tenants' own limits now.
func (l *Limiter) Reload(ctx context.Context) error {
	rows, err := l.db.AllTenantLimits(ctx)
	if err != nil {
		return err
	}
	m := make(map[uuid.UUID]tenant, len(rows))
	for _, r := range rows {
		var own Tenant
		if err := json.Unmarshal(r.Limits, &own); err != nil {
			// The operator writes what the CRD's schema checked; keep the defaults if not.
			slog.Warn("a tenant's limits cannot be read; it gets the server's", "tenant", r.Name, "err", err)
		}
		m[r.Tenant] = tenant{name: r.Name, limits: l.cfg.Tenant.over(own)}
	}
	l.tenants.Store(&m)
	return nil
}

func (l *Limiter) load(ctx context.Context) {
	if err := l.Reload(ctx); err != nil && ctx.Err() == nil {
		slog.Warn("reading the tenants' limits failed; keeping the ones read before", "err", err)
	}
}

func (l *Limiter) sweep(now time.Time) {
	l.tenantConversations.sweep(now)
	l.tenantMessages.sweep(now)
	l.tenantDrafts.sweep(now)
	l.tenantPageViews.sweep(now)
	l.addressConversations.sweep(now)
	l.addressPageViews.sweep(now)
	l.visitorMessages.sweep(now)
	l.agentMessages.sweep(now)
	l.writerDrafts.sweep(now)
	l.widgetKeyFailures.sweep(now)
	l.accountLogins.sweep(now)
	l.addressLogins.sweep(now)
	l.startsMu.Lock()
	for id, slots := range l.starts {
		if len(slots) == 0 {
			delete(l.starts, id)
		}
	}
	l.startsMu.Unlock()
}

// tenant returns a tenant's limits: its own over the server's.
func (l *Limiter) tenant(id uuid.UUID) tenant {
	if t, ok := (*l.tenants.Load())[id]; ok {
		return t
	}
	// A tenant created since the last read: the server's limits until it is read.
	return tenant{limits: l.cfg.Tenant}
}

// Address is the client address of a request (see Clients.Address).
func (l *Limiter) Address(peer connect.Peer, h http.Header) netip.Addr {
	return l.clients.Address(peer, h)
}

// WidgetCall is what a widget call costs.
type WidgetCall int

const (
	// PageView is a page view or an availability check.
	PageView WidgetCall = iota
	// Conversation is a conversation started or an offline message left.
	Conversation
)

// Widget admits a widget call of a tenant's visitor from a client address, or refuses it.
func (l *Limiter) Widget(id uuid.UUID, call WidgetCall, addr netip.Addr) error {
	t := l.tenant(id)
	c := l.check(t.name)
	site, visitor := l.widgetLimits(t, id, call, addr)
	site.reserve(c)
	visitor.reserve(c)
	return c.verdict()
}

// widgetLimits are the limits a widget call of a tenant's visitor from an address is
// counted against: the site's and the address's.
func (l *Limiter) widgetLimits(t tenant, id uuid.UUID, call WidgetCall, addr netip.Addr) (limitOn[uuid.UUID], limitOn[tenantAddress]) {
	at := tenantAddress{id, addr}
	if call == Conversation {
		return limitOn[uuid.UUID]{&l.tenantConversations, id, perMinute(t.limits.ConversationsPerMinute), "conversations",
				"this site is starting too many conversations right now"},
			limitOn[tenantAddress]{&l.addressConversations, at, perMinute(t.limits.VisitorConversationsPerMinute), "visitor_conversations",
				"too many conversations started from your address"}
	}
	return limitOn[uuid.UUID]{&l.tenantPageViews, id, perSecond(t.limits.PageViewsPerSecond), "page_views",
			"this site's chat is too busy right now"},
		limitOn[tenantAddress]{&l.addressPageViews, at, perMinute(t.limits.VisitorPageViewsPerMinute), "visitor_page_views",
			"too many page views from your address"}
}

// WidgetKeyGuard refuses every widget call from an address that tried too many unknown
// widget keys; it answers whether the key is known or not, so that a guesser learns
// nothing more.
func (l *Limiter) WidgetKeyGuard(addr netip.Addr) error {
	if f := l.guessing(addr); f != nil {
		return f.err
	}
	return nil
}

// guessing is the refusal of a widget call from an address that tried too many unknown
// widget keys, or nil.
func (l *Limiter) guessing(addr netip.Addr) *refused {
	r := perHour(l.cfg.WidgetKeyFailuresPerHour)
	if d := l.widgetKeyFailures.peek(addr, r, l.now()); d > 0 {
		l.refused.WithLabelValues("", "widget_key_failures").Inc()
		return refusedAs("too many unknown widget keys from your address", r, d)
	}
	return nil
}

// UnknownWidgetKey counts an unknown widget key tried from an address.
func (l *Limiter) UnknownWidgetKey(addr netip.Addr) {
	l.widgetKeyFailures.debit(addr, perHour(l.cfg.WidgetKeyFailuresPerHour), l.now())
}

// check gathers the tokens one call takes from several limits: all of them, or none.
type check struct {
	l      *Limiter
	tenant string
	take   take
	wait   time.Duration
	limit  string
	why    string
	r      rate
}

func (l *Limiter) check(tenant string) *check {
	return &check{l: l, tenant: tenant, take: take{now: l.now()}}
}

// reserve adds a token of key's bucket to c; an off limit takes nothing.
func reserve[K comparable](c *check, b *buckets[K], key K, r rate, limit, why string) {
	if r.off() {
		return
	}
	res := b.reserve(key, r, c.take.now)
	c.take.rs = append(c.take.rs, res)
	d := time.Hour
	if res.OK() {
		d = res.DelayFrom(c.take.now)
	}
	if d > c.wait {
		c.wait, c.limit, c.why, c.r = d, limit, why, r
	}
}

// verdict is nil when every token was there, or the refusal of the limit that would make
// the call wait longest (and then no token is taken).
func (c *check) verdict() error {
	if c.wait <= 0 {
		return nil
	}
	c.take.cancel()
	c.l.refused.WithLabelValues(c.tenant, c.limit).Inc()
	return refusalOf(c.why, c.r, c.wait)
}

// refusals are the refusals made so far, by what they say: a flood is refused the same
// few ways thousands of times a second, and each is built, and written for Connect's
// unary protocol, once. The cache is emptied when it grows past maxRefusals (tenants' own
// rates and the hints make its keys).
var refusals struct {
	sync.Mutex
	m map[refusalKey]*refused
}

const maxRefusals = 4096

type refusalKey struct {
	why  string
	r    rate
	hint time.Duration
}

// refused is a refusal and the answer Connect writes for it to a unary call.
type refused struct {
	err   error
	unary answer
}

// refusalOf is the refusal of a limit of r, saying why, with a retry hint of d rounded
// up. Connect only reads the errors it writes, so one value serves every caller.
func refusalOf(why string, r rate, d time.Duration) error {
	return refusedAs(why, r, d).err
}

// refusedAs is refusalOf with its answer to a unary call.
func refusedAs(why string, r rate, d time.Duration) *refused {
	k := refusalKey{why, r, hint(d)}
	refusals.Lock()
	defer refusals.Unlock()
	if f, ok := refusals.m[k]; ok {
		return f
	}
	if refusals.m == nil || len(refusals.m) >= maxRefusals {
		refusals.m = map[refusalKey]*refused{}
	}
	err := refusal(fmt.Sprintf("%s (at most %s)", why, r), k.hint)
	// Meta makes its map on first use: made now, it is only read after.
	err.(*connect.Error).Meta()
	f := &refused{err: err, unary: unaryAnswer(err)}
	refusals.m[k] = f
	return f
}

// refusal is ResourceExhausted saying why and when to retry, with the delay as a
// google.rpc.RetryInfo detail.
func refusal(why string, d time.Duration) error {
	d = hint(d)
	err := connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%s; retry in %s", why, seconds(d)))
	if detail, derr := connect.NewErrorDetail(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)}); derr == nil {
		err.AddDetail(detail)
	}
	return err
}

// hint rounds a delay up to the tenth of a second, or the second above ten seconds: a
// client that waits that long finds the token there.
func hint(d time.Duration) time.Duration {
	step := 100 * time.Millisecond
	if d >= 10*time.Second {
		step = time.Second
	}
	return max(step, (d+step-1)/step*step)
}

// seconds says a delay for people: "0.4s", "12s", "2m0s".
func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// RetryDelay reads the retry hint of a refusal: the RetryInfo detail of a
// ResourceExhausted error.
func RetryDelay(err error) (time.Duration, bool) {
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeResourceExhausted {
		return 0, false
	}
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		if info, ok := v.(*errdetails.RetryInfo); ok && info.GetRetryDelay() != nil {
			return info.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

// Login admits a sign-in attempt, or refuses it when the account or the address failed
// too often; done must be called with whether the credentials were wrong.
func (l *Limiter) Login(tenantName, username string, addr netip.Addr) (done func(failed bool), err error) {
	now := l.now()
	acct := account{strings.ToLower(tenantName), strings.ToLower(username)}
	ra, rb := perHour(l.cfg.AccountLoginFailuresPerHour), perHour(l.cfg.AddressLoginFailuresPerHour)
	if d := l.accountLogins.peek(acct, ra, now); d > 0 {
		l.refused.WithLabelValues("", "account_login_failures").Inc()
		return nil, refusalOf("too many failed sign-ins to this account", ra, d)
	}
	if d := l.addressLogins.peek(addr, rb, now); d > 0 {
		l.refused.WithLabelValues("", "address_login_failures").Inc()
		return nil, refusalOf("too many failed sign-ins from your address", rb, d)
	}
	return func(failed bool) {
		if failed {
			now := l.now()
			l.accountLogins.debit(acct, ra, now)
			l.addressLogins.debit(addr, rb, now)
		}
	}, nil
}

// Message admits a message of a visitor or an agent, or refuses it. An admitted message
// that the server then fails to store (Unavailable: the database is down) is given back
// with refund: the sender retries it, and a retry the server caused must not use up the
// sender's limit, nor lock it out when the database is back.
func (l *Limiter) Message(id uuid.UUID, visitor bool, writer uuid.UUID) (refund func(), err error) {
	t := l.tenant(id)
	c := l.check(t.name)
	for _, m := range l.messageLimits(t, id, visitor, writer) {
		m.reserve(c)
	}
	if err := c.verdict(); err != nil {
		return nil, err
	}
	// Cancelled as of when they were taken: x/time/rate gives nothing back for a
	// reservation cancelled after its time.
	return c.take.cancel, nil
}

// limitOn is one limit a call is counted against: a bucket of key's, filling at r.
type limitOn[K comparable] struct {
	b          *buckets[K]
	key        K
	r          rate
	limit, why string
}

func (m limitOn[K]) reserve(c *check) { reserve(c, m.b, m.key, m.r, m.limit, m.why) }

// peek is how long until the limit has a token for a call, without taking it.
func (m limitOn[K]) peek(now time.Time) time.Duration { return m.b.peek(m.key, m.r, now) }

// messageLimits are the limits of a message of a tenant's visitor (writer: the
// conversation) or agent (writer: the account), the writer's first.
func (l *Limiter) messageLimits(t tenant, id uuid.UUID, visitor bool, writer uuid.UUID) [2]limitOn[uuid.UUID] {
	w := limitOn[uuid.UUID]{b: &l.agentMessages, key: writer, r: perMinute(t.limits.AgentMessagesPerMinute), limit: "agent_messages", why: "you are sending messages too fast"}
	if visitor {
		w.b, w.r, w.limit = &l.visitorMessages, perMinute(t.limits.VisitorMessagesPerMinute), "visitor_messages"
	}
	return [2]limitOn[uuid.UUID]{w, {b: &l.tenantMessages, key: id, r: perSecond(t.limits.MessagesPerSecond), limit: "messages",
		why: "this site is receiving too many messages right now"}}
}

// Draft admits a draft update of a writer (a visitor's conversation, or a staff
// account), or refuses it.
func (l *Limiter) Draft(id uuid.UUID, writer uuid.UUID) error {
	t := l.tenant(id)
	c := l.check(t.name)
	reserve(c, &l.writerDrafts, writer, perSecond(l.cfg.WriterDraftsPerSecond), "writer_drafts",
		"you are sending draft updates too fast")
	reserve(c, &l.tenantDrafts, id, perSecond(t.limits.DraftsPerSecond), "drafts",
		"this site is receiving too many draft updates right now")
	return c.verdict()
}

// OpenStream admits one more stream of a token, or refuses it when the token holds as many
// as it may; close must be called when the stream ends.
func (l *Limiter) OpenStream(id uuid.UUID, token string, visitor bool) (close func(), err error) {
	limit := l.cfg.StreamsPerStaffToken
	if visitor {
		limit = l.cfg.StreamsPerVisitorToken
	}
	if limit <= 0 {
		return func() {}, nil
	}
	l.streamsMu.Lock()
	if l.streams[token] >= limit {
		l.streamsMu.Unlock()
		l.refused.WithLabelValues(l.tenant(id).name, "streams").Inc()
		return nil, refusal(fmt.Sprintf("this token holds %d streams open, as many as it may; close one", limit), streamRetry)
	}
	l.streams[token]++
	l.streamsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.streamsMu.Lock()
			if l.streams[token]--; l.streams[token] <= 0 {
				delete(l.streams, token)
			}
			l.streamsMu.Unlock()
		})
	}, nil
}

// StartsPerTenant is how many of a tenant's conversation starts are stored at once. A
// business unit takes its starts one by one (its queue is first come, first served), so
// more would only hold database connections, which every tenant shares, while they wait
// their turn; the others wait here instead, holding nothing.
const StartsPerTenant = 4

// StartSlot waits for one of the tenant's StartsPerTenant places to store a conversation
// start; release gives it back.
func (l *Limiter) StartSlot(ctx context.Context, id uuid.UUID) (release func(), err error) {
	l.startsMu.Lock()
	slots := l.starts[id]
	if slots == nil {
		slots = make(chan struct{}, StartsPerTenant)
		l.starts[id] = slots
	}
	l.startsMu.Unlock()
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
