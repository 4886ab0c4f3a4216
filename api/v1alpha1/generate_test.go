package v1alpha1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesAreUpToDate regenerates the deepcopy code and the CRDs with the pinned
// controller-gen and compares them with what is committed.
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(root, "bin", "controller-gen")
	if _, err := os.Stat(gen); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does it)", gen)
	}
	for _, c := range []struct {
		what, committed string
		args            func(dir string) []string
	}{
		{"deepcopy code", "api/v1alpha1", func(dir string) []string {
			return []string{"object", "paths=./api/v1alpha1/...", "output:object:dir=" + dir}
		}},
		{"CRDs", "config/crd/bases", func(dir string) []string {
			return []string{"crd", "paths=./api/v1alpha1/...", "output:crd:artifacts:config=" + dir}
		}},
	} {
		t.Run("the committed "+c.what+" are what controller-gen makes", func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(gen, c.args(dir)...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("controller-gen: %v\n%s", err, out)
			}
			fresh, err := os.ReadDir(dir)
			if err != nil || len(fresh) == 0 {
				t.Fatalf("controller-gen made nothing: %v", err)
			}
			for _, f := range fresh {
				want, _ := os.ReadFile(filepath.Join(dir, f.Name()))
				got, err := os.ReadFile(filepath.Join(root, c.committed, f.Name()))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s/%s is stale or missing: run make generate manifests", c.committed, f.Name())
				}
			}
		})
	}
}
