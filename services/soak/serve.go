package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-chat/switchboard/services/limits"
)

// Starting and stopping serve.
const (
	// serveStartTimeout bounds the server's start: migrations, the pool, the listener.
	serveStartTimeout = time.Minute
	// serveStopTimeout bounds its drain after SIGTERM before it is killed.
	serveStopTimeout = 30 * time.Second
	// tailLines are the last lines of the server's log kept for error messages.
	tailLines = 30
)

// serve is `switchboard serve` running as a child process.
type serve struct {
	cmd  *exec.Cmd
	pid  int
	base string
	port int
	// done is closed when the process exited; err is then its exit status.
	done chan struct{}
	err  error

	mu   sync.Mutex
	last []string
}

// servingLine is what serve logs once it listens: `msg=serving addr=127.0.0.1:NNNN`.
var servingLine = regexp.MustCompile(`msg=serving addr=(\S+):(\d+)`)

// startServe runs the serve command on a loopback port of its choosing and waits until
// it is ready (its /readyz answers).
// peopleLimits are the server's limits for the simulated people. The limits per client
// address are raised a hundredfold, as testenv does: every simulated visitor calls from
// loopback, where real ones each have an address. Those per person follow the pace: at
// four times a person's speed, a person types and writes four times as fast.
func peopleLimits(speed float64) string {
	c := limits.Defaults().SharedAddress(100)
	pace := int(math.Ceil(speed))
	return fmt.Sprintf("visitorConversationsPerMinute=%d,visitorPageViewsPerMinute=%d,widgetKeyFailuresPerHour=%d,addressLoginFailuresPerHour=%d,"+
		"writerDraftsPerSecond=%d,visitorMessagesPerMinute=%d,agentMessagesPerMinute=%d",
		c.VisitorConversationsPerMinute, c.VisitorPageViewsPerMinute, c.WidgetKeyFailuresPerHour, c.AddressLoginFailuresPerHour,
		c.WriterDraftsPerSecond*pace, c.VisitorMessagesPerMinute*pace, c.AgentMessagesPerMinute*pace)
}

func startServe(ctx context.Context, o Options, databaseURL string) (*serve, error) {
	args := append(slices.Clone(o.Serve[1:]), "--database-url", databaseURL, "--listen", "127.0.0.1:0",
		"--max-conns", strconv.Itoa(int(o.MaxConns)), "--limits", peopleLimits(o.Speed))
	cmd := exec.Command(o.Serve[0], args...)
	// The server must not outlive the soak, even one killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Serve[0], err)
	}
	s := &serve{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	logTo := o.ServeLog
	if logTo == nil {
		logTo = io.Discard
	}
	listening := make(chan [2]string, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		lines.Buffer(make([]byte, 64<<10), 1<<20)
		for lines.Scan() {
			line := lines.Text()
			fmt.Fprintln(logTo, line)
			s.keep(line)
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case listening <- [2]string{m[1], m[2]}:
				default:
				}
			}
		}
		s.err = cmd.Wait()
		close(s.done)
	}()

	timeout := time.NewTimer(serveStartTimeout)
	defer timeout.Stop()
	select {
	case addr := <-listening:
		s.base = "http://" + addr[0] + ":" + addr[1]
		s.port, _ = strconv.Atoi(addr[1])
	case <-s.done:
		return nil, fmt.Errorf("serve exited at start: %w%s", s.err, s.tail())
	case <-timeout.C:
		_ = s.stop()
		return nil, fmt.Errorf("serve did not listen within %s%s", serveStartTimeout, s.tail())
	case <-ctx.Done():
		_ = s.stop()
		return nil, ctx.Err()
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls /readyz until the server says it is ready.
func (s *serve) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(serveStartTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if !s.alive() {
			return fmt.Errorf("serve exited at start: %w%s", s.err, s.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("serve not ready within %s: %w%s", serveStartTimeout, err, s.tail())
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// keep remembers a line of the server's log for error messages.
func (s *serve) keep(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = append(s.last, line)
	if len(s.last) > tailLines {
		s.last = s.last[len(s.last)-tailLines:]
	}
}

// tail is the end of the server's log, to append to an error.
func (s *serve) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.last) == 0 {
		return ""
	}
	return "\nthe server's last log lines:\n  " + strings.Join(s.last, "\n  ")
}

// alive reports whether the process is still running.
func (s *serve) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// exitErr is how the process ended.
func (s *serve) exitErr() error {
	if s.alive() {
		return nil
	}
	if s.err == nil {
		return errors.New("exit status 0")
	}
	return s.err
}

// stop asks the server to drain (SIGTERM), kills it if it does not within
// serveStopTimeout, and reports a drain that failed.
func (s *serve) stop() error {
	if !s.alive() {
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
		if s.err != nil {
			return fmt.Errorf("serve ended with %w%s", s.err, s.tail())
		}
		return nil
	case <-time.After(serveStopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("serve did not drain within %s after SIGTERM and was killed%s", serveStopTimeout, s.tail())
	}
}
