// Package localpg runs a private PostgreSQL cluster from the PostgreSQL server
// binaries installed on the machine (initdb, pg_ctl, postgres).
//
// It is used by `switchboard dev`, which keeps the cluster in a data folder
// that is reused across runs, and by tests, which put it in a temporary
// folder that is thrown away (see the pgtest subpackage). The server listens
// on 127.0.0.1 only, trusts every local connection, and keeps fsync on so
// that commit timings are real.
//
// When the process runs as root, initdb and postgres refuse to run, so the
// binaries are run as the unprivileged `postgres` system user and the data
// folder is handed over to that user.
package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultSuperuser is the superuser role created by initdb when
// Options.Superuser is empty.
const DefaultSuperuser = "switchboard"

const (
	logFileName = "postgres.log"
	// maxSocketPath is the longest unix socket path the kernel accepts
	// (sun_path is 108 bytes including the terminating NUL).
	maxSocketPath = 107
	readyTimeout  = 30 * time.Second
	stopTimeout   = 90 * time.Second
	// runAsUser is the account the binaries run as when we are root.
	runAsUser = "postgres"
)

// Options configures a cluster started by Start.
type Options struct {
	// DataDir is the cluster's data folder (required). It is created if
	// missing; initdb runs only when it holds no cluster yet (no PG_VERSION
	// file), so starting again on the same folder reuses its data. The
	// server log is written to <DataDir>/postgres.log.
	DataDir string
	// Port is the TCP port on 127.0.0.1 to listen on; 0 picks a free one.
	Port int
	// Superuser is the superuser role initdb creates; default "switchboard".
	// It only matters when the cluster is created.
	Superuser string
	// Logf, if set, receives progress messages.
	Logf func(format string, args ...any)
}

// Cluster is a running PostgreSQL server started by Start. Stop it with Stop.
type Cluster struct {
	binDir    string
	dataDir   string
	port      int
	superuser string
	logf      func(format string, args ...any)
	cred      *syscall.Credential // nil when the binaries run as ourselves
	sockDir   string              // private socket folder to remove on Stop, if any

	mu      sync.Mutex
	stopped bool
}

// Start starts a cluster in o.DataDir, creating it with initdb first when the
// folder holds no cluster, and returns once the server accepts connections.
// It fails with a clear error if a server from the same data folder is still
// running; a postmaster.pid left behind by a killed run is cleaned up by
// postgres itself.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.DataDir == "" {
		return nil, errors.New("starting postgres: Options.DataDir is required")
	}
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("starting postgres: resolving data dir %q: %w", o.DataDir, err)
	}
	// pg_ctl passes the data dir and log path to /bin/sh inside double quotes.
	if strings.ContainsAny(dir, "\"$`\\\n") {
		return nil, fmt.Errorf("starting postgres: data dir %q contains a character pg_ctl cannot quote (\" $ ` \\ or newline)", dir)
	}
	c := &Cluster{
		dataDir:   dir,
		port:      o.Port,
		superuser: o.Superuser,
		logf:      o.Logf,
	}
	if c.superuser == "" {
		c.superuser = DefaultSuperuser
	}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	if c.binDir, err = FindBinDir(); err != nil {
		return nil, fmt.Errorf("starting postgres in %s: %w", dir, err)
	}
	if os.Geteuid() == 0 {
		if c.cred, err = lookupRunAs(); err != nil {
			return nil, fmt.Errorf("starting postgres in %s: %w", dir, err)
		}
	}
	if err := c.prepareDataDir(); err != nil {
		return nil, fmt.Errorf("starting postgres in %s: %w", dir, err)
	}
	if err := c.checkNotRunning(); err != nil {
		return nil, fmt.Errorf("starting postgres in %s: %w", dir, err)
	}
	if err := c.initdbIfNeeded(ctx); err != nil {
		return nil, fmt.Errorf("starting postgres in %s: %w", dir, err)
	}
	if c.port == 0 {
		if c.port, err = freePort(); err != nil {
			return nil, fmt.Errorf("starting postgres in %s: picking a free port: %w", dir, err)
		}
	}
	if err := c.start(ctx); err != nil {
		c.removeSockDir()
		return nil, fmt.Errorf("starting postgres in %s: %w", dir, err)
	}
	if err := c.waitReady(ctx); err != nil {
		err = fmt.Errorf("starting postgres in %s: waiting for it to accept connections on port %d: %w%s", dir, c.port, err, c.logTail())
		if stopErr := c.Stop(); stopErr != nil {
			c.logf("localpg: stopping after failed start: %v", stopErr)
		}
		return nil, err
	}
	c.logf("localpg: postgres running in %s on 127.0.0.1:%d", dir, c.port)
	return c, nil
}

