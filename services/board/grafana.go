package board

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
)

// DatasourceVariable is the dashboard variable that chooses the Prometheus data source.
const DatasourceVariable = "datasource"

var grafanaKinds = map[supervisionv1.PanelKind]string{
	supervisionv1.PanelKind_PANEL_KIND_STAT:        "stat",
	supervisionv1.PanelKind_PANEL_KIND_GAUGE:       "gauge",
	supervisionv1.PanelKind_PANEL_KIND_TIME_SERIES: "timeseries",
	supervisionv1.PanelKind_PANEL_KIND_TABLE:       "table",
}

type grafanaDashboard struct {
	UID           string            `json:"uid"`
	Title         string            `json:"title"`
	Tags          []string          `json:"tags"`
	Timezone      string            `json:"timezone"`
	SchemaVersion int               `json:"schemaVersion"`
	Refresh       string            `json:"refresh"`
	Editable      bool              `json:"editable"`
	Time          grafanaTime       `json:"time"`
	Templating    grafanaTemplating `json:"templating"`
	Panels        []grafanaPanel    `json:"panels"`
}

type grafanaTime struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type grafanaTemplating struct {
	List []grafanaVariable `json:"list"`
}

type grafanaVariable struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	Type    string `json:"type"`
	Query   string `json:"query"`
	Refresh int    `json:"refresh"`
	Hide    int    `json:"hide"`
}

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaPanel struct {
	ID          int               `json:"id"`
	Type        string            `json:"type"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Datasource  grafanaDatasource `json:"datasource"`
	GridPos     grafanaGridPos    `json:"gridPos"`
	FieldConfig grafanaFieldCfg   `json:"fieldConfig"`
	Targets     []grafanaTarget   `json:"targets"`
}

type grafanaGridPos struct {
	X int32 `json:"x"`
	Y int32 `json:"y"`
	W int32 `json:"w"`
	H int32 `json:"h"`
}

type grafanaFieldCfg struct {
	Defaults  grafanaDefaults `json:"defaults"`
	Overrides []any           `json:"overrides"`
}

type grafanaDefaults struct {
	Unit string   `json:"unit"`
	Min  *float64 `json:"min,omitempty"`
	Max  *float64 `json:"max,omitempty"`
}

type grafanaTarget struct {
	RefID        string            `json:"refId"`
	Datasource   grafanaDatasource `json:"datasource"`
	Expr         string            `json:"expr"`
	LegendFormat string            `json:"legendFormat"`
	Instant      bool              `json:"instant"`
	Range        bool              `json:"range"`
}

// GrafanaDashboard is the board as a Grafana dashboard for one tenant: the same panels at
// the same places, every selector of every query fixed to the tenant, and a data source
// variable naming the Prometheus to read.
func GrafanaDashboard(tenant string) ([]byte, error) {
	ds := grafanaDatasource{Type: "prometheus", UID: "${" + DatasourceVariable + "}"}
	d := grafanaDashboard{
		UID: dashboardUID(tenant), Title: "Switchboard — " + tenant, Tags: []string{"switchboard", "tenant:" + tenant},
		Timezone: "browser", SchemaVersion: 39, Refresh: "5s", Editable: false,
		Time: grafanaTime{From: "now/d", To: "now"},
		Templating: grafanaTemplating{List: []grafanaVariable{{
			Name: DatasourceVariable, Label: "Prometheus", Type: "datasource", Query: "prometheus", Refresh: 1,
		}}},
	}
	scope := Scope{Tenant: tenant}
	for i, p := range Panels {
		kind, ok := grafanaKinds[p.Kind]
		if !ok {
			return nil, fmt.Errorf("panel %s: no Grafana panel type for %s", p.ID, p.Kind)
		}
		gp := grafanaPanel{
			ID: i + 1, Type: kind, Title: p.Title, Description: p.Description, Datasource: ds,
			GridPos:     grafanaGridPos{X: p.X, Y: p.Y, W: p.Width, H: p.Height},
			FieldConfig: grafanaFieldCfg{Defaults: grafanaDefaults{Unit: p.Unit}, Overrides: []any{}},
		}
		if p.Min != 0 || p.Max != 0 {
			gp.FieldConfig.Defaults.Min, gp.FieldConfig.Defaults.Max = &p.Min, &p.Max
		}
		series := p.Kind == supervisionv1.PanelKind_PANEL_KIND_TIME_SERIES
		for j, t := range p.Targets {
			expr, err := scope.Apply(t.Expr)
			if err != nil {
				return nil, fmt.Errorf("panel %s: %w", p.ID, err)
			}
			gp.Targets = append(gp.Targets, grafanaTarget{
				RefID: string(rune('A' + j)), Datasource: ds, Expr: expr,
				LegendFormat: t.Legend, Instant: !series, Range: series,
			})
		}
		d.Panels = append(d.Panels, gp)
	}
	// Queries hold > and &, which read better unescaped.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

var uidUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// dashboardUID is "switchboard-<tenant>", or a hash of the tenant when the name has
// characters a UID may not hold or would pass Grafana's 40 characters.
func dashboardUID(tenant string) string {
	if uid := "switchboard-" + tenant; len(uid) <= 40 && !uidUnsafe.MatchString(tenant) {
		return uid
	}
	sum := sha256.Sum256([]byte(tenant))
	return "switchboard-" + hex.EncodeToString(sum[:])[:28]
}
