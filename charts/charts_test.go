// Package charts_test checks the Helm chart charts/switchboard with the pinned helm in bin/:
// that it lints and renders what each set of values promises, that it installs what the
// kustomize bases of config/ install (the same CRDs, RBAC rules and operator container), and
// that a real API server accepts what it renders.
package charts_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/switchboard-chat/switchboard/services/testenv"
)

const (
	// release is the release name the tests install, which names objects as config/ does.
	release   = "switchboard"
	namespace = "switchboard-system"
)

var (
	repo = func() string {
		dir, err := filepath.Abs("..")
		if err != nil {
			panic(err)
		}
		return dir
	}()
	chart = filepath.Join(repo, "charts", "switchboard")

	// serveAndMonitoring turns on every optional part.
	serveAndMonitoring = []string{"--set", "serve.enabled=true,serviceMonitor.enabled=true",
		"--set", "database.url=postgres://switchboard:secret@postgres.db:5432/switchboard"}
)

// run runs a tool of bin/ and returns its standard output.
func run(t *testing.T, tool string, args ...string) ([]byte, error) {
	t.Helper()
	path := filepath.Join(repo, "bin", tool)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does it)", path)
	}
	cmd := exec.Command(path, args...)
	// Helm keeps no state of its own between tests, nor in the user's home.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, errors.New(strings.TrimSpace(stderr.String() + "\n" + err.Error()))
	}
	return out, nil
}

// render runs `helm template` with the values given as flags.
func render(t *testing.T, flags ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := run(t, "helm", append([]string{"template", release, chart, "--namespace", namespace}, flags...)...)
	if err != nil {
		t.Fatalf("helm template %v: %v", flags, err)
	}
	return decode(t, out)
}

// build runs `kustomize build` on a folder of config/.
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	out, err := run(t, "kustomize", "build", filepath.Join(repo, dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return decode(t, out)
}

// decode splits a stream of YAML documents into objects.
func decode(t *testing.T, stream []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := d.Decode(&u.Object); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatalf("decoding YAML: %v", err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// find returns the object of that kind and name, or fails the test.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	if o := lookup(objs, kind, name); o != nil {
		return o
	}
	t.Fatalf("no %s %s among %s", kind, name, names(objs))
	return nil
}

func lookup(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// typed converts an object to its Go type.
func typed[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	v := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, v); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return v
}

// names lists the objects as "Kind/name", sorted.
func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	slices.Sort(out)
	return out
}

func TestTheChartLints(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags []string
	}{
		{"with the default values", nil},
		{"with serve, ServiceMonitors and an inline database URL", serveAndMonitoring},
	} {
		t.Run(c.name, func(t *testing.T) {
			if out, err := run(t, "helm", append([]string{"lint", "--strict", chart}, c.flags...)...); err != nil {
				t.Errorf("helm lint: %v\n%s", err, out)
			}
		})
	}
}

func TestTheChartShipsTheGeneratedFiles(t *testing.T) {
	t.Run("its crds/ are config/crd/bases", func(t *testing.T) {
		base, _ := filepath.Glob(filepath.Join(repo, "config", "crd", "bases", "*.yaml"))
		shipped, _ := filepath.Glob(filepath.Join(chart, "crds", "*.yaml"))
		if len(base) == 0 || len(base) != len(shipped) {
			t.Fatalf("config/crd/bases holds %d CRDs, the chart %d: run make manifests", len(base), len(shipped))
		}
		for _, f := range base {
			want, _ := os.ReadFile(f)
			got, err := os.ReadFile(filepath.Join(chart, "crds", filepath.Base(f)))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("charts/switchboard/crds/%s differs from config/crd/bases: run make manifests", filepath.Base(f))
			}
		}
	})
	t.Run("its operator role is config/rbac/role.yaml", func(t *testing.T) {
		want, err := os.ReadFile(filepath.Join(repo, "config", "rbac", "role.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(chart, "files", "operator-role.yaml")); !bytes.Equal(got, want) {
			t.Error("charts/switchboard/files/operator-role.yaml differs from config/rbac/role.yaml: run make manifests")
		}
	})
	t.Run("helm installs the CRDs", func(t *testing.T) {
		var crds []string
		for _, o := range render(t, "--include-crds") {
			if o.GetKind() == "CustomResourceDefinition" {
				crds = append(crds, o.GetName())
			}
		}
		slices.Sort(crds)
		want := []string{
			"agentcapacities.supervision.switchboard.dev", "businessunits.supervision.switchboard.dev",
			"productivityobjectives.supervision.switchboard.dev", "tenants.supervision.switchboard.dev",
		}
		if !slices.Equal(crds, want) {
			t.Errorf("helm installs the CRDs %v; want %v", crds, want)
		}
	})
}

