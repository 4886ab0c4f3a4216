package board

import "context"

// Compact writes the engine's in-memory samples to blocks, as the TSDB does every two hours.
func (e *Embedded) Compact() error { return e.db.Compact(context.Background()) }
