package board

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/switchboard-chat/switchboard/services/store"
)

// Labels the server enforces on every selector.
const (
	TenantLabel = "tenant"
	UnitLabel   = "business_unit"
)

// Scope is what a board may read: one tenant and, unless Units is nil, only those business
// units. It comes from the caller's identity and grants, never from the request's text.
type Scope struct {
	// Tenant is the tenant's name.
	Tenant string
	// Units are the business units' names; nil means the whole tenant (a tenant admin's
	// board), including tenant-wide objectives.
	Units []string
	// Objectives are the tenant's productivity objectives: panels carry the thresholds of
	// those of the units in scope and of the whole tenant.
	Objectives []store.ObjectiveConfig
}

var promParser = parser.NewParser(parser.Options{})

// Apply rewrites a panel's query to read only the scope: every vector and matrix selector
// gets tenant="<Tenant>" and, for a unit-scoped board, a business_unit matcher; matchers on
// those labels written in the query are dropped first, as prom-label-proxy's enforcer does.
func (s Scope) Apply(query string) (string, error) {
	expr, err := s.enforce(query)
	if err != nil {
		return "", err
	}
	return expr.String(), nil
}

func (s Scope) enforce(query string) (parser.Expr, error) {
	if s.Tenant == "" {
		return nil, errors.New("a board needs a tenant")
	}
	if s.Units != nil && len(s.Units) == 0 {
		return nil, errors.New("a unit-scoped board needs at least one business unit")
	}
	enforced := []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, TenantLabel, s.Tenant)}
	switch len(s.Units) {
	case 0:
	case 1:
		enforced = append(enforced, labels.MustNewMatcher(labels.MatchEqual, UnitLabel, s.Units[0]))
	default:
		quoted := make([]string, len(s.Units))
		for i, u := range s.Units {
			quoted[i] = regexp.QuoteMeta(u)
		}
		m, err := labels.NewMatcher(labels.MatchRegexp, UnitLabel, strings.Join(quoted, "|"))
		if err != nil {
			return nil, fmt.Errorf("matching business units: %w", err)
		}
		enforced = append(enforced, m)
	}
	expr, err := promParser.ParseExpr(query)
	if err != nil {
		return nil, fmt.Errorf("parsing %q: %w", query, err)
	}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		kept := vs.LabelMatchers[:0:0]
		for _, m := range vs.LabelMatchers {
			if m.Name != TenantLabel && m.Name != UnitLabel {
				kept = append(kept, m)
			}
		}
		vs.LabelMatchers = append(kept, enforced...)
		return nil
	})
	return expr, nil
}
