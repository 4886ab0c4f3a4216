package supervisionbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// latencyOf sorts the durations (nanoseconds) and returns their percentiles.
func latencyOf(ns []int64) Latency {
	if len(ns) == 0 {
		return Latency{}
	}
	slices.Sort(ns)
	at := func(q float64) float64 {
		i := int(q*float64(len(ns))+0.999999) - 1
		return float64(ns[max(0, min(i, len(ns)-1))]) / 1e6
	}
	return Latency{Samples: len(ns), P50Ms: at(0.50), P99Ms: at(0.99), MaxMs: float64(ns[len(ns)-1]) / 1e6}
}

func readMachine() Machine {
	m := Machine{NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func readPostgres(ctx context.Context, conn *pgx.Conn, m *Machine) error {
	for _, s := range []struct {
		name string
		dst  *string
	}{
		{"server_version", &m.PostgresVersion},
		{"fsync", &m.Fsync},
		{"shared_buffers", &m.SharedBuffers},
		{"work_mem", &m.WorkMem},
	} {
		if err := conn.QueryRow(ctx, "SHOW "+s.name).Scan(s.dst); err != nil {
			return fmt.Errorf("reading PostgreSQL setting %s: %w", s.name, err)
		}
	}
	return nil
}

// postmasterPID reads the pid of the postmaster serving a data folder.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// clockTicks is the unit of CPU times in /proc (USER_HZ, 100 on every Linux platform Go
// supports).
const clockTicks = 100

// cpuSample is the CPU time of this process and of the private PostgreSQL, and the
// machine's busy and total CPU time, at one moment.
type cpuSample struct {
	wall        time.Time
	process     time.Duration
	postgres    time.Duration
	postgresOK  bool
	busy, total uint64 // jiffies of all CPUs
	machineOK   bool
}

// sampleCPU samples; postmaster is the private cluster's postmaster pid, 0 if unknown.
func sampleCPU(postmaster int) cpuSample {
	s := cpuSample{wall: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if postmaster > 0 {
		s.postgres, s.postgresOK = clusterCPU(postmaster)
	}
	s.busy, s.total, s.machineOK = machineJiffies()
	return s
}

// until is the CPU used between two samples, in cores.
func (a cpuSample) until(b cpuSample) CPU {
	c := CPU{PostgresCores: -1, OtherCores: -1, MachineBusy: -1}
	wall := b.wall.Sub(a.wall).Seconds()
	if wall <= 0 {
		return c
	}
	c.ProcessCores = (b.process - a.process).Seconds() / wall
	if a.postgresOK && b.postgresOK {
		c.PostgresCores = (b.postgres - a.postgres).Seconds() / wall
	}
	if a.machineOK && b.machineOK && b.total > a.total {
		c.MachineBusy = float64(b.busy-a.busy) / float64(b.total-a.total)
		if c.PostgresCores >= 0 {
			c.OtherCores = max(0, c.MachineBusy*float64(runtime.NumCPU())-c.ProcessCores-c.PostgresCores)
		}
	}
	return c
}

// clusterCPU is the CPU time of a postmaster, its live children, and the children it
// already reaped.
func clusterCPU(postmaster int) (time.Duration, bool) {
	f, ok := procStat(postmaster)
	if !ok {
		return 0, false
	}
	ticks := f[11] + f[12] + f[13] + f[14] // utime stime cutime cstime
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == postmaster {
			continue
		}
		if f, ok := procStat(pid); ok && f[1] == uint64(postmaster) {
			ticks += f[11] + f[12]
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, true
}

// procStat returns the numeric fields of /proc/<pid>/stat after the command name,
// numbered from 0 for the state field (so f[1] is ppid and f[11] utime).
func procStat(pid int) ([]uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 15 {
		return nil, false
	}
	out := make([]uint64, 15)
	for j := 1; j < 15; j++ {
		v, err := strconv.ParseInt(fields[j], 10, 64)
		if err != nil {
			return nil, false
		}
		out[j] = uint64(max(v, 0))
	}
	return out, true
}

// machineJiffies reads the first line of /proc/stat: busy and total time of all CPUs.
func machineJiffies() (busy, total uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, false
	}
	// user nice system idle iowait irq softirq steal (guest time is within user).
	var v [8]uint64
	for i := range v {
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return 0, 0, false
		}
		total += v[i]
	}
	return total - v[3] - v[4], total, true
}

// problems counts non-fatal errors by what was being done, keeping the first of each.
type problems struct {
	mu     sync.Mutex
	order  []string
	counts map[string]int
	first  map[string]string
}

func (p *problems) add(what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counts == nil {
		p.counts, p.first = map[string]int{}, map[string]string{}
	}
	if p.counts[what] == 0 {
		p.order = append(p.order, what)
		p.first[what] = err.Error()
	}
	p.counts[what]++
}

func (p *problems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, what := range p.order {
		out = append(out, fmt.Sprintf("%s: %d times (first: %s)", what, p.counts[what], p.first[what]))
	}
	return out
}

func (p *problems) summary() string {
	if l := p.list(); len(l) > 0 {
		return strings.Join(l, "; ")
	}
	return "no errors seen"
}
