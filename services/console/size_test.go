package console

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// assetRef finds the files a built page loads before it runs: its scripts, module
// preloads and style sheets.
var assetRef = regexp.MustCompile(`(?:src|href)="/console/([^"]+\.(?:js|css))"`)

// initialLoad is the gzipped size of a built page and everything it loads at once, by file.
func initialLoad(t *testing.T, app fs.FS, page string) (int, map[string]int) {
	t.Helper()
	html, err := fs.ReadFile(app, page)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{page: gzipped(t, html)}
	total := sizes[page]
	for _, m := range assetRef.FindAllSubmatch(html, -1) {
		name := string(m[1])
		if _, seen := sizes[name]; seen {
			continue
		}
		b, err := fs.ReadFile(app, name)
		if err != nil {
			t.Fatalf("%s loads %s, which the build lacks: %v", page, name, err)
		}
		sizes[name] = gzipped(t, b)
		total += sizes[name]
	}
	return total, sizes
}

func gzipped(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

// TestInitialLoadStaysSmall measures what a browser fetches before the console (and the
// widget's frame) can run, gzipped as it travels: the console under 300 KB, the widget,
// which loads on every page of a customer's site, under 100 KB.
func TestInitialLoadStaysSmall(t *testing.T) {
	if !Built() {
		if os.Getenv("CI") == "true" {
			t.Fatal("the console is not built: make test builds it first (make console)")
		}
		t.Skip("the console is not built (make console)")
	}
	app, _ := fs.Sub(dist, "dist/app")
	for _, c := range []struct {
		page  string
		limit int
	}{{"index.html", 300 << 10}, {"widget.html", 100 << 10}} {
		total, sizes := initialLoad(t, app, c.page)
		var parts []string
		for name, n := range sizes {
			parts = append(parts, name+" "+kb(n))
		}
		t.Logf("%s initial load: %s gzipped (%s)", c.page, kb(total), strings.Join(parts, ", "))
		if total > c.limit {
			t.Errorf("%s loads %s gzipped before it runs, over the %s budget", c.page, kb(total), kb(c.limit))
		}
	}
}

func kb(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1024) }