func TestTheChartGrantsWhatConfigRBACGrants(t *testing.T) {
	// Every Role and ClusterRole of config/rbac (the operator's, generated from the markers,
	// leader election, editors and viewers) has its twin in the chart, by name.
	rendered := render(t)
	roles := 0
	for _, want := range build(t, "config/rbac") {
		kind := want.GetKind()
		if kind != "Role" && kind != "ClusterRole" {
			continue
		}
		roles++
		got := lookup(rendered, kind, want.GetName())
		if got == nil {
			t.Errorf("the chart renders no %s %s, which config/rbac has", kind, want.GetName())
			continue
		}
		wantRules, gotRules := typed[rbacv1.ClusterRole](t, want).Rules, typed[rbacv1.ClusterRole](t, got).Rules
		if !reflect.DeepEqual(gotRules, wantRules) {
			t.Errorf("the chart's %s %s grants\n  %+v\nconfig/rbac grants\n  %+v", kind, want.GetName(), gotRules, wantRules)
		}
		for k, v := range want.GetLabels() {
			if strings.HasPrefix(k, "rbac.authorization.k8s.io/") && got.GetLabels()[k] != v {
				t.Errorf("the chart's %s %s lacks the label %s=%s", kind, want.GetName(), k, v)
			}
		}
		for k := range got.GetLabels() {
			if _, ok := want.GetLabels()[k]; strings.HasPrefix(k, "rbac.authorization.k8s.io/") && !ok {
				t.Errorf("the chart's %s %s carries the label %s, which config/rbac's does not", kind, want.GetName(), k)
			}
		}
	}
	if roles < 3 {
		t.Errorf("config/rbac has %d roles; want at least the operator's, leader election and the editors", roles)
	}
}

func TestTheChartsOperatorIsConfigsOperator(t *testing.T) {
	objs := render(t)
	if got := names(objs); slices.ContainsFunc(got, func(n string) bool {
		return strings.HasPrefix(n, "ServiceMonitor/") || strings.HasSuffix(n, "-serve") || strings.HasPrefix(n, "Secret/")
	}) {
		t.Errorf("the default values render %v; want no serve, no ServiceMonitor and no Secret", got)
	}
	deploy := typed[appsv1.Deployment](t, find(t, objs, "Deployment", "switchboard-operator"))
	want := typed[appsv1.Deployment](t, find(t, build(t, "config/default"), "Deployment", "switchboard-operator"))
	got, wantPod := deploy.Spec.Template.Spec, want.Spec.Template.Spec
	if len(got.Containers) != 1 || len(wantPod.Containers) != 1 {
		t.Fatalf("the operator's pod has %d containers in the chart, %d in config/; want 1", len(got.Containers), len(wantPod.Containers))
	}
	c, wc := got.Containers[0], wantPod.Containers[0]
	for _, f := range []struct {
		what      string
		got, want any
	}{
		{"args", c.Args, wc.Args},
		{"environment", c.Env, wc.Env},
		{"ports", c.Ports, wc.Ports},
		{"liveness probe", c.LivenessProbe, wc.LivenessProbe},
		{"readiness probe", c.ReadinessProbe, wc.ReadinessProbe},
		{"resources", c.Resources, wc.Resources},
		{"container securityContext", c.SecurityContext, wc.SecurityContext},
		{"pod securityContext", got.SecurityContext, wantPod.SecurityContext},
		{"service account", got.ServiceAccountName, wantPod.ServiceAccountName},
		{"grace period", got.TerminationGracePeriodSeconds, wantPod.TerminationGracePeriodSeconds},
	} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Errorf("the chart's operator has the %s\n  %+v\nconfig/manager's\n  %+v", f.what, f.got, f.want)
		}
	}
	if c.Image != "ghcr.io/switchboard-chat/switchboard:0.1.0" {
		t.Errorf("image %q; want the chart's appVersion as the tag", c.Image)
	}

	t.Run("with labels for the tenants' PrometheusRules", func(t *testing.T) {
		d := typed[appsv1.Deployment](t, find(t, render(t, "--set", "prometheusRules.labels.release=kube-prometheus-stack,prometheusRules.labels.team=chat"), "Deployment", "switchboard-operator"))
		if args := d.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--prometheus-rule-labels=release=kube-prometheus-stack,team=chat") {
			t.Errorf("args %q; want the labels in --prometheus-rule-labels", args)
		}
	})

	t.Run("without leader election", func(t *testing.T) {
		d := typed[appsv1.Deployment](t, find(t, render(t, "--set", "operator.leaderElection.enabled=false"), "Deployment", "switchboard-operator"))
		if args := d.Spec.Template.Spec.Containers[0].Args; slices.Contains(args, "--leader-elect") {
			t.Errorf("args %q; want no --leader-elect", args)
		}
	})
}

