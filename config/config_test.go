// Package config_test checks the kustomize bases of config/: what `kubectl apply -k` sends
// for each, built with the pinned kustomize in bin/ and, for config/default and
// config/samples, created on a real API server.
package config_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-chat/switchboard/config/samples"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

const (
	namespace = "switchboard-system"
	operator  = "switchboard-operator"
)

// repo is the repository's root.
var repo = func() string {
	dir, err := filepath.Abs("..")
	if err != nil {
		panic(err)
	}
	return dir
}()

// build runs `kustomize build` on a folder of config/.
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	kustomize := filepath.Join(repo, "bin", "kustomize")
	if _, err := os.Stat(kustomize); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does it)", kustomize)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(kustomize, "build", filepath.Join(repo, dir))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderr.Bytes())
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
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s among %s", kind, name, names(objs))
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

// crdNames reads the names of the CRDs generated into config/crd/bases.
func crdNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repo, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range decode(t, b) {
			out = append(out, o.GetName())
		}
	}
	slices.Sort(out)
	return out
}

func TestTheCRDBaseInstallsEveryGeneratedCRD(t *testing.T) {
	objs := build(t, "config/crd")
	var got []string
	scopes := map[string]string{}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			t.Errorf("config/crd holds a %s %s; want CRDs only", o.GetKind(), o.GetName())
			continue
		}
		got = append(got, o.GetName())
		scopes[o.GetName()], _, _ = unstructured.NestedString(o.Object, "spec", "scope")
	}
	slices.Sort(got)
	if want := crdNames(t); !slices.Equal(got, want) {
		t.Errorf("config/crd installs %v; config/crd/bases holds %v: list every file in config/crd/kustomization.yaml", got, want)
	}
	for crd, want := range map[string]string{
		"tenants.supervision.switchboard.dev":                "Cluster",
		"businessunits.supervision.switchboard.dev":          "Namespaced",
		"agentcapacities.supervision.switchboard.dev":        "Namespaced",
		"productivityobjectives.supervision.switchboard.dev": "Namespaced",
	} {
		if scopes[crd] != want {
			t.Errorf("%s has scope %q; want %s", crd, scopes[crd], want)
		}
	}
}

