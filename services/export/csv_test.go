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

// FuzzEveryCellComesBackAndNoneRunsAsAFormula writes rows of any text and reads the file
// back as a spreadsheet would: the same rows and cells, each cell its text or, when the text
// would start a formula, the text behind a single quote — no cell starts a formula.
func FuzzEveryCellComesBackAndNoneRunsAsAFormula(f *testing.F) {
	for _, seed := range [][3]string{
		{`=HYPERLINK("http://evil","x")`, "+1+1", "-2"},
		{"@SUM(A1)", "\tx", "\r=1"},
		{"plain", "", "a,b\n\"c\""},
		{"=1\n=2", "'=already quoted", "\u00a0=1"},
	} {
		f.Add(seed[0], seed[1], seed[2], 1)
	}
	f.Fuzz(func(t *testing.T, a, b, c string, rows int) {
		rows = 1 + (rows&0xffff)%50
		var file bytes.Buffer
		w := NewWriter(func(p []byte) error { file.Write(p); return nil })
		for range rows {
			if err := w.Row(a, b, c); err != nil {
				return // text encoding/csv cannot write (it writes any string): nothing to check
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&file)
		r.FieldsPerRecord = 3
		records, err := r.ReadAll()
		if err != nil {
			t.Fatalf("the file does not read back: %v\n%q", err, file.String())
		}
		if len(records) != rows {
			t.Fatalf("%d rows read back, %d written", len(records), rows)
		}
		for _, rec := range records {
			for i, in := range []string{a, b, c} {
				got := rec[i]
				if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
					t.Fatalf("cell %q starts a formula (written %q)", got, in)
				}
				// encoding/csv reads \r\n inside a quoted cell as \n.
				want := strings.ReplaceAll(Safe(in), "\r\n", "\n")
				if got != want {
					t.Fatalf("cell %q read back as %q, want %q", in, got, want)
				}
				if unquoted, ok := strings.CutPrefix(got, "'"); ok && Safe(in) != in && strings.ReplaceAll(in, "\r\n", "\n") != unquoted {
					t.Fatalf("cell %q lost more than its quote: %q", in, got)
				}
			}
		}
	})
}