func TestTheChartWithServeAndMonitoring(t *testing.T) {
	objs := render(t, serveAndMonitoring...)
	operator := typed[appsv1.Deployment](t, find(t, objs, "Deployment", "switchboard-operator"))
	serve := typed[appsv1.Deployment](t, find(t, objs, "Deployment", "switchboard-serve"))
	if len(serve.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("serve's pod has %d containers; want 1", len(serve.Spec.Template.Spec.Containers))
	}
	sc := serve.Spec.Template.Spec.Containers[0]

	t.Run("the inline database URL is kept in a Secret both read", func(t *testing.T) {
		secret := typed[corev1.Secret](t, find(t, objs, "Secret", "switchboard-database"))
		if secret.StringData["url"] != "postgres://switchboard:secret@postgres.db:5432/switchboard" {
			t.Errorf("the Secret holds %v; want the URL under url", secret.StringData)
		}
		for _, d := range []*appsv1.Deployment{operator, serve} {
			var ref *corev1.SecretKeySelector
			for _, e := range d.Spec.Template.Spec.Containers[0].Env {
				if e.Name == "SWITCHBOARD_DATABASE_URL" && e.ValueFrom != nil {
					ref = e.ValueFrom.SecretKeyRef
				}
			}
			if ref == nil || ref.Name != secret.Name || ref.Key != "url" {
				t.Errorf("%s reads the database URL from %+v; want key url of %s", d.Name, ref, secret.Name)
			}
			if d.Spec.Template.Annotations["checksum/database"] == "" {
				t.Errorf("%s does not roll when the URL changes", d.Name)
			}
		}
	})

	t.Run("serve runs `switchboard serve` with probes on its port", func(t *testing.T) {
		if len(sc.Args) == 0 || sc.Args[0] != "serve" || !slices.Contains(sc.Args, "--listen=:8080") {
			t.Errorf("args %q; want serve --listen=:8080", sc.Args)
		}
		for _, p := range []struct {
			probe *corev1.Probe
			path  string
		}{{sc.LivenessProbe, "/healthz"}, {sc.ReadinessProbe, "/readyz"}} {
			if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
				t.Errorf("probe %+v; want GET %s on the port http", p.probe, p.path)
			}
		}
		if len(sc.Ports) != 1 || sc.Ports[0].Name != "http" || sc.Ports[0].ContainerPort != 8080 {
			t.Errorf("ports %+v; want http on 8080", sc.Ports)
		}
		if s := sc.SecurityContext; s == nil || s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem {
			t.Errorf("serve's securityContext %+v; want a read-only root", s)
		}
		if a := serve.Spec.Template.Spec.AutomountServiceAccountToken; a == nil || *a {
			t.Error("serve's pods get a Kubernetes API token they never use")
		}
	})

	t.Run("the serve Service reaches serve's pods and no others", func(t *testing.T) {
		svc := typed[corev1.Service](t, find(t, objs, "Service", "switchboard-serve"))
		if !selects(svc.Spec.Selector, serve.Spec.Template.Labels) || selects(svc.Spec.Selector, operator.Spec.Template.Labels) {
			t.Errorf("the Service selects %v; serve's pods carry %v, the operator's %v", svc.Spec.Selector, serve.Spec.Template.Labels, operator.Spec.Template.Labels)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.String() != "http" ||
			svc.Spec.Ports[0].AppProtocol == nil || *svc.Spec.Ports[0].AppProtocol != "kubernetes.io/h2c" {
			t.Errorf("ports %+v; want one to the port http, speaking h2c", svc.Spec.Ports)
		}
	})

	t.Run("ServiceMonitors scrape the operator and serve", func(t *testing.T) {
		for _, m := range []struct{ monitor, service string }{
			{"switchboard-operator", "switchboard-operator-metrics"},
			{"switchboard-serve", "switchboard-serve"},
		} {
			sm := find(t, objs, "ServiceMonitor", m.monitor)
			svc := typed[corev1.Service](t, find(t, objs, "Service", m.service))
			selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
			if !selects(selector, svc.Labels) {
				t.Errorf("ServiceMonitor %s selects %v; Service %s carries %v", m.monitor, selector, m.service, svc.Labels)
			}
			for _, other := range objs {
				if other.GetKind() == "Service" && other.GetName() != m.service && selects(selector, other.GetLabels()) {
					t.Errorf("ServiceMonitor %s also selects Service %s", m.monitor, other.GetName())
				}
			}
			endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
			if len(endpoints) != 1 {
				t.Fatalf("ServiceMonitor %s has the endpoints %v; want one", m.monitor, endpoints)
			}
			if ep, _ := endpoints[0].(map[string]any); ep["port"] != svc.Spec.Ports[0].Name || ep["path"] != "/metrics" {
				t.Errorf("ServiceMonitor %s scrapes %v; want /metrics on the port %s", m.monitor, endpoints, svc.Spec.Ports[0].Name)
			}
		}
	})
}

