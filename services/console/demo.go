package console

import (
	"html/template"
	"net/http"
)

// DemoSite is a tenant whose widget the demo page embeds.
type DemoSite struct {
	// WidgetKey is the tenant's public widget key.
	WidgetKey string
	// Units are the tenant's business units; the page chats with the first unless its
	// query names another (?unit=<name>).
	Units []string
}

// DemoPage serves a pretend shop's page that embeds the visitor widget of site, the way a
// customer's site would: `switchboard dev` mounts it at /demo so that a person can chat as
// a visitor with nothing else to set up. It is never served by `switchboard serve`.
func DemoPage(site DemoSite) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unit := r.URL.Query().Get("unit")
		if unit == "" && len(site.Units) > 0 {
			unit = site.Units[0]
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		// What a careful shop would send: its own scripts and frames only (the widget's
		// are this origin's), and the inline style of this one page.
		w.Header().Set("Content-Security-Policy", demoPolicy)
		// html/template escapes the unit (it comes from the query) for each place it goes.
		if err := demoTemplate.Execute(w, demoData{WidgetKey: site.WidgetKey, Unit: unit, Units: site.Units}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}

const demoPolicy = "default-src 'self'; style-src 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type demoData struct {
	WidgetKey string
	Unit      string
	Units     []string
}

var demoTemplate = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop — Switchboard widget</title>
<style>
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1d2430; background: #f6f7f9; }
  header { background: #1d2430; color: #fff; padding: 16px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { margin: 0; font-size: 22px; }
  header nav a { color: #cfd6e3; margin-right: 16px; }
  main { max-width: 960px; margin: 0 auto; padding: 24px; }
  .products { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 16px; }
  .product { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 16px; }
  .product .price { font-weight: 600; }
  .note { background: #fff8e1; border: 1px solid #f0d98a; border-radius: 8px; padding: 12px 16px; margin-bottom: 24px; }
  code { background: #eef0f4; padding: 1px 4px; border-radius: 4px; }
</style>
</head>
<body>
<header>
  <h1>Demo shop</h1>
  <nav aria-label="Shop"><a href="#lamps">Lamps</a><a href="#chairs">Chairs</a><a href="#rugs">Rugs</a></nav>
</header>
<main>
  <p class="note">This page stands for a customer's site. It embeds the Switchboard widget of
  business unit <code>{{.Unit}}</code>. Sign in to the console as an agent to answer.
  {{if .Units}}Chat with a unit: {{range .Units}}<a href="?unit={{.}}"{{if eq . $.Unit}} aria-current="page"{{end}}>{{.}}</a> {{end}}{{end}}</p>
  <h2>This week's picks</h2>
  <div class="products">
    <article class="product" id="lamps"><h3>Arc floor lamp</h3><p>Brass arc, linen shade, dimmable.</p><p class="price">€189</p></article>
    <article class="product" id="chairs"><h3>Oak lounge chair</h3><p>Solid oak, wool cushions, made to last.</p><p class="price">€420</p></article>
    <article class="product" id="rugs"><h3>Hand-tufted rug</h3><p>160 × 230 cm, New Zealand wool.</p><p class="price">€310</p></article>
    <article class="product"><h3>Ceramic vase</h3><p>Glazed stoneware, 30 cm.</p><p class="price">€45</p></article>
  </div>
</main>
<script src="/widget.js" data-widget-key="{{.WidgetKey}}" data-business-unit="{{.Unit}}" async></script>
</body>
</html>
`))
