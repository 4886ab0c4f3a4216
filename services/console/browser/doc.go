// Package browser tests the web console, the visitor widget and a customer's site together
// in a real browser: its tests start PostgreSQL, a `serve` replica and a site that embeds
// /widget.js from another origin, all on loopback, then run the scenarios of ../e2e
// (Node.js with playwright-core driving Debian's Chromium) against them. Its benchmark
// measures the time from a visitor's message to its appearance in a watching
// supervisor's browser (`make bench-console`).
package browser
