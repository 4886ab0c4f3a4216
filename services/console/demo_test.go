package console

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDemoPage(t *testing.T) {
	page := DemoPage(DemoSite{WidgetKey: "wk_sample", Units: []string{"sales", "support"}})
	get := func(target string) string {
		rec := httptest.NewRecorder()
		page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d", target, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("GET %s: Content-Type %q", target, ct)
		}
		return rec.Body.String()
	}

	t.Run("embeds the widget of the first unit with the tenant's key", func(t *testing.T) {
		body := get("/demo")
		want := `<script src="/widget.js" data-widget-key="wk_sample" data-business-unit="sales" async></script>`
		if !strings.Contains(body, want) {
			t.Fatalf("the page lacks %s:\n%s", want, body)
		}
	})
	t.Run("a unit named in the query is the one embedded", func(t *testing.T) {
		body := get("/demo?unit=support")
		if !strings.Contains(body, `data-business-unit="support"`) {
			t.Fatalf("the page does not embed unit support:\n%s", body)
		}
	})
	t.Run("markup in the query is escaped, never inserted", func(t *testing.T) {
		body := get(`/demo?unit=` + "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
		if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, `"><script>`) {
			t.Fatalf("the query's markup reached the page:\n%s", body)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") && !strings.Contains(body, `&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`) {
			t.Fatalf("the query's text is not shown escaped:\n%s", body)
		}
	})
}

func TestWidgetScriptIsJavaScript(t *testing.T) {
	h := &handler{app: fstest.MapFS{"widget.js": {Data: []byte("(function(){})();\n")}}}
	rec := httptest.NewRecorder()
	h.widgetScript(rec, httptest.NewRequest(http.MethodGet, "/widget.js", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Fatalf("widget.js is served as %q, not JavaScript: browsers refuse to run it from a site's <script> tag", ct)
	}
	if rec.Body.String() != "(function(){})();\n" {
		t.Fatalf("body %q", rec.Body.String())
	}
}

// TestBuiltWidgetScriptIsServed checks the real build: the embedded widget.js (copied by
// Vite from public/) is served to sites.
func TestBuiltWidgetScriptIsServed(t *testing.T) {
	if !Built() {
		t.Skip("the console is not built into this binary (make console)")
	}
	rec := httptest.NewRecorder()
	Handler(nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/widget.js", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "data-widget-key") {
		t.Fatalf("GET /widget.js: status %d, body %.200q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Fatalf("Content-Type %q", ct)
	}
}
