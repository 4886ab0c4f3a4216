package limits

import (
	"net/http"
	"net/netip"
	"strings"

	"connectrpc.com/connect"
)

// DefaultForwardedHeader is where proxies put the addresses a request came through.
const DefaultForwardedHeader = "X-Forwarded-For"

// Clients says how to tell a request's client address.
type Clients struct {
	// Trusted are the networks of the proxies in front of the service; only a request
	// from one of them has its forwarded header believed, so that a client cannot choose
	// its own address.
	Trusted []netip.Prefix
	// Header names the header in which trusted proxies append the address they received
	// the request from; empty means DefaultForwardedHeader.
	Header string
}

// Address is the client address of a request: the peer, or when the peer is a trusted
// proxy, the last address of the forwarded header that is not a trusted proxy (each proxy
// appends what it saw, so entries left of the first untrusted one could be made up). IPv6
// clients are taken by their /64, which one subscriber usually holds whole.
func (c Clients) Address(peer connect.Peer, h http.Header) netip.Addr {
	addr := peerAddr(peer)
	if !c.trusted(addr) {
		return key(addr)
	}
	name := c.Header
	if name == "" {
		name = DefaultForwardedHeader
	}
	values := h.Values(name)
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				// Garbage from a proxy we trust: the proxy itself is the best we know.
				return key(addr)
			}
			addr = hop.Unmap()
			if !c.trusted(addr) {
				return key(addr)
			}
		}
	}
	return key(addr)
}

// FromTrustedProxy says whether a request came from one of the trusted proxies, whose
// headers are believed.
func (c Clients) FromTrustedProxy(peer connect.Peer) bool { return c.trusted(peerAddr(peer)) }

func (c Clients) trusted(a netip.Addr) bool {
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(peer connect.Peer) netip.Addr {
	if ap, err := netip.ParseAddrPort(peer.Addr); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(peer.Addr)
	return a.Unmap()
}

// key is the address limits are kept by: an IPv4 address, or an IPv6 address's /64.
func key(a netip.Addr) netip.Addr {
	a = a.WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}
