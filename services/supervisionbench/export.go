package supervisionbench

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
)

// heapSampleInterval is how often the Go heap is sampled during an export.
const heapSampleInterval = 10 * time.Millisecond

const mib = 1 << 20

// heapPeak is the largest heap the sampler saw.
type heapPeak struct {
	alloc, inuse uint64
	// live is the heap marked live by the last collection, goal the size at which the
	// collector aims to finish the next one.
	live, goal uint64
	samples    int
}

// heapMetrics are the collector's view of the heap, read beside runtime.MemStats.
var heapMetrics = []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}}

// sampleHeap samples the heap until stop closes, then sends the peaks.
func sampleHeap(stop <-chan struct{}, out chan<- heapPeak) {
	var p heapPeak
	var ms runtime.MemStats
	m := slices.Clone(heapMetrics)
	t := time.NewTicker(heapSampleInterval)
	defer t.Stop()
	for {
		runtime.ReadMemStats(&ms)
		metrics.Read(m)
		p.alloc, p.inuse = max(p.alloc, ms.HeapAlloc), max(p.inuse, ms.HeapInuse)
		p.live, p.goal = max(p.live, m[0].Value.Uint64()), max(p.goal, m[1].Value.Uint64())
		p.samples++
		select {
		case <-stop:
			out <- p
			return
		case <-t.C:
		}
	}
}

// export reads the CSV export of the rows newest conversations through the API,
// discarding it, while the heap of this process (the server's, and the client's, which
// keeps nothing) is sampled. The baseline is the heap after a collection just before.
func (e *environment) export(ctx context.Context, st *storedTenant, token string, rows int) (ExportRun, error) {
	run := ExportRun{Rows: rows}
	f := &supervisionv1.ChatFilter{From: timestamppb.New(st.created[rows-1])}
	run.Filter = describeFilter(f)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	base := slices.Clone(heapMetrics)
	metrics.Read(base)
	run.BaselineLiveHeapMiB = float64(base[0].Value.Uint64()) / mib
	run.BaselineHeapAllocMiB = float64(before.HeapAlloc) / mib
	run.BaselineHeapInuseMiB = float64(before.HeapInuse) / mib
	stop, peaks := make(chan struct{}), make(chan heapPeak, 1)
	go sampleHeap(stop, peaks)

	start := time.Now()
	stream, err := e.clients[0].supervision.ExportChats(ctx, authorized(token, &supervisionv1.ExportChatsRequest{Filter: f}))
	var lines int
	if err == nil {
		for stream.Receive() {
			piece := stream.Msg().Csv
			if run.Bytes == 0 {
				run.FirstPieceMs = float64(time.Since(start)) / 1e6
			}
			run.Bytes += int64(len(piece))
			lines += bytes.Count(piece, []byte{'\n'})
			run.Pieces++
		}
		err = stream.Err()
		stream.Close()
	}
	elapsed := time.Since(start)
	close(stop)
	p := <-peaks
	runtime.ReadMemStats(&after)
	if err != nil {
		return run, err
	}

	run.RowsGot = lines - 1 // the header
	run.Seconds = elapsed.Seconds()
	run.RowsPerSecond = float64(run.RowsGot) / elapsed.Seconds()
	run.PeakHeapAllocAboveMiB = float64(p.alloc-min(p.alloc, before.HeapAlloc)) / mib
	run.PeakHeapInuseAboveMiB = float64(p.inuse-min(p.inuse, before.HeapInuse)) / mib
	run.PeakLiveHeapAboveMiB = float64(p.live-min(p.live, base[0].Value.Uint64())) / mib
	run.PeakHeapGoalMiB = float64(p.goal) / mib
	run.AllocatedMiB = float64(after.TotalAlloc-before.TotalAlloc) / mib
	run.GCs = int(after.NumGC - before.NumGC)
	run.HeapSamples = p.samples
	if run.RowsGot != rows {
		return run, fmt.Errorf("the export held %d rows, the filter (%s) matches %d", run.RowsGot, run.Filter, rows)
	}
	return run, nil
}
