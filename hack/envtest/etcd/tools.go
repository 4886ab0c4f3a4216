//go:build tools

// Package tools pins the etcd that envtest runs; hack/envtest.sh builds it.
package tools

import _ "go.etcd.io/etcd/server/v3"
