package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCellsThatWouldRunAsFormulasAreNeutralised(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://evil\")": "'=HYPERLINK(\"http://evil\")",
		"+1+1":                        "'+1+1", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx",
		"hello": "hello", "": "", "a=b": "a=b",
	} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRowsStreamInPiecesThatMakeTheWholeFile(t *testing.T) {
	var pieces [][]byte
	w := NewWriter(func(p []byte) error { pieces = append(pieces, p); return nil })
	for i := 0; i < 5000; i++ {
		if err := w.Row("row", strings.Repeat("x", 20), "=bad"); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(pieces) < 3 {
		t.Fatalf("%d pieces for ~160 KB; rows are not streamed", len(pieces))
	}
	records, err := csv.NewReader(bytes.NewReader(bytes.Join(pieces, nil))).ReadAll()
	if err != nil || len(records) != 5000 || records[4999][2] != "'=bad" {
		t.Fatalf("reassembled file: %d records, %v", len(records), err)
	}
}
