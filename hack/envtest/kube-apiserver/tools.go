//go:build tools

// Package tools pins the kube-apiserver that envtest runs; hack/envtest.sh builds it.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
