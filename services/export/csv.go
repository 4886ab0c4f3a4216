// Package export writes what supervisors export (transcripts now; chat lists next) as
// CSV that spreadsheets open safely: a cell a spreadsheet would run as a formula is
// neutralised, and rows stream out in pieces so that memory stays flat whatever the size.
package export

import (
	"bytes"
	"encoding/csv"
	"strings"
)

// Safe neutralises a cell that a spreadsheet would read as a formula (starting with =, +,
// -, @, a tab or a carriage return) by prefixing a single quote.
func Safe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// Writer turns rows into CSV pieces of about pieceSize bytes, handed to emit.
type Writer struct {
	buf  bytes.Buffer
	csv  *csv.Writer
	emit func([]byte) error
}

// pieceSize is how many bytes a piece holds before it is emitted.
const pieceSize = 32 << 10

// NewWriter returns a writer that hands full pieces to emit.
func NewWriter(emit func([]byte) error) *Writer {
	w := &Writer{emit: emit}
	w.csv = csv.NewWriter(&w.buf)
	return w
}

// Row writes one row, every cell made safe.
func (w *Writer) Row(cells ...string) error {
	for i, c := range cells {
		cells[i] = Safe(c)
	}
	if err := w.csv.Write(cells); err != nil {
		return err
	}
	if w.buf.Len() >= pieceSize {
		return w.flush()
	}
	return nil
}

func (w *Writer) flush() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	if w.buf.Len() == 0 {
		return nil
	}
	piece := bytes.Clone(w.buf.Bytes())
	w.buf.Reset()
	return w.emit(piece)
}

// Close emits what is left.
func (w *Writer) Close() error { return w.flush() }
