package chat

import (
	"net/http"
	"net/netip"
	"testing"

	"connectrpc.com/connect"
)

func TestUserAgentsAreReadAsPeopleNameThem(t *testing.T) {
	for _, c := range []struct {
		ua, os, browser, device string
	}{
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Android", "Chrome", "mobile"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Windows", "Edge", "desktop"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "macOS", "Safari", "desktop"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", "Linux", "Firefox", "desktop"},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", "Googlebot", "bot"},
		{"", "", "", ""},
	} {
		got := parseUserAgent(c.ua)
		if got.OS != c.os || got.Browser != c.browser || got.Device != c.device || got.UserAgent != c.ua {
			t.Errorf("%q: read as OS %q, browser %q, device %q; want %q, %q, %q", c.ua, got.OS, got.Browser, got.Device, c.os, c.browser, c.device)
		}
	}
	if got := parseUserAgent(string(make([]byte, 2000)) + "x"); len(got.UserAgent) > MaxUserAgentBytes {
		t.Errorf("a 2001-byte user agent is kept as %d bytes", len(got.UserAgent))
	}
}

func TestCountryIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	p := Proxies{CountryHeader: "CF-IPCountry", Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	h := func(v string) http.Header { return http.Header{"Cf-Ipcountry": {v}} }
	for _, c := range []struct {
		proxies Proxies
		peer    string
		header  string
		want    string
	}{
		{p, "10.1.2.3:4567", "de", "DE"},
		{p, "[fd00::1]:443", "JP", "JP"},
		{p, "[::ffff:10.0.0.1]:443", "NL", "NL"},
		{p, "192.0.2.1:4567", "DE", ""},
		{p, "10.1.2.3:4567", "XX", ""},
		{p, "10.1.2.3:4567", "Germany", ""},
		{p, "10.1.2.3:4567", "1A", ""},
		{p, "not an address", "DE", ""},
		{Proxies{CountryHeader: "CF-IPCountry"}, "10.1.2.3:4567", "DE", ""},
		{Proxies{Trusted: p.Trusted}, "10.1.2.3:4567", "DE", ""},
	} {
		if got := c.proxies.country(h(c.header), connect.Peer{Addr: c.peer}); got != c.want {
			t.Errorf("header %q from %s with %+v: %q; want %q", c.header, c.peer, c.proxies, got, c.want)
		}
	}
}
