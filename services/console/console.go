// Package console serves the tenant web console and the visitor widget: a React
// application (source in this folder, built by `make console` into dist/app) embedded into
// the binary. The console talks to the same Connect services as every other client.
//
// Routes:
//
//	/t/<tenant>/...  the console of a tenant named in the path
//	/...             on a tenant's console host, that tenant's console; elsewhere "/" asks
//	                 for the tenant
//	/console/...     the built files (hashed assets are cached for good)
//	/widget.js       the script a site embeds to show the chat widget
//
// Every page carries a Content-Security-Policy that allows this origin's files and calls
// only; the console's pages cannot be framed, and the widget's frame (/console/widget.html)
// only by the sites its tenant allows (Tenant spec.widget.allowedOrigins).
package console

import (
	"bytes"
	"context"
	"embed"
	"html"
	"io/fs"
	"net"
	"net/http"
	"path"
	"regexp"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// TenantByHost names the tenant whose console answers on a host name, if any.
type TenantByHost func(ctx context.Context, host string) (string, bool)

// WidgetOrigins tells where the widget of a widget key may be shown: the origins of the
// sites allowed (none: every site), or ok false for a key no tenant has or when it cannot
// be told.
type WidgetOrigins func(ctx context.Context, key string) (origins []string, ok bool)

// Handler serves the console. byHost may be nil: then only /t/<tenant>/ paths name a
// tenant. widget may be nil: then the widget's frame is shown on this origin's pages only.
func Handler(byHost TenantByHost, widget WidgetOrigins) http.Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil {
		panic(err) // dist/app is a constant path
	}
	return handlerFor(app, byHost, widget)
}

// handlerFor serves the console's built files from app.
func handlerFor(app fs.FS, byHost TenantByHost, widget WidgetOrigins) http.Handler {
	h := &handler{app: app, byHost: byHost, widget: widget}
	h.index, _ = fs.ReadFile(app, "index.html")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/", h.static)
	mux.HandleFunc("GET /widget.js", h.widgetScript)
	mux.HandleFunc("GET /t/{tenant}/", h.tenantPage)
	mux.HandleFunc("GET /t/{tenant}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /", h.hostPage)
	// The console takes the paths no service claims; other methods there find nothing (as
	// before the console was mounted), not a 405 that would suggest otherwise.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.NotFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Built reports whether the console's files were built into this binary.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

type handler struct {
	app    fs.FS
	index  []byte
	byHost TenantByHost
	widget WidgetOrigins
}

// pagePolicy is the Content-Security-Policy of the console's and the widget's pages, less
// frame-ancestors. Every script and style is one of the built files (Vite's build writes
// no inline script or style; React and uPlot set styles through the CSSOM, which style-src
// does not govern), every call goes to this origin, nothing is embedded, and no script
// may write HTML from a string (Trusted Types, where browsers have them).
const pagePolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; require-trusted-types-for 'script'; trusted-types 'none'"

// permissionsPolicy turns off the powerful features neither the console nor the widget uses,
// for them and anything they might embed.
const permissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"

// pageHeaders are the headers of a page of the console or the widget; frameAncestors says
// who may frame it.
func pageHeaders(h http.Header, frameAncestors string) {
	h.Set("Content-Security-Policy", pagePolicy+"; frame-ancestors "+frameAncestors)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", permissionsPolicy)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
}

// consoleHeaders are a console page's: nobody frames the console (clickjacking), in
// browsers that know frame-ancestors or only X-Frame-Options.
func consoleHeaders(h http.Header) {
	pageHeaders(h, "'none'")
	h.Set("X-Frame-Options", "DENY")
}

// widgetAncestors is the frame-ancestors of the widget's frame for a widget key: this
// origin (switchboard dev's demo page) and the tenant's allowed origins, or every site when
// the tenant allows every site. A key no tenant has gets this origin only.
func (h *handler) widgetAncestors(r *http.Request) string {
	key := r.URL.Query().Get("key")
	if h.widget == nil || key == "" {
		return "'self'"
	}
	origins, ok := h.widget(r.Context(), key)
	switch {
	case !ok:
		return "'self'"
	case len(origins) == 0:
		return "*"
	}
	sources := []string{"'self'"}
	for _, o := range origins {
		// The API server let only origins through; should the database hold anything else,
		// it must not add to the policy.
		if strings.Trim(o, originChars) == "" {
			sources = append(sources, o)
		}
	}
	return strings.Join(sources, " ")
}

// originChars are the characters of an origin with an optional *. and port.
const originChars = "abcdefghijklmnopqrstuvwxyz0123456789.-:/*"

var tenantName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/console/")
	switch {
	case strings.HasPrefix(name, "assets/"):
		// Vite names assets by their content's hash.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		// Only this origin's pages use them (the widget's frame included).
		w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
	case name == "widget.html":
		w.Header().Set("Cache-Control", "no-cache")
		pageHeaders(w.Header(), h.widgetAncestors(r))
		// Sites that require it of what they embed (Cross-Origin-Embedder-Policy).
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	default:
		w.Header().Set("Cache-Control", "no-cache")
		if path.Ext(name) == ".html" || name == "" {
			consoleHeaders(w.Header())
		}
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + name
	http.FileServerFS(h.app).ServeHTTP(w, r2)
}

func (h *handler) widgetScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	// Sites load it with a <script> tag: say JavaScript whatever the system's MIME table says.
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Any site loads it, those that require it of what they embed too.
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeFileFS(w, r, h.app, "widget.js")
}

func (h *handler) tenantPage(w http.ResponseWriter, r *http.Request) {
	if !tenantName.MatchString(r.PathValue("tenant")) {
		http.NotFound(w, r)
		return
	}
	h.page(w, "")
}

func (h *handler) hostPage(w http.ResponseWriter, r *http.Request) {
	if h.byHost != nil {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if tenant, ok := h.byHost(r.Context(), strings.ToLower(host)); ok {
			h.page(w, tenant)
			return
		}
	}
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	h.page(w, "")
}

// page serves the console's page; tenant, when set, is named in it for the application
// (a tenant's own console host has no tenant in its paths).
func (h *handler) page(w http.ResponseWriter, tenant string) {
	if h.index == nil {
		http.Error(w, "The console is not built into this binary: run `make build` (it builds the console first).", http.StatusServiceUnavailable)
		return
	}
	body := h.index
	if tenant != "" {
		meta := `<meta name="switchboard-tenant" content="` + html.EscapeString(tenant) + `" />`
		body = bytes.Replace(body, []byte("<head>"), []byte("<head>\n    "+meta), 1)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	consoleHeaders(w.Header())
	w.Write(body)
}
