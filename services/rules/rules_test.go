package rules_test

import (
	"bytes"
	"os"
	"testing"

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

func TestDump(t *testing.T) {
	set := rules.Generate("acme", sampleObjectives(t))
	f, err := set.File()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/tmp/rt/acme.rules.yaml", f, 0o644)
	t.Logf("%+v", set.Skipped)
}
