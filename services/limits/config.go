// Package limits keeps one caller, or one tenant, from taking what others need: rate limits
// per visitor, per agent and per tenant on what writes (starting conversations, offline
// messages, messages, drafts, page views), a cap on the streams one token holds open, and
// cut-offs for guessing widget keys and passwords. Every refusal is ResourceExhausted with
// a google.rpc.RetryInfo detail and the delay in its message, and is decided in memory
// before any database work. Limits are token buckets (golang.org/x/time/rate) kept per key
// and forgotten once idle; a Tenant's spec.limits overrides the server's defaults for that
// tenant, read from PostgreSQL and followed through LISTEN/NOTIFY.
package limits

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Tenant holds the limits a Tenant may set for itself (spec.limits, the same JSON names).
// As a server default, 0 turns a limit off; in a tenant's override, 0 keeps the server's.
// A limit of N per period lets N through at once and refills evenly over the period.
type Tenant struct {
	// ConversationsPerMinute caps conversations started and offline messages left across
	// the tenant.
	ConversationsPerMinute int `json:"conversationsPerMinute,omitempty"`
	// MessagesPerSecond caps messages sent by the tenant's visitors and agents together.
	MessagesPerSecond int `json:"messagesPerSecond,omitempty"`
	// DraftsPerSecond caps draft updates (typing) across the tenant.
	DraftsPerSecond int `json:"draftsPerSecond,omitempty"`
	// PageViewsPerSecond caps page views and availability checks of the tenant's widget.
	PageViewsPerSecond int `json:"pageViewsPerSecond,omitempty"`
	// VisitorConversationsPerMinute caps the conversations and offline messages one
	// client address starts with the tenant.
	VisitorConversationsPerMinute int `json:"visitorConversationsPerMinute,omitempty"`
	// VisitorPageViewsPerMinute caps the page views and availability checks of one client
	// address on the tenant's sites.
	VisitorPageViewsPerMinute int `json:"visitorPageViewsPerMinute,omitempty"`
	// VisitorMessagesPerMinute caps the messages of one visitor (one conversation's token).
	VisitorMessagesPerMinute int `json:"visitorMessagesPerMinute,omitempty"`
	// AgentMessagesPerMinute caps the messages of one agent, over all of its conversations.
	AgentMessagesPerMinute int `json:"agentMessagesPerMinute,omitempty"`
}

// over returns t with the limits o sets.
func (t Tenant) over(o Tenant) Tenant {
	pick := func(def, set int) int {
		if set > 0 {
			return set
		}
		return def
	}
	return Tenant{
		ConversationsPerMinute:        pick(t.ConversationsPerMinute, o.ConversationsPerMinute),
		MessagesPerSecond:             pick(t.MessagesPerSecond, o.MessagesPerSecond),
		DraftsPerSecond:               pick(t.DraftsPerSecond, o.DraftsPerSecond),
		PageViewsPerSecond:            pick(t.PageViewsPerSecond, o.PageViewsPerSecond),
		VisitorConversationsPerMinute: pick(t.VisitorConversationsPerMinute, o.VisitorConversationsPerMinute),
		VisitorPageViewsPerMinute:     pick(t.VisitorPageViewsPerMinute, o.VisitorPageViewsPerMinute),
		VisitorMessagesPerMinute:      pick(t.VisitorMessagesPerMinute, o.VisitorMessagesPerMinute),
		AgentMessagesPerMinute:        pick(t.AgentMessagesPerMinute, o.AgentMessagesPerMinute),
	}
}

// Config is a server's limits. The zero Config limits nothing.
type Config struct {
	// Tenant are the limits of every tenant that sets none of its own.
	Tenant
	// WriterDraftsPerSecond caps the draft updates of one writer (a visitor, or an agent
	// over all of its conversations); the console sends at most about three a second.
	WriterDraftsPerSecond int
	// StreamsPerStaffToken and StreamsPerVisitorToken cap the streams one token holds
	// open at once.
	StreamsPerStaffToken   int
	StreamsPerVisitorToken int
	// WidgetKeyFailuresPerHour caps the unknown widget keys one client address may try;
	// once it is spent, every widget call from that address is refused until it refills.
	WidgetKeyFailuresPerHour int
	// AccountLoginFailuresPerHour and AddressLoginFailuresPerHour cap failed sign-ins to
	// one account (tenant and username) and from one client address; once spent, every
	// sign-in there is refused, right password or not, until it refills.
	AccountLoginFailuresPerHour int
	AddressLoginFailuresPerHour int
	// MaxRequestBytes caps one request message; Connect answers a larger one with
	// ResourceExhausted before it is decoded.
	MaxRequestBytes int
}

