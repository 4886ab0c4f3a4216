#!/usr/bin/env bash
# Builds the kube-apiserver and etcd that envtest runs, from the Go module proxy (the
# release downloads of setup-envtest cannot be reached here), into bin/k8s. Each binary
# is built once: delete it to rebuild. kube-apiserver takes about 6 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/bin/k8s"
mkdir -p "$out"
build() { # build <name> <module dir> <package>
	if [[ -x "$out/$1" ]]; then
		return
	fi
	echo "building $1 ($3) into bin/k8s"
	(cd "$root/hack/envtest/$2" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/$1.tmp" "$3")
	mv "$out/$1.tmp" "$out/$1"
}
build etcd etcd go.etcd.io/etcd/server/v3
build kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
