package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

// LatencyOf sorts the durations (nanoseconds) and returns their percentiles.
func LatencyOf(ns []int64) Latency {
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

// clockTicks is the unit of CPU times in /proc (USER_HZ, 100 on every Linux platform Go
// supports).
const clockTicks = 100

// CPUSample is the CPU time of this process and of the private PostgreSQL, and the
// machine's CPU counters, at one moment.
type CPUSample struct {
	wall              time.Time
	process           time.Duration
	postgres          time.Duration
	postgresOK        bool
	busy, total       uint64 // jiffies of all CPUs, from /proc/stat
	machineCountersOK bool
}

// SampleCPU samples; postmaster is the private cluster's postmaster pid, 0 if unknown.
func SampleCPU(postmaster int) CPUSample {
	s := CPUSample{wall: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if postmaster > 0 {
		s.postgres, s.postgresOK = clusterCPU(postmaster)
	}
	s.busy, s.total, s.machineCountersOK = machineJiffies()
	return s
}

// Until is the CPU used between two samples, in cores, and the machine's busy fraction.
func (a CPUSample) Until(b CPUSample) CPU {
	wall := b.wall.Sub(a.wall).Seconds()
	c := CPU{ProcessSeconds: (b.process - a.process).Seconds(), PostgresCores: -1, MachineBusy: -1, OtherCores: -1}
	if wall <= 0 {
		return c
	}
	c.ProcessCores = c.ProcessSeconds / wall
	if a.postgresOK && b.postgresOK {
		c.PostgresCores = (b.postgres - a.postgres).Seconds() / wall
	}
	if a.machineCountersOK && b.machineCountersOK && b.total > a.total {
		c.MachineBusy = float64(b.busy-a.busy) / float64(b.total-a.total)
		if c.PostgresCores >= 0 {
			cores := float64(runtime.NumCPU())
			c.OtherCores = max(0, c.MachineBusy*cores-c.ProcessCores-c.PostgresCores)
		}
	}
	return c
}

// clusterCPU is the CPU time of a postmaster, its live children, and the children it
// already reaped (backends that ended).
func clusterCPU(postmaster int) (time.Duration, bool) {
	f, ok := procStat(postmaster)
	if !ok {
		return 0, false
	}
	// utime stime cutime cstime
	ticks := f[11] + f[12] + f[13] + f[14]
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

// PostmasterPID reads the pid of the postmaster serving a data folder.
func PostmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
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