func TestThePROJECTFileDescribesTheCRDs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "PROJECT"))
	if err != nil {
		t.Fatal(err)
	}
	var project struct {
		Version     string   `json:"version"`
		Domain      string   `json:"domain"`
		Layout      []string `json:"layout"`
		ProjectName string   `json:"projectName"`
		Repo        string   `json:"repo"`
		Resources   []struct {
			API struct {
				CRDVersion string `json:"crdVersion"`
				Namespaced bool   `json:"namespaced"`
			} `json:"api"`
			Controller bool   `json:"controller"`
			Domain     string `json:"domain"`
			Group      string `json:"group"`
			Kind       string `json:"kind"`
			Path       string `json:"path"`
			Version    string `json:"version"`
		} `json:"resources"`
	}
	if err := yaml.UnmarshalStrict(b, &project); err != nil {
		t.Fatalf("PROJECT: %v", err)
	}
	if project.Version != "3" || !slices.Equal(project.Layout, []string{"go.kubebuilder.io/v4"}) ||
		project.Repo != "github.com/switchboard-chat/switchboard" || project.ProjectName != "switchboard" {
		t.Errorf("PROJECT is version %q, layout %v, repo %q, name %q; want kubebuilder's 3, go.kubebuilder.io/v4, this module, switchboard",
			project.Version, project.Layout, project.Repo, project.ProjectName)
	}
	var got, want []string
	for _, r := range project.Resources {
		got = append(got, fmt.Sprintf("%s.%s/%s %s namespaced=%v crd=%s controller=%v path=%s",
			r.Group, r.Domain, r.Version, r.Kind, r.API.Namespaced, r.API.CRDVersion, r.Controller, r.Path))
	}
	for _, crd := range build(t, "config/crd") {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(crd.Object, "spec", "scope")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			name, _, _ := unstructured.NestedString(v.(map[string]any), "name")
			want = append(want, fmt.Sprintf("%s/%s %s namespaced=%v crd=v1 controller=true path=github.com/switchboard-chat/switchboard/api/%s",
				group, name, kind, scope == "Namespaced", name))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("PROJECT has the resources\n  %s\nconfig/crd has\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestTheDefaultBaseInstallsTheOperator(t *testing.T) {
	objs := build(t, "config/default")

	t.Run("every object the operator needs is there, and nothing else", func(t *testing.T) {
		want := []string{
			"Namespace/" + namespace,
			"ServiceAccount/" + operator,
			"ClusterRole/" + operator,
			"ClusterRoleBinding/" + operator,
			"Role/switchboard-leader-election",
			"RoleBinding/switchboard-leader-election",
			"Deployment/" + operator,
			"Service/switchboard-operator-metrics",
		}
		for _, crd := range crdNames(t) {
			want = append(want, "CustomResourceDefinition/"+crd)
		}
		for _, kind := range []string{"tenant", "businessunit", "agentcapacity", "productivityobjective"} {
			want = append(want, "ClusterRole/switchboard-"+kind+"-editor", "ClusterRole/switchboard-"+kind+"-viewer")
		}
		slices.Sort(want)
		if got := names(objs); !slices.Equal(got, want) {
			t.Errorf("config/default makes\n  %v\nwant\n  %v", got, want)
		}
	})

	t.Run("every namespaced object is in switchboard-system", func(t *testing.T) {
		clusterScoped := []string{"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
		for _, o := range objs {
			if !slices.Contains(clusterScoped, o.GetKind()) && o.GetNamespace() != namespace {
				t.Errorf("%s %s is in namespace %q; want %s", o.GetKind(), o.GetName(), o.GetNamespace(), namespace)
			}
		}
	})

	deploy := typed[appsv1.Deployment](t, find(t, objs, "Deployment", operator))
	pod := deploy.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("the operator's pod has %d containers; want 1", len(pod.Containers))
	}
	c := pod.Containers[0]

	t.Run("the operator runs `switchboard operator` with leader election", func(t *testing.T) {
		if len(c.Args) == 0 || c.Args[0] != "operator" {
			t.Errorf("args %q; want the operator subcommand first", c.Args)
		}
		if !slices.Contains(c.Args, "--leader-elect") {
			t.Errorf("args %q lack --leader-elect", c.Args)
		}
		if !strings.HasPrefix(c.Image, "ghcr.io/switchboard-chat/switchboard:") {
			t.Errorf("image %q; want ghcr.io/switchboard-chat/switchboard, set by config/manager's images", c.Image)
		}
	})

	t.Run("the kubelet probes /healthz and /readyz on :8081", func(t *testing.T) {
		for _, p := range []struct {
			what  string
			probe *corev1.Probe
			path  string
		}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
			if p.probe == nil || p.probe.HTTPGet == nil {
				t.Errorf("no HTTP %s probe", p.what)
				continue
			}
			if p.probe.HTTPGet.Path != p.path || containerPort(c, p.probe.HTTPGet.Port) != 8081 {
				t.Errorf("%s probe GET %s on %s; want %s on 8081", p.what, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
			}
		}
		if !slices.Contains(c.Args, "--health-probe-bind-address=:8081") {
			t.Errorf("args %q do not put the probes on :8081", c.Args)
		}
	})

	t.Run("the operator runs as a restricted pod with bounded resources", func(t *testing.T) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
			t.Errorf("container securityContext %+v; want a read-only root, no privilege escalation, every capability dropped", sc)
		}
		if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
			psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("pod securityContext %+v; want non-root with the runtime's seccomp profile", psc)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				t.Errorf("no %s request", r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				t.Errorf("no %s limit", r)
			}
		}
	})

	t.Run("the operator reads the database URL from the Secret switchboard-database", func(t *testing.T) {
		var ref *corev1.SecretKeySelector
		for _, e := range c.Env {
			if e.Name == "SWITCHBOARD_DATABASE_URL" && e.ValueFrom != nil {
				ref = e.ValueFrom.SecretKeyRef
			}
		}
		if ref == nil || ref.Name != "switchboard-database" || ref.Key != "url" {
			t.Errorf("SWITCHBOARD_DATABASE_URL comes from %+v; want key url of Secret switchboard-database", ref)
		}
		for _, a := range c.Args {
			if strings.HasPrefix(a, "--database-url") {
				t.Errorf("args %q carry the database URL, visible to whoever reads the pod", c.Args)
			}
		}
	})

	t.Run("the operator's ServiceAccount holds its ClusterRole and the leader election Role", func(t *testing.T) {
		find(t, objs, "ServiceAccount", pod.ServiceAccountName)
		crb := typed[rbacv1.ClusterRoleBinding](t, find(t, objs, "ClusterRoleBinding", operator))
		rb := typed[rbacv1.RoleBinding](t, find(t, objs, "RoleBinding", "switchboard-leader-election"))
		for _, b := range []struct {
			what     string
			ref      rbacv1.RoleRef
			subjects []rbacv1.Subject
		}{{"ClusterRoleBinding", crb.RoleRef, crb.Subjects}, {"RoleBinding", rb.RoleRef, rb.Subjects}} {
			find(t, objs, b.ref.Kind, b.ref.Name)
			want := rbacv1.Subject{Kind: "ServiceAccount", Name: pod.ServiceAccountName, Namespace: deploy.Namespace}
			if !slices.Equal(b.subjects, []rbacv1.Subject{want}) {
				t.Errorf("the %s binds %+v; want the operator's ServiceAccount %+v", b.what, b.subjects, want)
			}
		}
		if rb.Namespace != deploy.Namespace {
			t.Errorf("the leader election RoleBinding is in %q; want the operator's namespace %q", rb.Namespace, deploy.Namespace)
		}
		if rules := typed[rbacv1.ClusterRole](t, find(t, objs, "ClusterRole", crb.RoleRef.Name)).Rules; len(rules) == 0 {
			t.Error("the operator's ClusterRole grants nothing: add RBAC markers in controllers/ and run make manifests")
		}
	})

	t.Run("leader election may touch leases and events in the operator's namespace only", func(t *testing.T) {
		role := typed[rbacv1.Role](t, find(t, objs, "Role", "switchboard-leader-election"))
		if role.Namespace != deploy.Namespace {
			t.Errorf("the leader election Role is in %q; want %q", role.Namespace, deploy.Namespace)
		}
		allowed := map[string]bool{"coordination.k8s.io/leases": false, "/events": false, "events.k8s.io/events": false}
		for _, r := range role.Rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					if _, ok := allowed[g+"/"+res]; !ok {
						t.Errorf("the leader election Role grants %s in group %q", res, g)
					}
					allowed[g+"/"+res] = true
				}
			}
			for _, v := range r.Verbs {
				if v == "*" || v == "list" || v == "watch" || v == "deletecollection" {
					t.Errorf("the leader election Role grants %q on %v", v, r.Resources)
				}
			}
		}
		if !allowed["coordination.k8s.io/leases"] {
			t.Error("the leader election Role does not grant leases")
		}
	})

	t.Run("the metrics Service reaches the operator's metrics on :8080", func(t *testing.T) {
		svc := typed[corev1.Service](t, find(t, objs, "Service", "switchboard-operator-metrics"))
		if !selects(svc.Spec.Selector, deploy.Spec.Template.Labels) {
			t.Errorf("the Service selects %v; the operator's pods carry %v", svc.Spec.Selector, deploy.Spec.Template.Labels)
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "metrics" || containerPort(c, svc.Spec.Ports[0].TargetPort) != 8080 {
			t.Errorf("the Service's ports %+v; want one named metrics reaching the container's 8080", svc.Spec.Ports)
		}
		if !slices.Contains(c.Args, "--metrics-bind-address=:8080") {
			t.Errorf("args %q do not serve metrics on :8080", c.Args)
		}
	})

	t.Run("platform teams get an editor and a viewer role per kind", func(t *testing.T) {
		for _, k := range []struct {
			kind, resource string
			aggregateEdit  bool
		}{
			{"tenant", "tenants", false},
			{"businessunit", "businessunits", true},
			{"agentcapacity", "agentcapacities", true},
			{"productivityobjective", "productivityobjectives", true},
		} {
			editor := typed[rbacv1.ClusterRole](t, find(t, objs, "ClusterRole", "switchboard-"+k.kind+"-editor"))
			viewer := typed[rbacv1.ClusterRole](t, find(t, objs, "ClusterRole", "switchboard-"+k.kind+"-viewer"))
			if !grants(editor.Rules, k.resource, "create", "update", "delete") {
				t.Errorf("%s cannot create, update and delete %s", editor.Name, k.resource)
			}
			if !grants(viewer.Rules, k.resource, "get", "list", "watch") || !grants(viewer.Rules, k.resource+"/status", "get") {
				t.Errorf("%s cannot read %s and their status", viewer.Name, k.resource)
			}
			for _, r := range viewer.Rules {
				for _, v := range r.Verbs {
					if !slices.Contains([]string{"get", "list", "watch"}, v) {
						t.Errorf("%s grants %q on %v", viewer.Name, v, r.Resources)
					}
				}
			}
			if viewer.Labels["rbac.authorization.k8s.io/aggregate-to-view"] != "true" {
				t.Errorf("%s is not aggregated into view", viewer.Name)
			}
			for _, to := range []string{"edit", "admin"} {
				if got := editor.Labels["rbac.authorization.k8s.io/aggregate-to-"+to] == "true"; got != k.aggregateEdit {
					t.Errorf("%s aggregated into %s: %v; want %v", editor.Name, to, got, k.aggregateEdit)
				}
			}
		}
	})
}

