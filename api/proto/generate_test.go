// Package proto holds Switchboard's Protobuf contracts and the Go generated from them.
// Its test keeps the two in step: the contracts pass buf lint, and regenerating them gives
// exactly the committed code.
package proto

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func tool(t *testing.T, root, name string) string {
	t.Helper()
	p := filepath.Join(root, "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does it)", p)
	}
	return p
}

func TestContractsPassBufLint(t *testing.T) {
	root := repoRoot(t)
	cmd := exec.Command(tool(t, root, "buf"), "lint")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("buf lint: %v\n%s", err, out)
	}
}

func TestGeneratedCodeIsUpToDate(t *testing.T) {
	root := repoRoot(t)
	buf := tool(t, root, "buf")
	out := t.TempDir()
	template, err := json.Marshal(map[string]any{
		"version": "v2",
		"plugins": []map[string]any{
			{"local": tool(t, root, "protoc-gen-go"), "out": out, "opt": "paths=source_relative"},
			{"local": tool(t, root, "protoc-gen-connect-go"), "out": out, "opt": "paths=source_relative"},
			{"local": esPlugin(t, root), "out": filepath.Join(out, "ts"), "opt": "target=ts"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(buf, "generate", "--template", string(template))
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("buf generate: %v\n%s", err, b)
	}
	compareGenerated(t, generatedFiles(t, out, ".pb.go", ".connect.go"), generatedFiles(t, filepath.Join(root, "api", "proto"), ".pb.go", ".connect.go"))
	compareGenerated(t, generatedFiles(t, filepath.Join(out, "ts"), "_pb.ts"), generatedFiles(t, filepath.Join(root, "services", "console", "src", "gen"), "_pb.ts"))
}

// esPlugin is the console's protoc-gen-es, installed by npm from its package-lock.json.
func esPlugin(t *testing.T, root string) string {
	t.Helper()
	p := filepath.Join(root, "services", "console", "node_modules", ".bin", "protoc-gen-es")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run `make console-deps` (make test does it)", p)
	}
	return p
}

// compareGenerated fails for every file that differs between a fresh generation and the
// committed one, or is in only one of them.
func compareGenerated(t *testing.T, fresh, committed map[string][]byte) {
	t.Helper()
	for name, want := range fresh {
		got, ok := committed[name]
		if !ok {
			t.Errorf("%s is generated but not committed: run make generate", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run make generate", name)
		}
	}
	for name := range committed {
		if _, ok := fresh[name]; !ok {
			t.Errorf("%s is committed but no contract generates it: remove it or run make generate", name)
		}
	}
}

// generatedFiles reads the generated files under dir whose names end in one of suffixes,
// by path relative to dir.
func generatedFiles(t *testing.T, dir string, suffixes ...string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !hasSuffix(p, suffixes) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func hasSuffix(p string, suffixes []string) bool {
	for _, s := range suffixes {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}
