// Package samples embeds the sample configuration of this folder, so that the binary's
// `dev` subcommand has the sample tenant wherever it runs.
package samples

import "embed"

// FS holds the sample YAML files.
//
//go:embed *.yaml
var FS embed.FS
