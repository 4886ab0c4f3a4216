package supervisionbench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

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
