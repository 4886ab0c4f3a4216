package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
)

// Kube is a real kube-apiserver and etcd (envtest) with Switchboard's CRDs installed.
type Kube struct {
	Env    *envtest.Environment
	Client client.Client
}

// StartKube starts the API server from KUBEBUILDER_ASSETS (bin/k8s, built by `make
// envtest`) and installs the CRDs of config/crd/bases. Stop it with Stop.
func StartKube() (*Kube, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make envtest` and point it at bin/k8s (make test does both)")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	scheme := clientgoscheme.Scheme
	if !scheme.IsGroupRegistered(v1alpha1.GroupVersion.Group) {
		if err := v1alpha1.AddToScheme(scheme); err != nil {
			_ = env.Stop()
			return nil, err
		}
	}
	// The operator writes PrometheusRules when their CRD is installed (tests install it).
	if !scheme.IsGroupRegistered(monitoringv1.SchemeGroupVersion.Group) {
		if err := monitoringv1.AddToScheme(scheme); err != nil {
			_ = env.Stop()
			return nil, err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Kube{Env: env, Client: c}, nil
}

// Stop stops the API server and etcd.
func (k *Kube) Stop() error { return k.Env.Stop() }
