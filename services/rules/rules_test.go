package rules_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/config/samples"
	"github.com/switchboard-chat/switchboard/services/rules"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// sampleObjectives reads testdata/objectives.yaml.
func sampleObjectives(t *testing.T) []v1alpha1.ProductivityObjective {
	t.Helper()
	data, err := os.ReadFile("testdata/objectives.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return readObjectives(t, data)
}

// readObjectives reads the ProductivityObjectives of YAML documents.
func readObjectives(t *testing.T, data []byte) []v1alpha1.ProductivityObjective {
	t.Helper()
	var out []v1alpha1.ProductivityObjective
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Kind != "ProductivityObjective" {
			continue
		}
		var o v1alpha1.ProductivityObjective
		if err := yaml.UnmarshalStrict(doc, &o); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		out = append(out, o)
	}
	return out
}

// TestGeneratedRulesPassPromtool writes the sample tenant's rules and runs promtool's
// checks and the unit tests of testdata/acme_test.yaml on them: every alert fires on
// synthetic series past its thresholds and clears when they recover.
func TestGeneratedRulesPassPromtool(t *testing.T) {
	bin := testenv.RequireBinary(t, "promtool")
	set := rules.Generate("acme", sampleObjectives(t))
	file, err := set.File()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "acme.rules.yaml"), file, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("testdata/acme_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme_test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", "acme.rules.yaml"}, {"test", "rules", "acme_test.yaml"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s\nrules:\n%s", strings.Join(args, " "), err, out, file)
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

func TestOnlyPercentGoalsOfSomeAgentsGetRules(t *testing.T) {
	set := rules.Generate("acme", sampleObjectives(t))
	if len(set.Skipped) != 1 || set.Skipped[0].Objective != "night-team" || !strings.Contains(set.Skipped[0].Reason, "agentSelector") {
		t.Fatalf("skipped %+v, want night-team (no percent) for its agentSelector", set.Skipped)
	}
	file, err := set.File()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(file), "night-team\n") || strings.Contains(string(file), `objective="night-team"`) {
		t.Errorf("the rules mention the skipped objective:\n%s", file)
	}
	// night-first-response has burn-rate alerts, and no percentile of every agent's
	// first responses in its name.
	var burns int
	for _, r := range set.Groups[0].Rules {
		if r.Labels["objective"] == "night-first-response" && r.Alert == "SwitchboardObjectiveBudgetBurn" {
			burns++
		}
	}
	if burns != 3 {
		t.Errorf("%d burn-rate alerts for night-first-response, want 3", burns)
	}
}

func TestTheRuleFileIsThePrometheusRuleSpec(t *testing.T) {
	set := rules.Generate("acme", sampleObjectives(t))
	file, err := set.File()
	if err != nil {
		t.Fatal(err)
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(file, &spec); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec, set.Spec()) {
		t.Errorf("the file differs from the spec:\n%s", file)
	}
	for _, r := range spec.Groups[0].Rules {
		if r.Alert != "" && r.Labels["tenant"] != "acme" {
			t.Errorf("alert %s has tenant %q", r.Alert, r.Labels["tenant"])
		}
	}
}

func TestNoObjectivesMakeNoGroup(t *testing.T) {
	if set := rules.Generate("acme", nil); len(set.Groups) != 0 {
		t.Errorf("groups %+v", set.Groups)
	}
}

// TestTheSampleTenantsRulesPassPromtoolsCheck generates the rules of config/samples'
// objectives (what `make run` and `kubectl apply -k config/samples` give) and has promtool
// check them; none is left out.
func TestTheSampleTenantsRulesPassPromtoolsCheck(t *testing.T) {
	bin := testenv.RequireBinary(t, "promtool")
	var objectives []v1alpha1.ProductivityObjective
	files, err := samples.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := samples.FS.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		objectives = append(objectives, readObjectives(t, data)...)
	}
	if len(objectives) == 0 {
		t.Fatal("config/samples has no ProductivityObjective")
	}
	set := rules.Generate("acme", objectives)
	if len(set.Skipped) > 0 {
		t.Errorf("skipped %+v", set.Skipped)
	}
	file, err := set.File()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "acme.rules.yaml")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, out, file)
	}
	alerts := map[string]bool{}
	for _, r := range set.Groups[0].Rules {
		if r.Alert != "" {
			alerts[r.Labels["objective"]] = true
		}
	}
	for _, o := range objectives {
		if !alerts[o.Name] {
			t.Errorf("objective %s has no alert", o.Name)
		}
	}
}
