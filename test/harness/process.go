package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a child process whose output is collected: ksguard, or a
// helper program such as the cert-manager test harness.
type Process struct {
	// Started is when the process was started.
	Started time.Time

	cmd       *exec.Cmd
	logs      *syncBuffer
	done      chan struct{}
	err       error // set when done is closed
	terminate sync.Once
}

// StartProcess starts bin with args. Its output goes to Logs() and, if echo
// is not nil, to echo.
func StartProcess(bin string, echo io.Writer, args ...string) (*Process, error) {
	p := &Process{logs: &syncBuffer{}, done: make(chan struct{}), cmd: exec.Command(bin, args...)}
	var out io.Writer = p.logs
	if echo != nil {
		out = io.MultiWriter(p.logs, echo)
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.Started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Exited returns the process's error if it has exited, and whether it has.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Terminate sends SIGTERM (once: a second one makes ksguard exit at once)
// and returns; Stop waits for the exit.
func (p *Process) Terminate() error {
	var err error
	p.terminate.Do(func() { err = p.cmd.Process.Signal(syscall.SIGTERM) })
	return err
}

// Signal sends sig to the process, every time it is called (Terminate
// sends SIGTERM once).
func (p *Process) Signal(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signalling %s: %w", p.cmd.Path, err)
	}
	return nil
}

// Wait waits up to d for the process to exit. It returns whether it
// exited, and its error if it did.
func (p *Process) Wait(d time.Duration) (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	case <-time.After(d):
		return false, nil
	}
}

// Stop sends SIGTERM and waits for the process to exit (killing it after
// 30 seconds). It returns the process's error: nil for a clean exit.
func (p *Process) Stop() error {
	if exited, err := p.Exited(); exited {
		return err
	}
	_ = p.Terminate()
	select {
	case <-p.done:
		return p.err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 30s of SIGTERM; killed", p.cmd.Path)
	}
}

// Logs returns everything the process has written so far.
func (p *Process) Logs() string { return p.logs.String() }

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
