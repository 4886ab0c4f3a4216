package console

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

var built = fstest.MapFS{
	"index.html":             {Data: []byte("<!doctype html><html><head><title>Switchboard</title></head><body><div id=root></div></body></html>")},
	"widget.html":            {Data: []byte("<!doctype html><html><head></head><body>widget</body></html>")},
	"widget.js":              {Data: []byte("(function(){})();")},
	"assets/index-abc123.js": {Data: []byte("console.log(1)")},
}

func get(t *testing.T, h http.Handler, host, path string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hosts(m map[string]string) TenantByHost {
	return func(_ context.Context, host string) (string, bool) {
		name, ok := m[host]
		return name, ok
	}
}

func TestTenantPathsServeTheConsole(t *testing.T) {
	h := handlerFor(built, nil, nil)
	for _, path := range []string{"/t/acme/", "/t/acme/board", "/t/acme/chats/5d0c"} {
		r := get(t, h, "switchboard.example", path)
		if r.StatusCode != http.StatusOK || !strings.Contains(body(t, r), `<div id=root>`) {
			t.Errorf("GET %s: %d, want the console's page", path, r.StatusCode)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache (a new build must reach browsers)", path, got)
		}
	}
	if r := get(t, h, "switchboard.example", "/t/acme"); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/t/acme/" {
		t.Errorf("GET /t/acme: %d to %q, want a redirect to /t/acme/", r.StatusCode, r.Header.Get("Location"))
	}
	if r := get(t, h, "switchboard.example", "/t/Not%20A%20Tenant/"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a tenant name that is no DNS label: %d, want 404", r.StatusCode)
	}
}

func TestConsoleHostNamesItsTenant(t *testing.T) {
	h := handlerFor(built, hosts(map[string]string{"chat.acme.example": "acme", "evil.example": `"><script>alert(1)</script>`}), nil)
	page := body(t, get(t, h, "chat.acme.example:443", "/board"))
	if !strings.Contains(page, `<meta name="switchboard-tenant" content="acme" />`) {
		t.Errorf("a tenant's console host does not name the tenant in the page:\n%s", page)
	}
	page = body(t, get(t, h, "evil.example", "/"))
	if strings.Contains(page, "<script>alert") {
		t.Errorf("the tenant's name is not escaped in the page:\n%s", page)
	}
	// Elsewhere, only / answers (the page asks for the tenant); other paths are unknown.
	if r := get(t, h, "other.example", "/"); r.StatusCode != http.StatusOK || strings.Contains(body(t, r), "switchboard-tenant") {
		t.Errorf("GET / on a host of no tenant: %d, want the page without a tenant", r.StatusCode)
	}
	if r := get(t, h, "other.example", "/board"); r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /board on a host of no tenant: %d, want 404", r.StatusCode)
	}
}

func TestBuiltFilesAndWidgetScript(t *testing.T) {
	h := handlerFor(built, nil, nil)
	r := get(t, h, "x", "/console/assets/index-abc123.js")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("a hashed asset: %d, Cache-Control %q; want 200 and cached for good", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("a script's Content-Type is %q", ct)
	}
	r = get(t, h, "x", "/widget.js")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("/widget.js: %d %q, want the widget script", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if r := get(t, h, "x", "/console/../../console.go"); r.StatusCode == http.StatusOK {
		t.Errorf("a path outside the built files answered 200")
	}
	if r := get(t, h, "x", "/console/missing.js"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file: %d, want 404", r.StatusCode)
	}
}

func TestUnbuiltConsoleSaysSo(t *testing.T) {
	h := handlerFor(fstest.MapFS{}, nil, nil)
	r := get(t, h, "x", "/t/acme/")
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body(t, r), "make build") {
		t.Errorf("an unbuilt console: %d, want 503 telling how to build it", r.StatusCode)
	}
}

