package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// chaosStopWait is how long a worker may take to exit after SIGTERM (its
// shutdown timeout is 30 s) before the suite calls it a hang and kills it.
const chaosStopWait = 60 * time.Second

// chaosFleet is the scenario's worker child processes, one per slot. A
// worker that exits without being told to is an event, and is restarted so
// that the run can still finish.
type chaosFleet struct {
	rig     *chaosRig
	mu      sync.Mutex
	byID    map[int]*chaosWorker
	started int // processes started so far, for log file names
	closing bool
}

type chaosWorker struct {
	slot     int
	cmd      *exec.Cmd
	exited   chan struct{}
	stopping atomic.Bool // set before the suite signals it
}

// start starts a worker in slot, replacing prev (nil: whatever is there);
// its output goes to worker-<slot>-<n>.log. It does nothing when the fleet
// is closing or the slot no longer holds prev, so that a slot never gets
// two processes.
func (f *chaosFleet) start(slot int, prev *chaosWorker) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing || (prev != nil && f.byID[slot] != prev) {
		return nil
	}
	f.started++
	name := fmt.Sprintf("worker-%d-%d.log", slot, f.started)
	logf, err := os.OpenFile(filepath.Join(f.rig.logDir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	cmd, err := f.rig.command(logf, "worker")
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		logf.Close()
		return err
	}
	w := &chaosWorker{slot: slot, cmd: cmd, exited: make(chan struct{})}
	f.byID[slot] = w
	go f.watch(w, logf, name)
	return nil
}

// watch waits for w to exit; an exit nobody asked for is an event.
func (f *chaosFleet) watch(w *chaosWorker, logf *os.File, name string) {
	err := w.cmd.Wait()
	logf.Close()
	close(w.exited)
	if w.stopping.Load() {
		return
	}
	f.rig.event("worker %d exited by itself (%v), see %s", w.slot, err, name)
	time.Sleep(time.Second)
	if err := f.start(w.slot, w); err != nil {
		f.rig.event("worker %d could not be restarted: %v", w.slot, err)
	}
}

// startAll starts a worker in every slot.
func (f *chaosFleet) startAll(n int) error {
	for slot := range n {
		if err := f.start(slot, nil); err != nil {
			return err
		}
	}
	return nil
}

// signal sends sig to the worker in slot and waits for it to exit; after
// SIGTERM a worker that takes longer than chaosStopWait is a hang (an
// event) and is killed. It returns the worker it stopped (nil if none).
func (f *chaosFleet) signal(slot int, sig syscall.Signal) *chaosWorker {
	f.mu.Lock()
	w := f.byID[slot]
	f.mu.Unlock()
	if w == nil {
		return nil
	}
	w.stopping.Store(true)
	_ = w.cmd.Process.Signal(sig)
	select {
	case <-w.exited:
	case <-time.After(chaosStopWait):
		f.rig.event("worker %d did not exit within %s of %s: killed", slot, chaosStopWait, sig)
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	return w
}

// restart signals the worker in slot, waits for it to exit and starts a
// new one there.
func (f *chaosFleet) restart(slot int, sig syscall.Signal) error {
	return f.start(slot, f.signal(slot, sig))
}

// signalAll signals every worker at once and waits for all to exit.
func (f *chaosFleet) signalAll(sig syscall.Signal) {
	f.mu.Lock()
	slots := make([]int, 0, len(f.byID))
	for s := range f.byID {
		slots = append(slots, s)
	}
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range slots {
		wg.Go(func() { f.signal(s, sig) })
	}
	wg.Wait()
}

// stopAll stops every worker with SIGTERM for good.
func (f *chaosFleet) stopAll() {
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
	f.signalAll(syscall.SIGTERM)
}

// command is this binary with args and the rig's environment, its output
// going to out.
func (r *chaosRig) command(out io.Writer, args ...string) (*exec.Cmd, error) {
	exe, err := executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), r.env...)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, nil
}

// runChild runs this binary with args to the end, keeping its output in
// the log file name, and returns its output.
func (r *chaosRig) runChild(ctx context.Context, name string, args ...string) (string, error) {
	var buf bytes.Buffer
	cmd, err := r.command(&buf, args...)
	if err != nil {
		return "", err
	}
	err = cmd.Start()
	if err == nil {
		stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
		err = cmd.Wait()
		stop()
	}
	if werr := os.WriteFile(filepath.Join(r.logDir, name), buf.Bytes(), 0o600); werr != nil && err == nil {
		err = werr
	}
	return buf.String(), err
}
