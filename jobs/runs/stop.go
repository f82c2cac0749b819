package runs

import (
	"context"
	"errors"
)

// ErrStopping is returned by Feed after Stop: the feeder hands its run back
// at once (its checkpoint is in Redis), so that a stopping worker does not
// hold a feed task until its shutdown timeout. The worker retries such a
// task within a second, on whichever worker takes it; it is not a failure.
var ErrStopping = errors.New("runs: feeder stopping")

// Stop makes every running and later Feed of this feeder return
// ErrStopping. Rows enqueued after the last checkpoint are enqueued again
// on resume and refused as duplicates, as after a crash.
func (f *Feeder) Stop() {
	ch := f.stopping()
	f.stopMu.Lock()
	defer f.stopMu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (f *Feeder) stopping() chan struct{} {
	f.stopMu.Lock()
	defer f.stopMu.Unlock()
	if f.stopCh == nil {
		f.stopCh = make(chan struct{})
	}
	return f.stopCh
}

// untilStopped returns ctx, cancelled also by Stop, and a func that
// releases it and turns a cancellation by Stop into ErrStopping.
func (f *Feeder) untilStopped(ctx context.Context) (context.Context, func(error) error) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := f.stopping()
	go func() {
		select {
		case <-stop:
			cancel(ErrStopping)
		case <-ctx.Done():
		}
	}()
	return ctx, func(err error) error {
		if err != nil && errors.Is(context.Cause(ctx), ErrStopping) {
			err = ErrStopping
		}
		cancel(nil)
		return err
	}
}
