package worker

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// AppSet is the set of apps a worker serves. It may change while the
// worker runs (the app registry); a worker asks it for each job's app, so
// that an app added, changed or removed takes effect without a restart.
type AppSet interface {
	// Lookup returns the app, building its token source on first use (so
	// that thousands of apps cost nothing until they have work). An app
	// the set does not serve is an *AppError.
	Lookup(ctx context.Context, appid string) (App, error)
	// List returns the apps served now, sorted by appid; their Tokens may
	// be nil (not built yet).
	List() []App
}

// AppError is Lookup's error for an app the set does not serve. A removed
// app's jobs are handed back until it is added again; an app never
// configured is a permanent failure of the job.
type AppError struct {
	App string
	// Removed: the app registry lists the app as removed.
	Removed bool
	// From says where the set's apps come from, for the message.
	From string
}

func (e *AppError) Error() string {
	if e.Removed {
		return fmt.Sprintf("app %q was removed from the app registry", e.App)
	}
	return fmt.Sprintf("app %q is not configured in this worker (apps come from %s)", e.App, cmp.Or(e.From, "its configuration"))
}

// StaticApps is a fixed set of apps with their token sources built.
type StaticApps []App

// Lookup returns the app or an *AppError.
func (s StaticApps) Lookup(_ context.Context, appid string) (App, error) {
	for _, a := range s {
		if a.AppID == appid {
			return a, nil
		}
	}
	return App{}, &AppError{App: appid}
}

// List returns the apps sorted by appid.
func (s StaticApps) List() []App {
	l := slices.Clone([]App(s))
	slices.SortFunc(l, func(a, b App) int { return cmp.Compare(a.AppID, b.AppID) })
	return l
}
