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
package console

import (
	"bytes"
	"context"
	"embed"
	"html"
	"io/fs"
	"net"
	"net/http"
	"regexp"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// TenantByHost names the tenant whose console answers on a host name, if any.
type TenantByHost func(ctx context.Context, host string) (string, bool)

// Handler serves the console. byHost may be nil: then only /t/<tenant>/ paths name a
// tenant.
func Handler(byHost TenantByHost) http.Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil {
		panic(err) // dist/app is a constant path
	}
	return handlerFor(app, byHost)
}

// handlerFor serves the console's built files from app.
func handlerFor(app fs.FS, byHost TenantByHost) http.Handler {
	h := &handler{app: app, byHost: byHost}
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
}

var tenantName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/console/")
	if strings.HasPrefix(name, "assets/") {
		// Vite names assets by their content's hash.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + name
	http.FileServerFS(h.app).ServeHTTP(w, r2)
}

func (h *handler) widgetScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	// Sites load it with a <script> tag: say JavaScript whatever the system's MIME table says.
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
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
	w.Write(body)
}