func TestTheOperatorsClusterRoleIsWhatTheRBACMarkersMake(t *testing.T) {
	if files, _ := filepath.Glob(filepath.Join(repo, "controllers", "*.go")); len(files) == 0 {
		t.Skip("no controllers/ yet: role.yaml is not generated")
	}
	gen := filepath.Join(repo, "bin", "controller-gen")
	if _, err := os.Stat(gen); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does it)", gen)
	}
	dir := t.TempDir()
	cmd := exec.Command(gen, "rbac:roleName="+operator, "paths=./controllers/...", "output:rbac:artifacts:config="+dir)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, out)
	}
	want, err := os.ReadFile(filepath.Join(dir, "role.yaml"))
	if err != nil {
		t.Fatalf("controller-gen made no role.yaml: are there RBAC markers in controllers/? %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(repo, "config", "rbac", "role.yaml")); !bytes.Equal(got, want) {
		t.Errorf("config/rbac/role.yaml is stale: run make manifests")
	}
}

func TestThePrometheusBaseScrapesTheOperatorsMetricsService(t *testing.T) {
	monitors := build(t, "config/prometheus")
	if got := names(monitors); !slices.Equal(got, []string{"ServiceMonitor/" + operator}) {
		t.Fatalf("config/prometheus makes %v; want the ServiceMonitor %s", got, operator)
	}
	m := monitors[0]
	svc := typed[corev1.Service](t, find(t, build(t, "config/default"), "Service", "switchboard-operator-metrics"))
	if m.GetNamespace() != svc.Namespace {
		t.Errorf("the ServiceMonitor is in %q, the metrics Service in %q", m.GetNamespace(), svc.Namespace)
	}
	selector, _, _ := unstructured.NestedStringMap(m.Object, "spec", "selector", "matchLabels")
	if len(selector) == 0 || !selects(selector, svc.Labels) {
		t.Errorf("the ServiceMonitor selects %v; the metrics Service carries %v", selector, svc.Labels)
	}
	endpoints, _, _ := unstructured.NestedSlice(m.Object, "spec", "endpoints")
	if len(endpoints) != 1 {
		t.Fatalf("endpoints %v; want one", endpoints)
	}
	ep, _ := endpoints[0].(map[string]any)
	if ep["port"] != svc.Spec.Ports[0].Name || ep["path"] != "/metrics" {
		t.Errorf("the ServiceMonitor scrapes port %v path %v; want %s /metrics", ep["port"], ep["path"], svc.Spec.Ports[0].Name)
	}
}

