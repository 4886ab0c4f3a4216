// Package samples embeds the sample configuration of this folder, so that the binary's
// `dev` subcommand has the sample tenant wherever it runs.
package samples

import "embed"

// FS holds the sample YAML files: custom resources only. The folder's kustomize file is named
// Kustomization, without .yaml, so that it stays out.
//
//go:embed *.yaml
var FS embed.FS
