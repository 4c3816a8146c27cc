package pgtest

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// superuser is the cluster's superuser; connections need no password
// (trust), and the server listens on 127.0.0.1 only.
const superuser = "ordersync"

// testUser is the system user the cluster runs as when the tests run as
// root (PostgreSQL refuses to run as root), created if missing.
const testUser = "ordersync-pgtest"

// cluster is one running server.
type cluster struct {
	dir      string
	port     int
	cmd      *exec.Cmd
	exited   chan struct{}
	admin    *sql.DB
	stopOnce sync.Once
	signals  chan os.Signal
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, c.port, db)
}

// start runs initdb and the server from bin.
func start(bin string) (*cluster, error) {
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ordersync-pg-*")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, exited: make(chan struct{})}
	// Interrupted (^C, or go test's timeout), the server and its
	// directory go too; Pdeathsig covers a kill of this process.
	c.signals = make(chan os.Signal, 1)
	signal.Notify(c.signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig, ok := <-c.signals
		if !ok {
			return
		}
		c.stop()
		signal.Reset(sig)
		syscall.Kill(os.Getpid(), sig.(syscall.Signal))
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			c.stop()
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = sysProcAttr(cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		c.stop()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A port that was free a moment ago may be taken by the time the
	// server binds it: try a few.
	for attempt := 0; ; attempt++ {
		err = c.run(bin, data, cred)
		if err == nil {
			break
		}
		if attempt == 2 || !strings.Contains(err.Error(), "in use") {
			c.stop()
			return nil, err
		}
		c.exited = make(chan struct{})
	}
	c.admin, err = sql.Open("pgx", c.url("postgres"))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = c.admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("connect to the test cluster: %w", err)
	}
	return c, nil
}

// run starts the server on a free port and waits until it accepts
// connections, which it says on stderr.
func (c *cluster) run(bin, data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port
	// Durability is not under test here: fsync off keeps the tests fast.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", c.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "logging_collector=off", "-c", "shared_buffers=32MB", "-c", "max_connections=200")
	cmd.Dir = c.dir
	cmd.SysProcAttr = sysProcAttr(cred)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.cmd = cmd
	ready := make(chan struct{})
	var logMu sync.Mutex
	var lastLines []string
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			lastLines = append(lastLines, line)
			if len(lastLines) > 20 {
				lastLines = lastLines[1:]
			}
			logMu.Unlock()
			if !signalled && strings.Contains(line, "ready to accept connections") {
				close(ready)
				signalled = true
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
		close(c.exited)
	}()
	select {
	case <-ready:
		return nil
	case <-c.exited:
		c.cmd = nil
		logMu.Lock()
		defer logMu.Unlock()
		return fmt.Errorf("postgres exited before accepting connections:\n%s", strings.Join(lastLines, "\n"))
	case <-time.After(60 * time.Second):
		return errors.New("postgres did not accept connections within 60 s")
	}
}

// stop shuts the server down (fast shutdown, then a kill) and removes
// its directory.
func (c *cluster) stop() {
	c.stopOnce.Do(func() {
		signal.Stop(c.signals)
		close(c.signals)
		if c.admin != nil {
			c.admin.Close()
		}
		if c.cmd != nil && c.cmd.Process != nil {
			c.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-c.exited:
			case <-time.After(10 * time.Second):
				c.cmd.Process.Kill()
				<-c.exited
			}
		}
		os.RemoveAll(c.dir)
	})
}

// freePort returns a TCP port on 127.0.0.1 that is free right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// credential is whom the server runs as: nil (this user) unless this is
// root, which PostgreSQL refuses; then testUser, created as a system user
// if it does not exist.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(testUser)
	if err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
			"--shell", "/usr/sbin/nologin", testUser).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "already exists") {
			return nil, fmt.Errorf("running as root, and cannot create the user %s to run PostgreSQL as: %v: %s", testUser, err, out)
		}
		if u, err = user.Lookup(testUser); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
