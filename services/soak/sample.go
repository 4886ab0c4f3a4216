package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Phases of a run, as samples name them.
const (
	phaseIdleBefore = "idle-before"
	phaseWarmup     = "warmup"
	phaseMeasured   = "measured"
	phaseIdleAfter  = "idle-after"
)

// Sample is the server's state at one moment, and the load until then. Byte and count
// figures are float64, as Prometheus gives them; the load's counters are cumulative.
type Sample struct {
	Phase          string  `json:"phase"`
	ElapsedSeconds float64 `json:"elapsedSeconds"`

	// From the server's /metrics.
	HeapLive     float64 `json:"heapLiveBytes"`      // go_gc_heap_live_bytes: reachable at the last GC
	HeapInuse    float64 `json:"heapInuseBytes"`     // go_memstats_heap_inuse_bytes
	Goroutines   float64 `json:"goroutines"`         // go_goroutines
	Threads      float64 `json:"threads"`            // go_threads
	PoolOpen     float64 `json:"poolConnections"`    // switchboard_db_pool_connections, every state
	PoolAcquired float64 `json:"poolAcquired"`       // switchboard_db_pool_connections{state="acquired"}
	Streams      float64 `json:"streams"`            // switchboard_streams
	Stored       float64 `json:"messagesStored"`     // switchboard_messages_total, every label
	ServeCPU     float64 `json:"serveCPUSeconds"`    // process_cpu_seconds_total
	FDsMetric    float64 `json:"openFDsFromMetrics"` // process_open_fds

	// From /proc/<pid>.
	RSS         float64 `json:"rssBytes"`
	OpenFDs     float64 `json:"openFDs"`
	TCPClients  float64 `json:"tcpClients"`  // established connections to the server's port
	TCPPostgres float64 `json:"tcpPostgres"` // established connections to PostgreSQL's port
	TCPOther    float64 `json:"tcpOther"`    // other sockets of the process (the listener…)

	// From PostgreSQL: client backends, the soak's own connection left out.
	Backends float64 `json:"postgresBackends"`

	// Load1 is the machine's one-minute load average.
	Load1 float64 `json:"load1"`

	// The load so far, counted by the clients.
	Calls         int64 `json:"calls"`
	Unexpected    int64 `json:"unexpectedErrors"`
	StreamsOpened int64 `json:"streamsOpened"`
	StreamsOpen   int64 `json:"clientStreamsOpen"`
	Started       int64 `json:"conversationsStarted"`
	Closed        int64 `json:"conversationsClosed"`
	Sent          int64 `json:"messagesSent"`
}

// sampler reads the server.
type sampler struct {
	srv    *serve
	owner  *pgx.Conn
	pgPort uint16
	http   *http.Client
}

func newSampler(srv *serve, owner *pgx.Conn, pgPort uint16) *sampler {
	return &sampler{srv: srv, owner: owner, pgPort: pgPort, http: &http.Client{Timeout: 10 * time.Second}}
}

// sampleTimeout bounds one sample's reads.
const sampleTimeout = 10 * time.Second

func (s *sampler) sample(ctx context.Context, phase string, elapsed time.Duration, c *calls) (Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	smp := Sample{Phase: phase, ElapsedSeconds: elapsed.Seconds()}
	if err := s.metrics(ctx, &smp); err != nil {
		return smp, fmt.Errorf("reading /metrics: %w", err)
	}
	if err := s.proc(&smp); err != nil {
		return smp, fmt.Errorf("reading /proc/%d: %w", s.srv.pid, err)
	}
	if err := s.owner.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`).Scan(&smp.Backends); err != nil {
		return smp, fmt.Errorf("reading pg_stat_activity: %w", err)
	}
	smp.Load1 = loadAverage()
	smp.Calls, smp.Unexpected = c.total.Load(), c.unexpected.Load()
	smp.StreamsOpened, smp.StreamsOpen = c.streamsOpened.Load(), c.streamsOpen.Load()
	smp.Started = c.count("ChatService/StartConversation", codeOK) - c.offline.Load()
	smp.Closed = c.count("ChatService/CloseConversation", codeOK) + c.count("SupervisionService/FinishConversation", codeOK)
	smp.Sent = c.count("ChatService/SendMessage", codeOK)
	return smp, nil
}

// metrics reads the server's /metrics.
func (s *sampler) metrics(ctx context.Context, smp *Sample) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.base+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		dst  *float64
	}{
		{"go_gc_heap_live_bytes", &smp.HeapLive},
		{"go_memstats_heap_inuse_bytes", &smp.HeapInuse},
		{"go_goroutines", &smp.Goroutines},
		{"go_threads", &smp.Threads},
		{"switchboard_db_pool_connections", &smp.PoolOpen},
		{"switchboard_streams", &smp.Streams},
		{"switchboard_messages_total", &smp.Stored},
		{"process_cpu_seconds_total", &smp.ServeCPU},
		{"process_open_fds", &smp.FDsMetric},
	} {
		f := families[m.name]
		if f == nil {
			return fmt.Errorf("the server exports no %s", m.name)
		}
		*m.dst = sum(f, nil)
	}
	smp.PoolAcquired = sum(families["switchboard_db_pool_connections"], map[string]string{"state": "acquired"})
	return nil
}

// sum adds up a family's series whose labels include match.
func sum(f *dto.MetricFamily, match map[string]string) float64 {
	var total float64
	for _, m := range f.GetMetric() {
		if !hasLabels(m, match) {
			continue
		}
		switch {
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

func hasLabels(m *dto.Metric, match map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := match[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			found++
		}
	}
	return found == len(match)
}

// proc reads the process from the outside: resident memory, open files, and its TCP
// sockets, matched by inode in the network namespace's tables.
func (s *sampler) proc(smp *Sample) error {
	dir := filepath.Join("/proc", strconv.Itoa(s.srv.pid))
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return fmt.Errorf("VmRSS %q: %w", v, err)
			}
			smp.RSS = kb * 1024
		}
	}
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return err
	}
	smp.OpenFDs = float64(len(fds))
	sockets := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok {
			sockets[strings.TrimSuffix(inode, "]")] = true
		}
	}
	for _, table := range []string{"net/tcp", "net/tcp6"} {
		if err := s.tcp(filepath.Join(dir, table), sockets, smp); err != nil {
			return err
		}
	}
	return nil
}

// tcpEstablished is the state of an established connection in /proc/net/tcp.
const tcpEstablished = "01"

// tcp counts the process's sockets of one table: sl local rem st … inode.
func (s *sampler) tcp(path string, sockets map[string]bool, smp *Sample) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // no IPv6
		}
		return err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	lines.Scan() // the header
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) < 10 || !sockets[fields[9]] {
			continue
		}
		local, remote, state := port(fields[1]), port(fields[2]), fields[3]
		switch {
		case state == tcpEstablished && local == s.srv.port:
			smp.TCPClients++
		case state == tcpEstablished && remote == int(s.pgPort):
			smp.TCPPostgres++
		default:
			smp.TCPOther++
		}
	}
	return lines.Err()
}

// port reads the port of an address of /proc/net/tcp: "0100007F:1F90".
func port(addr string) int {
	_, hex, ok := strings.Cut(addr, ":")
	if !ok {
		return -1
	}
	p, err := strconv.ParseInt(hex, 16, 32)
	if err != nil {
		return -1
	}
	return int(p)
}

// loadAverage is the machine's one-minute load average, -1 if unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	first, _, _ := strings.Cut(string(b), " ")
	v, err := strconv.ParseFloat(first, 64)
	if err != nil {
		return -1
	}
	return v
}
