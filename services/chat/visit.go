package chat

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"github.com/mssola/useragent"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/limits"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Proxies says which proxies in front of the service are trusted to tell the visitor's
// country and address, and in which headers.
type Proxies struct {
	// CountryHeader names the header holding the visitor's ISO 3166-1 alpha-2 country
	// code, such as CF-IPCountry; empty means no country is read.
	CountryHeader string
	// ForwardedHeader names the header to which proxies append the address they received
	// a request from, which limits per client address count by; empty means
	// X-Forwarded-For.
	ForwardedHeader string
	// Trusted are the networks of the proxies whose headers are believed. A request that
	// comes from elsewhere has them ignored, so a visitor cannot choose its country, nor
	// dodge a limit per address.
	Trusted []netip.Prefix
}

const (
	// MaxTitleBytes is the longest page title kept.
	MaxTitleBytes = 500
	// MaxUserAgentBytes is the longest User-Agent header kept.
	MaxUserAgentBytes = 512
	// MaxVisitorKeyBytes bounds the visitor key a caller sends.
	MaxVisitorKeyBytes = 100
)

// TrackPageView records a page view, recognising the visitor by its key.
func (s *Server) TrackPageView(ctx context.Context, req *connect.Request[chatv1.TrackPageViewRequest]) (*connect.Response[chatv1.TrackPageViewResponse], error) {
	m := req.Msg
	if m.PageUrl == "" {
		return nil, rpcerr.Invalid("page_url", "required")
	}
	site, err := checkPageURL("page_url", m.PageUrl)
	if err != nil {
		return nil, err
	}
	if err := checkLen("page_title", m.PageTitle, MaxTitleBytes); err != nil {
		return nil, err
	}
	if m.Referrer != "" {
		if _, err := checkPageURL("referrer", m.Referrer); err != nil {
			return nil, err
		}
	}
	v, key, err := s.newVisit(m.VisitorKey, site, req.Header(), req.Peer())
	if err != nil {
		return nil, err
	}
	v.Referrer = m.Referrer
	v.Page = store.PageView{URL: m.PageUrl, Title: m.PageTitle}
	t, err := s.widgetTenant(ctx, req, m.WidgetKey, limits.PageView)
	if err != nil {
		return nil, err
	}
	var visited *store.Visited
	err = s.db.InTenant(ctx, t.ID, func(tx pgx.Tx) error {
		visited, err = store.RecordVisit(ctx, tx, t.ID, v)
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	if visited.Recognised {
		key = m.VisitorKey
	}
	return connect.NewResponse(&chatv1.TrackPageViewResponse{
		VisitorKey:  key,
		Recognised:  visited.Recognised,
		VisitorName: visited.Visitor.Profile.Name,
	}), nil
}

// newVisit checks the visitor key and reads the client from the request; key is a fresh
// visitor key, to be handed out when the given one names nobody.
func (s *Server) newVisit(visitorKey, site string, h http.Header, peer connect.Peer) (v store.Visit, key string, err error) {
	if visitorKey != "" {
		if len(visitorKey) > MaxVisitorKeyBytes {
			return v, "", rpcerr.Invalid("visitor_key", "%d bytes is over the limit of %d bytes", len(visitorKey), MaxVisitorKeyBytes)
		}
		hash, ok := auth.HashVisitorKey(visitorKey)
		if !ok {
			return v, "", rpcerr.Invalid("visitor_key", "not a visitor key; send the visitor_key of an earlier answer, or none")
		}
		v.KeyHash = hash
	}
	key, v.NewKeyHash = auth.NewVisitorKey()
	v.Site = site
	v.Client = parseUserAgent(h.Get("User-Agent"))
	v.Client.Country = s.proxies.country(h, peer)
	return v, key, nil
}

// checkPageURL checks an absolute http or https URL and returns its origin.
func checkPageURL(field, s string) (string, error) {
	if err := checkLen(field, s, MaxURLBytes); err != nil {
		return "", err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", rpcerr.Invalid(field, "%s is not an absolute http or https URL", rpcerr.Quote(s))
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// parseUserAgent reads the operating system, browser and kind of device from a
// User-Agent header.
func parseUserAgent(s string) store.Client {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
	if len(s) > MaxUserAgentBytes {
		s = strings.ToValidUTF8(s[:MaxUserAgentBytes], "")
	}
	c := store.Client{UserAgent: s}
	if s == "" {
		return c
	}
	ua := useragent.New(s)
	os := ua.OSInfo()
	c.OS, c.OSVersion = os.Name, os.Version
	switch {
	case strings.Contains(c.OS, "iPhone OS"), strings.HasPrefix(c.OS, "CPU OS"), strings.Contains(c.OS, "iPad"):
		c.OS = "iOS"
	case strings.Contains(c.OS, "Mac OS X"):
		c.OS = "macOS"
	}
	c.Browser, c.BrowserVersion = ua.Browser()
	switch {
	case ua.Bot():
		c.Device = "bot"
	case ua.Mobile():
		c.Device = "mobile"
	default:
		c.Device = "desktop"
	}
	return c
}

// Clients is how the limits tell a request's client address behind these proxies.
func (p Proxies) Clients() limits.Clients {
	return limits.Clients{Trusted: p.Trusted, Header: p.ForwardedHeader}
}

// country reads the visitor's country from the configured header, when the request came
// through a trusted proxy and the header holds a two-letter code.
func (p Proxies) country(h http.Header, peer connect.Peer) string {
	if p.CountryHeader == "" || !p.Clients().FromTrustedProxy(peer) {
		return ""
	}
	c := strings.ToUpper(strings.TrimSpace(h.Get(p.CountryHeader)))
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c == "XX" {
		return ""
	}
	return c
}