// URL returns the connection URL of the given database on this cluster, as
// the superuser: postgres://<superuser>@127.0.0.1:<port>/<database>?sslmode=disable.
func (c *Cluster) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(c.superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on (on 127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// CreateDatabase creates the named database. A database that already exists
// is not an error.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("creating database %q: connecting: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42P04": // duplicate_database
			return nil
		case "23505": // unique_violation on pg_database: a concurrent CREATE of the same name won
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("creating database %q: %w", name, err)
	}
	return nil
}

// Stop shuts the server down (pg_ctl stop -m fast) and waits for it to exit.
// Calling it again after it succeeded does nothing.
func (c *Cluster) Stop() error { return c.stop("fast") }

// StopImmediate stops the server as a crash would (pg_ctl stop -m immediate):
// connections are cut at once and nothing is checkpointed, so the next Start
// on the same DataDir recovers from the WAL. Fault drills use it; Start a new
// Cluster with the same DataDir and Port to bring the server back.
func (c *Cluster) StopImmediate() error { return c.stop("immediate") }

func (c *Cluster) stop(mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	out, err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir, "-m", mode, "-w", "-t", strconv.Itoa(int(stopTimeout/time.Second)-5))
	if err != nil {
		// pg_ctl fails when there is no server; that counts as stopped.
		if _, statErr := os.Stat(filepath.Join(c.dataDir, "postmaster.pid")); !errors.Is(statErr, fs.ErrNotExist) {
			return fmt.Errorf("stopping postgres in %s: %w: %s", c.dataDir, err, bytes.TrimSpace(out))
		}
	}
	c.stopped = true
	c.removeSockDir()
	c.logf("localpg: postgres in %s stopped", c.dataDir)
	return nil
}

// Kill stops the server the way a crash would (pg_ctl stop -m immediate): every backend
// ends at once, without a checkpoint, and the next start recovers from the write-ahead
// log. Fault drills use it; Restart brings the server back.
func (c *Cluster) Kill() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if out, err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir, "-m", "immediate", "-w"); err != nil {
		return fmt.Errorf("killing postgres in %s: %w: %s", c.dataDir, err, bytes.TrimSpace(out))
	}
	c.stopped = true
	c.removeSockDir()
	c.logf("localpg: postgres in %s killed (immediate shutdown)", c.dataDir)
	return nil
}

// Restart starts a stopped or killed server again on the same data folder and port, and
// returns once it accepts connections. Restarting a running server does nothing.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		return nil
	}
	if err := c.start(ctx); err != nil {
		return fmt.Errorf("restarting postgres in %s: %w", c.dataDir, err)
	}
	c.stopped = false // from here Stop has a server to stop, ready or not
	if err := c.waitReady(ctx); err != nil {
		return fmt.Errorf("restarting postgres in %s: waiting for it to accept connections on port %d: %w%s", c.dataDir, c.port, err, c.logTail())
	}
	c.logf("localpg: postgres running again in %s on 127.0.0.1:%d", c.dataDir, c.port)
	return nil
}

// FindBinDir returns the folder holding the PostgreSQL server binaries: the
// folder of initdb if it is on PATH, else the highest version under
// /usr/lib/postgresql/*/bin (where Debian and Ubuntu install them).
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	type cand struct {
		dir string
		ver []int
	}
	var cands []cand
	for _, m := range matches {
		dir := filepath.Dir(m)
		if !isExecutable(m) || !isExecutable(filepath.Join(dir, "pg_ctl")) || !isExecutable(filepath.Join(dir, "postgres")) {
			continue
		}
		var ver []int
		for _, part := range strings.Split(filepath.Base(filepath.Dir(dir)), ".") {
			n, err := strconv.Atoi(part)
			if err != nil {
				n = -1
			}
			ver = append(ver, n)
		}
		cands = append(cands, cand{dir, ver})
	}
	if len(cands) == 0 {
		return "", errors.New("no PostgreSQL server binaries found: initdb is not on PATH and there is none under /usr/lib/postgresql/*/bin; install the Debian `postgresql` package (apt-get install postgresql)")
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i].ver, cands[j].ver
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] > b[k]
			}
		}
		return len(a) > len(b)
	})
	return cands[0].dir, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// lookupRunAs returns the credential of the unprivileged user the binaries