func TestOnlyReadsReachTheConsole(t *testing.T) {
	h := handlerFor(built, nil, nil)
	req := httptest.NewRequest(http.MethodPost, "/alertmanager/webhook", strings.NewReader("{}"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("POST to a path no service claims: %d, want 404", rec.Code)
	}
}

// widgetKeys stands for the tenants' widget settings: one tenant allows every site, one
// allows a shop and every subdomain of example.org.
func widgetKeys(_ context.Context, key string) ([]string, bool) {
	switch key {
	case "wk_anywhere":
		return nil, true
	case "wk_shop":
		return []string{"https://shop.example.com", "https://*.example.org"}, true
	case "wk_tampered":
		// Written into the database past the API server's validation.
		return []string{"https://shop.example.com; script-src 'unsafe-inline'", "https://ok.example.com"}, true
	}
	return nil, false
}

// policy reads a Content-Security-Policy into its directives.
func policy(header string) map[string]string {
	out := map[string]string{}
	for _, d := range strings.Split(header, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if name != "" {
			out[name] = value
		}
	}
	return out
}

func TestEveryPageCarriesItsSecurityHeaders(t *testing.T) {
	h := handlerFor(built, hosts(map[string]string{"chat.acme.example": "acme"}), widgetKeys)
	for _, c := range []struct {
		name, host, path string
		// frameAncestors is the CSP's frame-ancestors; xfo the X-Frame-Options.
		frameAncestors, xfo string
	}{
		{"a tenant's console by path cannot be framed", "switchboard.example", "/t/acme/board", "'none'", "DENY"},
		{"a tenant's console on its own host cannot be framed", "chat.acme.example", "/agents", "'none'", "DENY"},
		{"the page that asks for the tenant cannot be framed", "switchboard.example", "/", "'none'", "DENY"},
		{"the built console's page cannot be framed", "switchboard.example", "/console/", "'none'", "DENY"},
		{"the widget of a tenant that allows every site is framed anywhere", "switchboard.example", "/console/widget.html?key=wk_anywhere", "*", ""},
		{"the widget of a tenant with allowed origins is framed by those only", "switchboard.example", "/console/widget.html?key=wk_shop&unit=sales", "'self' https://shop.example.com https://*.example.org", ""},
		{"an origin that is no origin adds nothing to the policy", "switchboard.example", "/console/widget.html?key=wk_tampered", "'self' https://ok.example.com", ""},
		{"the widget of an unknown key is framed by this origin only", "switchboard.example", "/console/widget.html?key=wk_guessed", "'self'", ""},
		{"the widget without a key is framed by this origin only", "switchboard.example", "/console/widget.html", "'self'", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := get(t, h, c.host, c.path)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", c.path, r.StatusCode)
			}
			csp := policy(r.Header.Get("Content-Security-Policy"))
			if got := csp["frame-ancestors"]; got != c.frameAncestors {
				t.Errorf("frame-ancestors %q, want %q", got, c.frameAncestors)
			}
			if got := r.Header.Get("X-Frame-Options"); got != c.xfo {
				t.Errorf("X-Frame-Options %q, want %q", got, c.xfo)
			}
			// Scripts and styles from this origin's files only: an injected <script> or
			// inline handler does not run.
			for directive, want := range map[string]string{
				"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "connect-src": "'self'",
				"img-src": "'self'", "object-src": "'none'", "base-uri": "'none'", "form-action": "'self'",
				"require-trusted-types-for": "'script'",
			} {
				if got := csp[directive]; got != want {
					t.Errorf("%s %q, want %q (the whole policy: %s)", directive, got, want, r.Header.Get("Content-Security-Policy"))
				}
			}
			for header, want := range map[string]string{
				"X-Content-Type-Options":     "nosniff",
				"Referrer-Policy":            "same-origin",
				"Cross-Origin-Opener-Policy": "same-origin",
			} {
				if got := r.Header.Get(header); got != want {
					t.Errorf("%s %q, want %q", header, got, want)
				}
			}
			if pp := r.Header.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "microphone=()") || !strings.Contains(pp, "geolocation=()") {
				t.Errorf("Permissions-Policy %q leaves camera, microphone or geolocation on", pp)
			}
		})
	}
}

func TestScriptsAndAssetsSayWhoMayLoadThem(t *testing.T) {
	h := handlerFor(built, nil, widgetKeys)
	for _, c := range []struct{ name, path, corp string }{
		{"any site loads the widget script", "/widget.js", "cross-origin"},
		{"only Switchboard's pages load the built assets", "/console/assets/index-abc123.js", "same-origin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := get(t, h, "switchboard.example", c.path)
			if got := r.Header.Get("Cross-Origin-Resource-Policy"); got != c.corp {
				t.Errorf("Cross-Origin-Resource-Policy %q, want %q", got, c.corp)
			}
		})
	}
	if got := get(t, h, "x", "/widget.js").Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("/widget.js: X-Content-Type-Options %q, want nosniff (sites load it as a script)", got)
	}
}

func TestTheDemoShopFramesTheWidgetFromItsOwnOrigin(t *testing.T) {
	r := get(t, DemoPage(DemoSite{WidgetKey: "wk_demo", Units: []string{"sales"}}), "127.0.0.1:8080", "/demo")
	csp := policy(r.Header.Get("Content-Security-Policy"))
	if csp["default-src"] != "'self'" || csp["frame-ancestors"] != "'none'" || slices.Contains(strings.Fields(csp["script-src"]), "'unsafe-inline'") {
		t.Errorf("the demo page's policy %q: want its own origin's scripts and frames only", r.Header.Get("Content-Security-Policy"))
	}
}
