package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

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

	certDir string
}

// StartKube starts the API server from KUBEBUILDER_ASSETS (bin/k8s, built by `make
// envtest`) and installs the CRDs of config/crd/bases. Stop it with Stop.
func StartKube() (*Kube, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make envtest` and point it at bin/k8s (make test does both)")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	// The API server's certificates live in a folder of ours: envtest removes a folder it
	// made at each stop, and one made anew on restart would come with a new CA that the
	// clients made for the first one refuse (see StopAPIServer).
	certDir, err := os.MkdirTemp("", "switchboard-apiserver-")
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		ControlPlane:          envtest.ControlPlane{APIServer: &envtest.APIServer{CertDir: certDir}},
	}
	cfg, err := env.Start()
	if err != nil {
		os.RemoveAll(certDir)
		return nil, err
	}
	k := &Kube{Env: env, certDir: certDir}
	scheme := clientgoscheme.Scheme
	if !scheme.IsGroupRegistered(v1alpha1.GroupVersion.Group) {
		if err := v1alpha1.AddToScheme(scheme); err != nil {
			_ = k.Stop()
			return nil, err
		}
	}
	// The operator writes PrometheusRules when their CRD is installed (tests install it).
	if !scheme.IsGroupRegistered(monitoringv1.SchemeGroupVersion.Group) {
		if err := monitoringv1.AddToScheme(scheme); err != nil {
			_ = k.Stop()
			return nil, err
		}
	}
	if k.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		_ = k.Stop()
		return nil, err
	}
	return k, nil
}

// StopAPIServer kills the kube-apiserver (SIGKILL, as a crash or the loss of its node
// would) and keeps etcd: clients see their connections refused and their watches end.
// StartAPIServer brings it back on the same address with the same certificates and data.
// (envtest's own Stop asks the server to shut down gracefully, which it may take longer
// to do than envtest waits while clients hold watches.)
func (k *Kube) StopAPIServer() error {
	pid, err := k.apiServerPID()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing kube-apiserver (pid %d): %w", pid, err)
	}
	// envtest reaps it and notes that it exited; then its Stop only forgets it (before
	// the note, Stop would signal a process that is gone).
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := k.Env.ControlPlane.GetAPIServer().Stop()
		if !errors.Is(err, syscall.ESRCH) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-apiserver (pid %d) not reaped 10s after SIGKILL: %w", pid, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// apiServerPID finds this Kube's kube-apiserver among the processes: the one serving
// from its certificate folder.
func (k *Kube) apiServerPID() (int, error) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if filepath.Base(args[0]) == "kube-apiserver" && slices.Contains(args, "--cert-dir="+k.certDir) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no kube-apiserver with --cert-dir=%s is running", k.certDir)
}

// StartAPIServer starts the kube-apiserver StopAPIServer stopped and waits until it
// serves.
func (k *Kube) StartAPIServer() error { return k.Env.ControlPlane.GetAPIServer().Start() }

// Stop stops the API server and etcd.
func (k *Kube) Stop() error {
	err := k.Env.Stop()
	os.RemoveAll(k.certDir)
	return err
}