func TestTheSamplesBaseAppliesEveryEmbeddedSample(t *testing.T) {
	// switchboard dev loads samples.FS; kubectl apply -k config/samples must give a cluster the same.
	var embedded []string
	err := fs.WalkDir(samples.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(samples.FS, path)
		if err != nil {
			return err
		}
		embedded = append(embedded, names(decode(t, b))...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(embedded)
	objs := build(t, "config/samples")
	if got := names(objs); len(got) == 0 || !slices.Equal(got, embedded) {
		t.Errorf("config/samples applies\n  %v\nswitchboard dev loads\n  %v", got, embedded)
	}
	for _, o := range objs {
		if o.GroupVersionKind().Group != "supervision.switchboard.dev" {
			t.Errorf("%s %s is not a Switchboard resource", o.GetKind(), o.GetName())
		}
	}
}

func TestTheAPIServerAcceptsTheDefaultBaseAndTheSamples(t *testing.T) {
	objs := build(t, "config/default")
	// The samples' namespaced resources go in their tenant's namespace, which the operator
	// makes from the Tenant; here it is made by hand.
	sampleObjs := build(t, "config/samples")
	for _, o := range sampleObjs {
		if ns := o.GetNamespace(); ns != "" && !slices.ContainsFunc(objs, func(u *unstructured.Unstructured) bool {
			return u.GetKind() == "Namespace" && u.GetName() == ns
		}) {
			objs = append(objs, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns},
			}})
		}
	}
	objs = append(objs, sampleObjs...)

	kube, err := testenv.StartKube()
	if err != nil {
		t.Fatalf("starting the API server: %v", err)
	}
	t.Cleanup(func() { _ = kube.Stop() })
	ctx := context.Background()
	for _, o := range objs {
		// Strict, as kubectl apply is by default: an unknown or misspelt field is an error.
		err := kube.Client.Create(ctx, o, client.FieldValidation(metav1.FieldValidationStrict))
		if apierrors.IsAlreadyExists(err) && o.GetKind() == "CustomResourceDefinition" {
			continue // envtest installed the same files
		}
		if err != nil {
			t.Errorf("creating %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

// containerPort resolves a Service's or probe's target port, by number or by name.
func containerPort(c corev1.Container, port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	return 0
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

// grants reports whether the rules allow every verb on the resource of Switchboard's group.
func grants(rules []rbacv1.PolicyRule, resource string, verbs ...string) bool {
	for _, v := range verbs {
		if !slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.APIGroups, "supervision.switchboard.dev") &&
				slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, v)
		}) {
			return false
		}
	}
	return true
}
