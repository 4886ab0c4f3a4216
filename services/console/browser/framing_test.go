package browser_test

import (
	"fmt"
	"html/template"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/services/testenv"
)

// framingConfig has a tenant that allows the customer's site (by its origin, and its
// subdomains of localhost by wildcard) and one that allows only a shop elsewhere; neither
// has anybody online, so the widget offers its offline form.
const framingConfig = `
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec:
  widget:
    allowedOrigins: ["%[1]s", "http://*.localhost:%[2]d"]
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: acme}
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: Tenant
metadata: {name: globex}
spec:
  widget:
    allowedOrigins: [https://shop.globex.example]
---
apiVersion: supervision.switchboard.dev/v1alpha1
kind: BusinessUnit
metadata: {name: sales, namespace: globex}
`

// framingSite is the customer's site: /widget?tenant=<name> embeds that tenant's widget,
// /console frames the console.
var framingSite = template.Must(template.New("site").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A customer's site</title></head>
<body>
<h1>A customer's site</h1>
{{if .Key}}<script src="{{.Console}}/widget.js" data-widget-key="{{.Key}}" data-business-unit="sales" async></script>{{end}}
{{if .Frame}}<iframe title="Console" src="{{.Frame}}" width="800" height="600"></iframe>{{end}}
</body>
</html>
`))

// The widget is framed where its tenant allows, and the browser refuses it elsewhere; the
// console is framed nowhere.
func TestWhoMayFrameTheWidgetAndTheConsoleInTheBrowser(t *testing.T) {
	node := requireBrowser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	origin := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := testenv.Start(t, cluster, fmt.Sprintf(framingConfig, origin, port))

	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := map[string]string{"Console": env.Base}
		switch r.URL.Path {
		case "/widget":
			tenant, ok := env.Tenants[r.URL.Query().Get("tenant")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			data["Key"] = tenant.WidgetKey
		case "/console":
			data["Frame"] = env.Base + "/t/acme/"
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		framingSite.Execute(w, data) //nolint:errcheck
	})
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })

	s := scenario{Console: env.Base, Tenant: "acme", Password: testenv.Password, Output: outputDir(t, "framing")}
	s.Framing = &framing{
		Allowed:       origin + "/widget?tenant=acme",
		Wildcard:      fmt.Sprintf("http://shop.localhost:%d/widget?tenant=acme", port),
		Refused:       origin + "/widget?tenant=globex",
		FramesConsole: origin + "/console",
	}
	runScript(t, node, "framing.mjs", s, 3*time.Minute)
}
