// Package demo makes traffic to watch: simulated visitors and agents talking through the
// public API, as `switchboard dev --demo` runs them.
package demo

import "context"

// Options says whom to simulate.
type Options struct {
	BaseURL   string
	Tenant    string
	WidgetKey string
	Password  string
	Agents    []string
	Units     []string
}

// Run simulates visitors and agents until ctx ends.
func Run(ctx context.Context, o Options) {}
