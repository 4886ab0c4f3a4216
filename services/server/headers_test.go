package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// call is one HTTP request to a replica, as a browser or a client would send it.
type call struct {
	method, path, body string
	header             map[string]string
}

func (c call) do(t *testing.T, base string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	key := env.Tenants["acme"].WidgetKey
	for _, c := range []struct {
		name string
		call call
	}{
		{"a Connect call", call{method: "POST", path: "/switchboard.chat.v1.ChatService/GetAvailability", body: `{"widgetKey":"` + key + `","businessUnit":"sales"}`}},
		{"a refused Connect call", call{method: "POST", path: "/switchboard.auth.v1.AuthService/Login", body: `{"tenant":"acme","username":"admin","password":"wrong"}`}},
		{"the metrics", call{method: "GET", path: "/metrics"}},
		{"the liveness probe", call{method: "GET", path: "/healthz"}},
		{"the readiness probe", call{method: "GET", path: "/readyz"}},
		{"a path nobody serves", call{method: "GET", path: "/nothing/here"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, _ := c.call.do(t, env.Base)
			for header, want := range map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
				"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			} {
				if got := res.Header.Get(header); got != want {
					t.Errorf("%s %s (%d): %s %q, want %q", c.call.method, c.call.path, res.StatusCode, header, got, want)
				}
			}
		})
	}
}

