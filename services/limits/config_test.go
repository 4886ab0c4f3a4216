package limits

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
)

func TestTheClientAddressIsThePeerUnlessATrustedProxyForwardedIt(t *testing.T) {
	trusted := Clients{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	for _, c := range []struct {
		name      string
		clients   Clients
		peer      string
		forwarded []string
		want      string
	}{
		{"a direct client is its peer address", trusted, "198.51.100.7:4242", nil, "198.51.100.7"},
		{"a direct client's own X-Forwarded-For is not believed", trusted, "198.51.100.7:4242", []string{"203.0.113.1"}, "198.51.100.7"},
		{"without trusted proxies nothing forwarded is believed", Clients{}, "10.1.2.3:80", []string{"203.0.113.1"}, "10.1.2.3"},
		{"a trusted proxy's last hop is the client", trusted, "10.1.2.3:80", []string{"203.0.113.1"}, "203.0.113.1"},
		{"what the client wrote left of the proxy's hop is ignored", trusted, "10.1.2.3:80", []string{"1.2.3.4, 203.0.113.1"}, "203.0.113.1"},
		{"a chain of trusted proxies is walked from the right", trusted, "10.1.2.3:80", []string{"1.2.3.4, 203.0.113.1, 10.9.9.9"}, "203.0.113.1"},
		{"headers repeated are read as one list", trusted, "10.1.2.3:80", []string{"1.2.3.4, 203.0.113.1", "10.9.9.9"}, "203.0.113.1"},
		{"garbage from a trusted proxy leaves the proxy", trusted, "10.1.2.3:80", []string{"not an address"}, "10.1.2.3"},
		{"a trusted proxy without the header is the client", trusted, "10.1.2.3:80", nil, "10.1.2.3"},
		{"an IPv4 address mapped into IPv6 is the IPv4 address", trusted, "[::ffff:198.51.100.7]:4242", nil, "198.51.100.7"},
		{"an IPv6 client is counted by its /64", trusted, "[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::"},
		{"an IPv6 client behind a trusted proxy is counted by its /64", trusted, "[fd00::1]:443", []string{"2001:db8:aa:bb:cc::1"}, "2001:db8:aa:bb::"},
		{"another header can be named", Clients{Trusted: trusted.Trusted, Header: "CF-Connecting-IP"}, "10.1.2.3:80", nil, "10.1.2.3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			name := c.clients.Header
			if name == "" {
				name = DefaultForwardedHeader
			}
			for _, v := range c.forwarded {
				h.Add(name, v)
			}
			if got := c.clients.Address(connect.Peer{Addr: c.peer}, h); got != netip.MustParseAddr(c.want) {
				t.Errorf("got %s; want %s", got, c.want)
			}
		})
	}
}

func TestLimitsAreSetByNameAndBadNamesOrValuesAreRefused(t *testing.T) {
	c := Defaults()
	if err := c.Set("messagesPerSecond", 500); err != nil || c.MessagesPerSecond != 500 {
		t.Errorf("setting messagesPerSecond: %v, %d", err, c.MessagesPerSecond)
	}
	if err := c.Set("streamsPerVisitorToken", 0); err != nil || c.StreamsPerVisitorToken != 0 {
		t.Errorf("turning streamsPerVisitorToken off: %v", err)
	}
	if err := c.Set("messagesPerMinute", 5); err == nil || !strings.Contains(err.Error(), "messagesPerSecond") {
		t.Errorf("an unknown name: %v; want an error listing the names", err)
	}
	if err := c.Set("messagesPerSecond", -1); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("a negative limit: %v", err)
	}
	if s := Defaults().String(); !strings.Contains(s, "visitorMessagesPerMinute=60") || strings.Count(s, "=") != len(Names()) {
		t.Errorf("Defaults().String() = %q", s)
	}
	if got := Defaults().Tenant.over(Tenant{MessagesPerSecond: 7}); got.MessagesPerSecond != 7 || got.ConversationsPerMinute != 120 {
		t.Errorf("a tenant's own limit over the defaults: %+v", got)
	}
}

func TestRetryHintsRoundUpSoThatTheTokenIsThere(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want time.Duration
		says string
	}{
		{time.Microsecond, 100 * time.Millisecond, "0.1s"},
		{166 * time.Millisecond, 200 * time.Millisecond, "0.2s"},
		{2 * time.Second, 2 * time.Second, "2.0s"},
		{9*time.Second + time.Millisecond, 9100 * time.Millisecond, "9.1s"},
		{20 * time.Second, 20 * time.Second, "20s"},
		{20*time.Minute + time.Millisecond, 20*time.Minute + time.Second, "20m1s"},
	} {
		if got := hint(c.d); got != c.want || seconds(got) != c.says {
			t.Errorf("hint(%s) = %s (%q); want %s (%q)", c.d, got, seconds(got), c.want, c.says)
		}
	}
}

func TestBucketsThatRefilledAreForgotten(t *testing.T) {
	var b buckets[int]
	now := time.Now()
	for i := range 1000 {
		b.reserve(i, perMinute(3), now)
	}
	b.reserve(-1, perHour(3), now)
	b.sweep(now.Add(59 * time.Second))
	if n := b.len(); n != 1001 {
		t.Errorf("%d buckets kept before they refilled; want 1001", n)
	}
	b.sweep(now.Add(time.Minute))
	if n := b.len(); n != 1 {
		t.Errorf("%d buckets kept after a minute; want only the hourly one", n)
	}
}

// A message the server failed to store (the database down) is retried by its sender; the
// retries must not use up the sender's limit and lock it out once the database is back.
func TestAMessageTheServerFailedToStoreIsGivenBack(t *testing.T) {
	cfg := Defaults()
	cfg.VisitorMessagesPerMinute = 3
	l := New(cfg, Clients{}, nil)
	now := time.Now()
	l.SetClock(func() time.Time { return now })
	tenant, conversation := uuid.New(), uuid.New()
	other := uuid.New()
	for i := range 10 {
		refund, err := l.Message(tenant, true, conversation)
		if err != nil {
			t.Fatalf("attempt %d of a message the server keeps failing to store: %v; want it admitted", i+1, err)
		}
		// The server takes its time to fail, and another visitor of the tenant writes
		// meanwhile.
		now = now.Add(700 * time.Millisecond)
		if _, err := l.Message(tenant, true, other); err != nil && i < 3 {
			t.Fatalf("another visitor's message %d: %v", i+1, err)
		}
		now = now.Add(300 * time.Millisecond)
		refund()
	}
	for i := range 3 {
		if _, err := l.Message(tenant, true, conversation); err != nil {
			t.Fatalf("message %d of 3 stored: %v", i+1, err)
		}
	}
	if _, err := l.Message(tenant, true, conversation); connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Fatalf("a 4th message within the minute: %v; want ResourceExhausted", err)
	}
}
