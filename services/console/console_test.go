package console

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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
	h := handlerFor(built, nil)
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
	h := handlerFor(built, hosts(map[string]string{"chat.acme.example": "acme", "evil.example": `"><script>alert(1)</script>`}))
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
	h := handlerFor(built, nil)
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
	h := handlerFor(fstest.MapFS{}, nil)
	r := get(t, h, "x", "/t/acme/")
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body(t, r), "make build") {
		t.Errorf("an unbuilt console: %d, want 503 telling how to build it", r.StatusCode)
	}
}