// run as when we are root.
func lookupRunAs() (*syscall.Credential, error) {
	u, err := user.Lookup(runAsUser)
	if err != nil {
		return nil, fmt.Errorf("running as root, and initdb/postgres refuse to run as root, so they must run as the %q system user, but looking it up failed (install the Debian `postgresql` package, which creates it): %w", runAsUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parsing uid %q of user %q: %w", u.Uid, runAsUser, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parsing gid %q of user %q: %w", u.Gid, runAsUser, err)
	}
	// No supplementary groups: the child drops root's groups.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepareDataDir creates the data folder and, when running the binaries as
// another user, makes sure that user can reach it and owns it.
func (c *Cluster) prepareDataDir() error {
	// Find the folders MkdirAll will create, outermost last.
	var created []string
	existing := c.dataDir
	for {
		_, err := os.Stat(existing)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checking data dir: %w", err)
		}
		created = append(created, existing)
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	if c.cred != nil {
		// Every existing folder above the data dir must be traversable.
		start := existing
		if len(created) == 0 {
			start = filepath.Dir(c.dataDir)
		}
		for p := start; ; p = filepath.Dir(p) {
			if err := checkTraversable(p, c.cred); err != nil {
				return err
			}
			if filepath.Dir(p) == p {
				break
			}
		}
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	if c.cred == nil {
		return nil
	}
	uid, gid := int(c.cred.Uid), int(c.cred.Gid)
	for _, p := range created {
		if p == c.dataDir {
			continue
		}
		if err := os.Chmod(p, 0o755); err != nil {
			return fmt.Errorf("making %s traversable: %w", p, err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("handing %s to user %q: %w", p, runAsUser, err)
		}
	}
	st, err := os.Stat(c.dataDir)
	if err != nil {
		return fmt.Errorf("checking data dir: %w", err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid == c.cred.Uid {
		return nil
	}
	c.logf("localpg: handing %s to user %q", c.dataDir, runAsUser)
	err = filepath.WalkDir(c.dataDir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("handing data dir to user %q: %w", runAsUser, err)
	}
	return nil
}

// checkTraversable reports whether the user in cred may enter folder p,
// judged by its mode bits (the user runs without supplementary groups).
func checkTraversable(p string, cred *syscall.Credential) error {
	st, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("checking folder %s: %w", p, err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	perm := st.Mode().Perm()
	var bit fs.FileMode
	switch {
	case sys.Uid == cred.Uid:
		bit = 0o100
	case sys.Gid == cred.Gid:
		bit = 0o010
	default:
		bit = 0o001
	}
	if perm&bit == 0 {
		return fmt.Errorf("folder %s (mode %v, owner uid %d) cannot be traversed by user %q (uid %d), which postgres runs as because we are root; put the data dir elsewhere (e.g. under %s) or make that folder traversable (chmod o+x)", p, perm, sys.Uid, runAsUser, cred.Uid, os.TempDir())
	}
	return nil
}

// checkNotRunning fails if postmaster.pid names a live postgres process
// serving this data dir. A stale file, left by a killed run, is removed.
// (postgres would remove it itself, except when the old pid is a zombie that
// nobody reaped, which it takes for a live server.)
func (c *Cluster) checkNotRunning() error {
	pidFile := filepath.Join(c.dataDir, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading postmaster.pid: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return nil // not ours to judge: postgres will deal with it
	}
	if postmasterAlive(pid, c.dataDir) {
		return fmt.Errorf("a postgres server (pid %d) is still running on this data dir; stop it first (%s stop -D %s)", pid, filepath.Join(c.binDir, "pg_ctl"), c.dataDir)
	}
	c.logf("localpg: removing stale postmaster.pid (pid %d is not a running postgres)", pid)
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale postmaster.pid: %w", err)
	}
	return nil
}

// postmasterAlive reports whether pid is a running (not zombie) postgres
// process serving dataDir, as far as /proc tells.
func postmasterAlive(pid int, dataDir string) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill
	}
	// Format: pid (comm) state ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return true
	}
	comm := string(stat[bytes.IndexByte(stat, '(')+1 : i])
	if rest := bytes.TrimSpace(stat[i+1:]); len(rest) > 0 && (rest[0] == 'Z' || rest[0] == 'X') {
		return false // exited, not yet reaped
	}
	if !strings.HasPrefix(comm, "postgres") {
		return false // pid reused by another program
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd != dataDir {
		return false // a postgres serving some other data dir
	}
	return true
}

func (c *Cluster) initdbIfNeeded(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err == nil {
		c.logf("localpg: reusing the cluster in %s", c.dataDir)
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking for an existing cluster: %w", err)
	}
	c.logf("localpg: creating a cluster in %s (initdb)", c.dataDir)
	args := []string{"-D", c.dataDir, "--auth=trust", "--username=" + c.superuser, "--encoding=UTF8"}
	out, err := c.run(ctx, "initdb", append(args, "--locale=C.UTF-8")...)
	if err != nil && ctx.Err() == nil {
		c.logf("localpg: initdb with locale C.UTF-8 failed, retrying with locale C: %s", lastLines(out, 3))
		out, err = c.run(ctx, "initdb", append(args, "--locale=C")...)
	}
	if err != nil {
		return fmt.Errorf("running initdb: %w\n%s", err, lastLines(out, 20))
	}
	return nil
}

func (c *Cluster) start(ctx context.Context) error {
	sockDir, err := c.socketDir()
	if err != nil {
		return err
	}
	opts := strings.Join([]string{
		"-c listen_addresses=127.0.0.1",
		"-p " + strconv.Itoa(c.port),
		"-c " + shellQuote("unix_socket_directories="+sockDir),
		"-c fsync=on",
		"-c max_connections=300",
		"-c shared_buffers=128MB",
	}, " ")
	logPath := filepath.Join(c.dataDir, logFileName)
	c.logf("localpg: starting postgres in %s on port %d (log: %s)", c.dataDir, c.port, logPath)
	out, err := c.run(ctx, "pg_ctl", "start", "-D", c.dataDir, "-w", "-t", strconv.Itoa(int(readyTimeout/time.Second)), "-l", logPath, "-o", opts)
	if err != nil {
		return fmt.Errorf("running pg_ctl start: %w\n%s%s", err, bytes.TrimSpace(out), c.logTail())
	}
	return nil
}

// socketDir picks the unix socket folder: the data dir when the socket path
// fits the kernel limit and needs no quoting, else a fresh short folder
// under os.TempDir(), else none ("" disables unix sockets).
func (c *Cluster) socketDir() (string, error) {
	fits := func(dir string) bool {
		return len(dir)+len("/.s.PGSQL.")+len(strconv.Itoa(c.port)) <= maxSocketPath && safePath(dir)
	}
	if fits(c.dataDir) {
		return c.dataDir, nil
	}
	if tmp := os.TempDir(); fits(filepath.Join(tmp, "pgsock-0123456789")) {
		dir, err := os.MkdirTemp(tmp, "pgsock-")
		if err != nil {
			return "", fmt.Errorf("creating a short unix socket dir: %w", err)
		}
		if c.cred != nil {
			if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				os.Remove(dir)
				return "", fmt.Errorf("handing socket dir %s to user %q: %w", dir, runAsUser, err)
			}
		}
		c.sockDir = dir
		c.logf("localpg: data dir path is too long for a unix socket; using %s", dir)
		return dir, nil
	}
	c.logf("localpg: no short folder for the unix socket; TCP only")
	return "", nil
}

func safePath(p string) bool {
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+", r)) {
			return false
		}
	}
	return true
}

