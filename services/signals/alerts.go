package signals

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/switchboard-chat/switchboard/services/store"
)

// AlertWebhookPath is where Alertmanager's webhook receiver posts.
const AlertWebhookPath = "/alertmanager/webhook"

// maxAlertPayload bounds a webhook body; Alertmanager's groups are far smaller.
const maxAlertPayload = 4 << 20

// The labels an objective's alert carries (the rules the operator generates set them).
const (
	labelTenant    = "tenant"
	labelUnit      = "business_unit"
	labelObjective = "objective"
	labelMetric    = "metric"
	labelSeverity  = "severity"
)

// AlertWebhook receives Alertmanager's webhook pushes: each firing objective alert becomes
// an active signal of its tenant (on its unit, or on the whole tenant), and each resolved
// one clears it. Calls must carry `Authorization: Bearer <token>`; alerts without the
// tenant, objective and severity labels are not objective alerts and are skipped.
func (e *Engine) AlertWebhook(token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST Alertmanager's webhook payload here", http.StatusMethodNotAllowed)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			http.Error(w, "a bearer token is required: the one given to serve with --alertmanager-token", http.StatusUnauthorized)
			return
		}
		var data amtemplate.Data
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAlertPayload))
		if err := dec.Decode(&data); err != nil {
			http.Error(w, "the body is not Alertmanager's webhook JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		applied, skipped, err := e.applyAlerts(r.Context(), data.Alerts)
		if err != nil {
			slog.Error("alert webhook", "err", err)
			// Alertmanager retries on 5xx.
			http.Error(w, "storing the alerts failed; retry", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int{"applied": applied, "skipped": skipped}) //nolint:errcheck // the client went away
	})
}

// alertSignal is an alert read as a signal of a tenant.
type alertSignal struct {
	tenant   string
	unit     string
	resolved bool
	signal   store.Signal
}

func readAlert(a amtemplate.Alert) (alertSignal, error) {
	as := alertSignal{tenant: a.Labels[labelTenant], unit: a.Labels[labelUnit], resolved: a.Status == "resolved"}
	objective, severity := a.Labels[labelObjective], a.Labels[labelSeverity]
	switch {
	case as.tenant == "" || objective == "":
		return as, errors.New("no tenant or objective label")
	case severity != store.LevelWarning && severity != store.LevelCritical:
		return as, fmt.Errorf("severity %q is neither warning nor critical", severity)
	}
	number := func(s string) float64 {
		v, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return v
	}
	summary := a.Annotations["summary"]
	if summary == "" {
		summary = objective + " " + severity
	}
	as.signal = store.Signal{
		Objective: objective, Metric: a.Labels[labelMetric], Level: severity, Source: store.SourceAlert,
		Value: number(a.Annotations["value"]), Threshold: number(a.Annotations["threshold"]), Summary: summary,
	}
	if !a.StartsAt.IsZero() {
		as.signal.RaisedAt = a.StartsAt
	}
	return as, nil
}

// applyAlerts stores the alerts' signals, tenant by tenant, and publishes them.
func (e *Engine) applyAlerts(ctx context.Context, alerts amtemplate.Alerts) (applied, skipped int, err error) {
	// One signal per tenant, unit and objective: of its alerts in the payload (a warning and
	// a critical burn-rate tier, say), the most severe firing one sets the level, and the
	// signal clears only when none fires.
	type subjectKey struct{ tenant, unit, objective string }
	worst := map[subjectKey]alertSignal{}
	count := map[string]int{} // objective alerts per tenant
	var order []subjectKey
	for _, a := range alerts {
		as, err := readAlert(a)
		if err != nil {
			slog.Debug("alert webhook: skipping an alert", "labels", a.Labels, "why", err)
			skipped++
			continue
		}
		count[as.tenant]++
		k := subjectKey{as.tenant, as.unit, as.signal.Objective}
		cur, seen := worst[k]
		switch {
		case !seen:
			order = append(order, k)
			worst[k] = as
		case cur.resolved && !as.resolved,
			!as.resolved && as.signal.Level == store.LevelCritical && cur.signal.Level != store.LevelCritical:
			worst[k] = as
		}
	}
	byTenant := map[string][]alertSignal{}
	for _, k := range order {
		byTenant[k.tenant] = append(byTenant[k.tenant], worst[k])
	}
	for name, list := range byTenant {
		ref, err := e.db.TenantByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			skipped += count[name]
			continue
		}
		if err != nil {
			return applied, skipped, err
		}
		var published []*store.Signal
		err = e.db.InTenant(ctx, ref.ID, func(tx pgx.Tx) error {
			var changes store.SignalChanges
			units := map[string]uuid.UUID{}
			for _, as := range list {
				as.signal.Subject = store.UnitSubject(uuid.Nil)
				if as.unit != "" {
					unit, ok := units[as.unit]
					if !ok {
						err := tx.QueryRow(ctx, `SELECT unit_id FROM business_units WHERE tenant_id = sb_current_tenant() AND name = $1`, as.unit).Scan(&unit)
						if err != nil && !errors.Is(err, pgx.ErrNoRows) {
							return err
						}
						units[as.unit] = unit
					}
					if unit == uuid.Nil {
						continue // a unit deleted since the alert fired
					}
					as.signal.Subject = store.UnitSubject(unit)
					as.signal.Unit = uuid.NullUUID{UUID: unit, Valid: true}
				}
				if as.resolved {
					changes.Clear = append(changes.Clear, [2]string{as.signal.Objective, as.signal.Subject})
				} else {
					s := as.signal
					changes.Raise = append(changes.Raise, &s)
				}
			}
			cleared, raised, _, err := store.ApplySignalChanges(ctx, tx, changes)
			published = append(cleared, raised...)
			return err
		})
		if err != nil {
			return applied, skipped, fmt.Errorf("storing alerts of tenant %q: %w", name, err)
		}
		applied += count[name]
		e.publish(ref.ID, published)
	}
	return applied, skipped, nil
}
