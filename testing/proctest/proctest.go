// Package proctest runs programs as processes in tests, as a user would:
// built once per test process, killed when the test process dies, their
// output read line by line as it comes. The operator's program's tests and
// the lab's use it.
//
// It is test support for this repository's tests, kept under testing/
// with the rest of it so that internal/ holds production code only; it
// makes no compatibility promise (see CHANGELOG.md).
package proctest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeout bounds how long the test waits for a process to say or do
// something: a hang fails the test instead of blocking it.
const Timeout = 60 * time.Second

// Build is a program that tests run as a process, built once per test
// process by go build (under -count=20 a link per test was a third of a
// package's run time). TestMain calls Remove after m.Run.
type Build struct {
	// Pkg is what go build builds, from the test's directory: "." for the
	// package under test, or an import path.
	Pkg string
	// Name is the program's file name.
	Name string

	mu   sync.Mutex
	dir  string // the build's own temporary directory
	path string
	err  error
}

// Into puts the program, built on first use, into dir (a hard link, or a
// copy across file systems) and returns its path there.
func (b *Build) Into(t testing.TB, dir string) string {
	t.Helper()
	built, err := b.get()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, b.Name)
	if err := os.Link(built, bin); err != nil {
		if err := copyFile(built, bin); err != nil {
			t.Fatalf("copy the built %s to %s: %v", b.Name, dir, err)
		}
	}
	return bin
}

func (b *Build) get() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.path != "" || b.err != nil {
		return b.path, b.err
	}
	dir, err := os.MkdirTemp("", "ordersync-proctest-")
	if err != nil {
		b.err = err
		return "", err
	}
	b.dir = dir
	path := filepath.Join(dir, b.Name)
	if out, err := exec.Command("go", "build", "-o", path, b.Pkg).CombinedOutput(); err != nil {
		b.err = fmt.Errorf("go build %s: %v\n%s", b.Pkg, err, out)
		return "", b.err
	}
	b.path = path
	return path, nil
}

// Remove deletes the build, if there was one.
func (b *Build) Remove() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// copyFile copies an executable file.
func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}

// Command is exec.Command for a program the test starts. The program
// gets SIGTERM when the test process dies, so that a test binary killed in
// the middle (a timeout, a ^C, a killed go test) leaves no serve or node
// running; each of them shuts down cleanly on SIGTERM.
func Command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return cmd
}

// MustContain fails the test, naming what, for every want that text does
// not contain.
func MustContain(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, text)
		}
	}
}

// Process is a running command whose stdout lines the test reads as
// they come.
type Process struct {
	Cmd    *exec.Cmd
	Lines  chan string // closed at EOF
	Stderr SyncBuffer
}

// SyncBuffer is a bytes.Buffer that a process writes while a test reads.
type SyncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // gets a value after a write, if it has none
}

// Write appends p and wakes a waiter.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{}, 1)
	}
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *SyncBuffer) changes() chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{}, 1)
	}
	return b.changed
}

// waitFor waits until the buffer holds sub, at most Timeout.
func (b *SyncBuffer) WaitFor(t *testing.T, sub string) {
	t.Helper()
	timeout := time.After(Timeout)
	for !strings.Contains(b.String(), sub) {
		select {
		case <-b.changes():
		case <-timeout:
			t.Fatalf("no %q after %v in:\n%s", sub, Timeout, b.String())
		}
	}
}

// String is what the buffer holds now.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start starts cmd, its stdout read line by line into Lines and its
// stderr into Stderr; the test's cleanup kills it if it still runs.
func Start(t *testing.T, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Cmd: cmd, Lines: make(chan string, 1024)}
	cmd.Stderr = &p.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	go func() {
		defer close(p.Lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.Lines <- sc.Text()
		}
	}()
	return p
}

// waitLine returns the first line (from here on) that match accepts, and
// fails the test if the process ends or Timeout passes first.
func (p *Process) WaitLine(t *testing.T, what string, match func(string) bool) string {
	t.Helper()
	timeout := time.After(Timeout)
	for {
		select {
		case line, ok := <-p.Lines:
			if !ok {
				t.Fatalf("process ended before %s; stderr:\n%s", what, p.Stderr.String())
			}
			if match(line) {
				return line
			}
		case <-timeout:
			t.Fatalf("no %s after %v; stderr:\n%s", what, Timeout, p.Stderr.String())
		}
	}
}

// signal sends sig and returns the exit code.
func (p *Process) Signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range p.Lines { // drain, so the process never blocks on stdout
		}
	}()
	timer := time.AfterFunc(Timeout, func() { p.Cmd.Process.Kill() })
	defer timer.Stop()
	_ = p.Cmd.Wait()
	return p.Cmd.ProcessState.ExitCode()
}
