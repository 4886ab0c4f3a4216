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
	"sigs.k8s.io/yaml"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/rules"
)

// sampleObjectives reads testdata/objectives.yaml.
func sampleObjectives(t *testing.T) []v1alpha1.ProductivityObjective {
	t.Helper()
	data, err := os.ReadFile("testdata/objectives.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []v1alpha1.ProductivityObjective
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		var o v1alpha1.ProductivityObjective
		if err := yaml.UnmarshalStrict(doc, &o); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		out = append(out, o)
	}
	return out
}

// promtool finds promtool (Debian's prometheus package, which `make test` installs). Only
// outside CI may it be missing, and then the test is skipped.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is missing; `make test` installs it (apt-get install prometheus)")
		}
		t.Skip("promtool is not installed: run `make test`, or apt-get install prometheus, to check and test the rules")
	}
	return path
}

// TestGeneratedRulesPassPromtool writes the sample tenant's rules and runs promtool's
// checks and the unit tests of testdata/acme_test.yaml on them: every alert fires on
// synthetic series past its thresholds and clears when they recover.
func TestGeneratedRulesPassPromtool(t *testing.T) {
	bin := promtool(t)
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