func (c *Cluster) removeSockDir() {
	if c.sockDir != "" {
		os.RemoveAll(c.sockDir)
		c.sockDir = ""
	}
}

// waitReady connects with backoff until the server answers or readyTimeout
// passes.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	delay := 10 * time.Millisecond
	for {
		attemptCtx, attemptCancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := pgx.Connect(attemptCtx, c.URL("postgres"))
		if err == nil {
			err = conn.Ping(attemptCtx)
			conn.Close(context.Background())
		}
		attemptCancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// run runs one of the PostgreSQL binaries, as the unprivileged user when we
// are root, and returns its combined output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = "/"
	cmd.Env = childEnv()
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.Bytes(), err
}

// childEnv is our environment without PG* variables, which would change
// what the binaries do, and with English messages.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_ALL=") || strings.HasPrefix(kv, "LC_MESSAGES=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_MESSAGES=C")
}

// logTail returns the end of postgres.log, formatted to append to an error.
func (c *Cluster) logTail() string {
	f, err := os.Open(filepath.Join(c.dataDir, logFileName))
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxBytes = 4096
	if st, err := f.Stat(); err == nil && st.Size() > maxBytes {
		f.Seek(st.Size()-maxBytes, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	tail := lastLines(b, 20)
	if tail == "" {
		return ""
	}
	return "\n--- tail of " + filepath.Join(c.dataDir, logFileName) + " ---\n" + tail
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