func TestTheChartRefusesValuesThatCannotWork(t *testing.T) {
	for _, c := range []struct {
		name, set, want string
	}{
		{"several operators without leader election", "operator.replicas=2,operator.leaderElection.enabled=false", "needs operator.leaderElection.enabled"},
		{"no database at all", "database.existingSecret=", "set database.url, or database.existingSecret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, "helm", "template", release, chart, "--set", c.set)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("helm template --set %s: %v; want an error saying %q", c.set, err, c.want)
			}
		})
	}
}

func TestTheAPIServerAcceptsWhatTheChartRenders(t *testing.T) {
	kube, err := testenv.StartKube()
	if err != nil {
		t.Fatalf("starting the API server: %v", err)
	}
	t.Cleanup(func() { _ = kube.Stop() })
	ctx := context.Background()
	objs := append([]*unstructured.Unstructured{{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": namespace},
	}}}, render(t, append([]string{"--include-crds"}, serveAndMonitoring...)...)...)
	for _, o := range objs {
		if o.GroupVersionKind().Group == "monitoring.coreos.com" {
			continue // the Prometheus Operator's CRDs are not installed here
		}
		// Strict, as helm install is: an unknown or misspelt field is an error.
		err := kube.Client.Create(ctx, o, client.FieldValidation(metav1.FieldValidationStrict))
		if apierrors.IsAlreadyExists(err) && o.GetKind() == "CustomResourceDefinition" {
			continue // envtest installed config/crd/bases, which the chart's copies equal
		}
		if err != nil {
			t.Errorf("creating %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

// selects reports whether a label selector matches the labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}