// Defaults are the limits `serve` ships with: far above what people do (a person types a
// message every few seconds, opens a handful of chats a day, browses a page every few
// seconds; the console sends a draft at most every 300 ms and holds a few streams per tab)
// and above `switchboard dev --demo`, but low enough that a script gets little done. A
// tenant's are those of a large contact centre (7,200 conversations an hour, 100 messages
// a second); a larger one raises its own in spec.limits.
func Defaults() Config {
	return Config{
		Tenant: Tenant{
			ConversationsPerMinute:        120,
			MessagesPerSecond:             100,
			DraftsPerSecond:               200,
			PageViewsPerSecond:            100,
			VisitorConversationsPerMinute: 20,
			VisitorPageViewsPerMinute:     120,
			VisitorMessagesPerMinute:      60,
			AgentMessagesPerMinute:        300,
		},
		WriterDraftsPerSecond:       10,
		StreamsPerStaffToken:        32,
		StreamsPerVisitorToken:      8,
		WidgetKeyFailuresPerHour:    30,
		AccountLoginFailuresPerHour: 20,
		AddressLoginFailuresPerHour: 100,
		MaxRequestBytes:             64 << 10,
	}
}

// SharedAddress multiplies the limits per client address by f, for clients that all come
// from one address though they stand for many people: tests and the demo traffic of
// `switchboard dev`, whose simulated visitors all call from 127.0.0.1.
func (c Config) SharedAddress(f int) Config {
	c.VisitorConversationsPerMinute *= f
	c.VisitorPageViewsPerMinute *= f
	c.WidgetKeyFailuresPerHour *= f
	c.AddressLoginFailuresPerHour *= f
	return c
}

// fields are the limits by the names of --limits (and of spec.limits, for those a tenant
// may set).
func (c *Config) fields() map[string]*int {
	return map[string]*int{
		"conversationsPerMinute":        &c.ConversationsPerMinute,
		"messagesPerSecond":             &c.MessagesPerSecond,
		"draftsPerSecond":               &c.DraftsPerSecond,
		"pageViewsPerSecond":            &c.PageViewsPerSecond,
		"visitorConversationsPerMinute": &c.VisitorConversationsPerMinute,
		"visitorPageViewsPerMinute":     &c.VisitorPageViewsPerMinute,
		"visitorMessagesPerMinute":      &c.VisitorMessagesPerMinute,
		"agentMessagesPerMinute":        &c.AgentMessagesPerMinute,
		"writerDraftsPerSecond":         &c.WriterDraftsPerSecond,
		"streamsPerStaffToken":          &c.StreamsPerStaffToken,
		"streamsPerVisitorToken":        &c.StreamsPerVisitorToken,
		"widgetKeyFailuresPerHour":      &c.WidgetKeyFailuresPerHour,
		"accountLoginFailuresPerHour":   &c.AccountLoginFailuresPerHour,
		"addressLoginFailuresPerHour":   &c.AddressLoginFailuresPerHour,
		"maxRequestBytes":               &c.MaxRequestBytes,
	}
}

// Names lists the names Set takes, sorted.
func Names() []string {
	var c Config
	names := make([]string, 0, len(c.fields()))
	for name := range c.fields() {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Set sets the limit of that name; 0 turns it off.
func (c *Config) Set(name string, value int) error {
	p, ok := c.fields()[name]
	if !ok {
		return fmt.Errorf("%q is not a limit; the limits are %s", name, strings.Join(Names(), ", "))
	}
	if value < 0 {
		return fmt.Errorf("%s: %d is negative; 0 turns the limit off", name, value)
	}
	*p = value
	return nil
}

// String lists the limits as name=value, as spec.limits names them.
func (t Tenant) String() string {
	c := Config{Tenant: t}
	f := c.fields()
	var parts []string
	for _, name := range tenantNames {
		parts = append(parts, fmt.Sprintf("%s=%d", name, *f[name]))
	}
	return strings.Join(parts, ",")
}

// tenantNames are the limits a tenant may set, in the order of the Tenant's fields.
var tenantNames = []string{"conversationsPerMinute", "messagesPerSecond", "draftsPerSecond", "pageViewsPerSecond",
	"visitorConversationsPerMinute", "visitorPageViewsPerMinute", "visitorMessagesPerMinute", "agentMessagesPerMinute"}

// String lists the limits as name=value, sorted by name, as --limits takes them.
func (c Config) String() string {
	f := c.fields()
	var parts []string
	for _, name := range Names() {
		parts = append(parts, fmt.Sprintf("%s=%d", name, *f[name]))
	}
	return strings.Join(parts, ",")
}

// rate is a limit of n per period: n at once, refilled evenly over the period.
type rate struct {
	n   int
	per time.Duration
}

func perSecond(n int) rate { return rate{n, time.Second} }
func perMinute(n int) rate { return rate{n, time.Minute} }
func perHour(n int) rate   { return rate{n, time.Hour} }

func (r rate) off() bool { return r.n <= 0 }

// String says the limit for people: "60 a minute".
func (r rate) String() string {
	unit := map[time.Duration]string{time.Second: "a second", time.Minute: "a minute", time.Hour: "an hour"}[r.per]
	return fmt.Sprintf("%d %s", r.n, unit)
}