// A page of another site cannot use Switchboard's API from its own scripts: the browser
// says where the call comes from, and the server refuses before anything happens. The
// widget (from its frame, on Switchboard's origin) and clients that are no browser go on.
func TestBrowsersOnOtherOriginsCannotCallTheAPI(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	key := env.Tenants["acme"].WidgetKey
	start := func(name string) string {
		return `{"widgetKey":"` + key + `","businessUnit":"sales","visitorName":"` + name + `","firstMessage":{"clientMessageId":"` + name + `","text":"hello"}}`
	}
	const startPath = "/switchboard.chat.v1.ChatService/StartConversation"
	host := strings.TrimPrefix(env.Base, "http://")
	for _, c := range []struct {
		name    string
		header  map[string]string
		allowed bool
	}{
		{"a page of another site (Sec-Fetch-Site)", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, false},
		{"a page of a sibling subdomain (Sec-Fetch-Site)", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost"}, false},
		{"an older browser's page of another origin (Origin only)", map[string]string{"Origin": "https://evil.example"}, false},
		{"the widget's frame on Switchboard's origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": env.Base}, true},
		{"an older browser on Switchboard's origin (Origin only)", map[string]string{"Origin": "http://" + host}, true},
		{"a client that is no browser", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			visitor := strings.ReplaceAll(c.name, " ", "-")
			res, body := call{method: "POST", path: startPath, body: start(visitor), header: c.header}.do(t, env.Base)
			// Nobody is online: a visitor's first message is kept as an offline message.
			var stored int
			err := env.Owner.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM offline_messages WHERE name = $1)
				+ (SELECT count(*) FROM visitors WHERE name = $1)`, visitor).Scan(&stored)
			if err != nil {
				t.Fatal(err)
			}
			if c.allowed {
				if res.StatusCode != http.StatusOK || stored != 1 {
					t.Fatalf("answered %d (%s) and kept %d messages, want the visitor's message kept", res.StatusCode, body, stored)
				}
				return
			}
			var connectErr struct{ Code, Message string }
			json.Unmarshal([]byte(body), &connectErr) //nolint:errcheck // checked below
			if res.StatusCode != http.StatusForbidden || connectErr.Code != "permission_denied" || !strings.Contains(connectErr.Message, "another origin") {
				t.Errorf("answered %d %s, want 403 permission_denied saying why", res.StatusCode, body)
			}
			if stored != 0 {
				t.Errorf("the refused call kept %d rows of the visitor", stored)
			}
		})
	}

	t.Run("no CORS preflight is granted to another origin", func(t *testing.T) {
		res, _ := call{method: "OPTIONS", path: startPath, header: map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
		}}.do(t, env.Base)
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("a preflight from https://evil.example got Access-Control-Allow-Origin %q", got)
		}
	})
}

// The widget's frame carries the tenant's allowed origins as frame-ancestors, and every
// replica follows a change at once, not at the end of its cache's lifetime.
func TestTheWidgetFrameFollowsTheTenantsAllowedOriginsOnEveryReplica(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	other := env.StartReplica(t, server.Config{})
	frame := "/console/widget.html?key=" + url.QueryEscape(env.Tenants["acme"].WidgetKey) + "&unit=sales"
	ancestors := func(base, path string) string {
		res, _ := call{method: "GET", path: path}.do(t, base)
		for _, d := range strings.Split(res.Header.Get("Content-Security-Policy"), ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(d), "frame-ancestors "); ok {
				return v
			}
		}
		return ""
	}
	expect := func(step, want string) {
		t.Helper()
		for _, base := range []string{env.Base, other.Base} {
			deadline := time.Now().Add(10 * time.Second)
			got := ancestors(base, frame)
			for got != want && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				got = ancestors(base, frame)
			}
			if got != want {
				t.Fatalf("%s: the frame on %s has frame-ancestors %q, want %q", step, base, got, want)
			}
		}
	}
	tenant := func(widget string) string {
		return "apiVersion: supervision.switchboard.dev/v1alpha1\nkind: Tenant\nmetadata: {name: acme}\nspec: {" + widget + "}\n"
	}

	expect("a tenant without allowed origins", "*")
	env.Apply(t, tenant("widget: {allowedOrigins: [https://shop.example.com, https://*.example.org]}"))
	expect("after the tenant named its sites", "'self' https://shop.example.com https://*.example.org")
	env.Apply(t, tenant("widget: {allowedOrigins: [https://shop.example.com]}"))
	expect("after the tenant dropped one", "'self' https://shop.example.com")
	env.Apply(t, tenant(""))
	expect("after the tenant removed its list", "*")

	if got := ancestors(other.Base, "/console/widget.html?key=wk_guessed&unit=sales"); got != "'self'" {
		t.Errorf("the frame of an unknown key has frame-ancestors %q, want 'self'", got)
	}
}

// Nothing authenticates with a cookie, so no page of another site can borrow a session
// (there is nothing for CSRF to ride on): no answer sets one, and a token offered as a
// cookie is not believed.
func TestNoCookieIsSetOrBelieved(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	key := env.Tenants["acme"].WidgetKey
	token := env.Login(t, "acme", "admin")
	for _, c := range []call{
		{method: "POST", path: "/switchboard.auth.v1.AuthService/Login", body: `{"tenant":"acme","username":"admin","password":"` + testenv.Password + `"}`},
		{method: "POST", path: "/switchboard.auth.v1.AuthService/Login", body: `{"tenant":"acme","username":"admin","password":"wrong"}`},
		{method: "POST", path: "/switchboard.auth.v1.AuthService/WhoAmI", body: `{}`, header: map[string]string{"Authorization": "Bearer " + token}},
		{method: "POST", path: "/switchboard.chat.v1.ChatService/TrackPageView", body: `{"widgetKey":"` + key + `","pageUrl":"https://shop.example.com/"}`},
		{method: "GET", path: "/t/acme/"},
		{method: "GET", path: "/console/widget.html?key=" + key},
		{method: "GET", path: "/widget.js"},
	} {
		res, body := c.do(t, env.Base)
		if cookies := res.Header.Values("Set-Cookie"); len(cookies) > 0 {
			t.Errorf("%s %s set cookies %q", c.method, c.path, cookies)
		}
		if res.StatusCode >= 500 {
			t.Errorf("%s %s: %d %s", c.method, c.path, res.StatusCode, body)
		}
	}

	for _, cookie := range []string{
		"token=" + token,
		"Authorization=Bearer%20" + token,
		"switchboard.session.acme=" + url.QueryEscape(`{"token":"`+token+`","expiresAt":9999999999}`),
		"session=" + token,
	} {
		res, err := env.Auth("").WhoAmI(context.Background(), withCookie(cookie))
		if testenv.Code(err) != connect.CodeUnauthenticated {
			t.Errorf("WhoAmI with only the cookie %q: %v %v, want Unauthenticated", cookie, res, err)
		}
	}
	// The same token as a bearer token works: the cookie, not the token, was refused.
	if _, err := env.Auth(token).WhoAmI(context.Background(), connect.NewRequest(&authv1.WhoAmIRequest{})); err != nil {
		t.Fatalf("WhoAmI with the bearer token: %v", err)
	}
}

func withCookie(cookie string) *connect.Request[authv1.WhoAmIRequest] {
	req := connect.NewRequest(&authv1.WhoAmIRequest{})
	req.Header().Set("Cookie", cookie)
	return req
}
