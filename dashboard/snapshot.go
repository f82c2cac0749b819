package dashboard

import (
	"encoding/json"
	"time"

	"github.com/wxacode/wxacode/jobs/runs"
)

// Snapshot is everything the page shows, read at At. The page, the JSON
// API and (later) the CLI all render this one structure.
type Snapshot struct {
	At   time.Time   `json:"at"`
	Apps []AppStatus `json:"apps"`
	// AppsPage says which of the apps are shown.
	AppsPage AppsPage `json:"apps_page"`
	// Lanes adds up the asynq queues every app's jobs share (jobs.Lanes).
	Lanes QueueStatus `json:"lanes"`
	Runs  []RunStatus `json:"runs"`
	// StoreHolds are the live workers that hold their store: their jobs
	// are handed back without calling WeChat until a probe succeeds.
	StoreHolds []StoreHold `json:"store_holds"`
	// WorkersError is why the workers' states could not be read.
	WorkersError string `json:"workers_error,omitempty"`
}

// StoreHold is one worker's hold on its store.
type StoreHold struct {
	Worker string    `json:"worker"`
	Cause  string    `json:"cause"`
	Since  time.Time `json:"since,omitzero"`
}

// AppQuery selects the apps shown: those whose appid contains Q, page
// Page (from 1) of PerPage. Zero values: every app, page 1, 50 per page.
type AppQuery struct {
	Q             string
	Page, PerPage int
}

// Bounds of AppQuery.PerPage.
const (
	DefaultPerPage = 50
	MaxPerPage     = 500
)

// AppsPage is the page of apps a snapshot holds: Total apps match Q, of
// which Busy have work (an outcome, a campaign row or a run); busy apps
// come first. Only the apps of the page are read from Redis and, when
// more apps match than fit one page, an idle one not at all (Idle set on
// its row), so the cost of a refresh follows the work on the page, not
// the number of configured apps.
type AppsPage struct {
	Q       string `json:"q"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
	Total   int    `json:"total"`
	Busy    int    `json:"busy"`
	Pages   int    `json:"pages"`
}

// Prev and Next are the neighbouring page numbers, for the page's links.
func (p AppsPage) Prev() int { return max(p.Page-1, 1) }

// Next is the page after this one (at most Pages).
func (p AppsPage) Next() int { return min(p.Page+1, p.Pages) }

// AppStatus is one app: its limiter, token, ledger totals and queues.
// A part that could not be read is left zero and its error is set, so one
// broken app does not hide the others.
type AppStatus struct {
	App string `json:"app"`
	// Idle: the app has no work (configured only); nothing else was read.
	Idle                bool         `json:"idle,omitempty"`
	CapPerMinute        int          `json:"cap_per_minute"`
	EffectivePerMinute  float64      `json:"effective_per_minute"`
	CallsLastMinute     int64        `json:"calls_last_minute"`
	CooldownUntil       time.Time    `json:"cooldown_until,omitzero"`
	InCooldown          bool         `json:"in_cooldown"`
	RateLimitedLastHour int64        `json:"rate_limited_last_hour"`
	LastRateLimited     time.Time    `json:"last_rate_limited,omitzero"`
	LastErrCode         string       `json:"last_errcode,omitempty"`
	LimiterError        string       `json:"limiter_error,omitempty"`
	Token               *TokenStatus `json:"token,omitempty"`
	// ACUsed is the app's interface A+C codes sent, ever (nil: unknown).
	ACUsed *int   `json:"ac_used,omitempty"`
	Totals Totals `json:"totals"`
	// Queues adds up the app's per-app queues of a release before lanes,
	// which workers drain after an upgrade; zero once drained. The app's
	// jobs in the lanes are counted by Totals.Open.
	Queues QueueStatus `json:"queues"`
	// LiveWorkers is how many live workers serve the app (nil: unknown).
	LiveWorkers *int64 `json:"live_workers,omitempty"`
	// Unserved is set when the app has open jobs and no live worker
	// serves it.
	Unserved bool `json:"unserved,omitempty"`
	// Hold is the app's fleet-wide hold; nil when not held.
	Hold *AppHold `json:"hold,omitempty"`
}

// Totals are an app's counts. Enqueued counts jobs of `wxacode enqueue`,
// CampaignRows the rows campaign runs fed (of which Rejected were refused
// for their input and never queued); Stored, Skipped and Failed are the
// ledger's outcomes of both.
type Totals struct {
	Enqueued     int64 `json:"enqueued"`
	CampaignRows int64 `json:"campaign_rows"`
	Rejected     int64 `json:"rejected"`
	Stored       int64 `json:"stored"`
	Skipped      int64 `json:"skipped"`
	Failed       int64 `json:"failed"`
	// Cancelled is campaign rows of cancelled runs without an outcome.
	Cancelled int64 `json:"cancelled"`
	// Open is what is still to do: Enqueued + CampaignRows - Rejected -
	// Stored - Skipped - Failed - Cancelled (never below 0). The lanes are
	// shared, so this is how an app's queued work is counted.
	Open int64 `json:"open"`
}

func (t *Totals) setOpen() {
	t.Open = max(0, t.Enqueued+t.CampaignRows-t.Rejected-t.Stored-t.Skipped-t.Failed-t.Cancelled)
}

// QueueStatus adds up asynq queues (the lanes, or an app's legacy queues).
// Queues that do not exist yet count zero.
type QueueStatus struct {
	Names     []string `json:"names"`
	Pending   int      `json:"pending"`
	Active    int      `json:"active"`
	Scheduled int      `json:"scheduled"`
	Retry     int      `json:"retry"`
	Archived  int      `json:"archived"`
	Paused    []string `json:"paused,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// RunStatus is one campaign run with its progress, as `wxacode status RUN`
// prints it. The campaign definition is left out: it may hold a webhook URL
// with a token in it.
type RunStatus struct {
	ID        string    `json:"id"`
	Campaign  string    `json:"campaign"`
	App       string    `json:"app"`
	State     string    `json:"state"`
	Total     int64     `json:"total"`
	Window    int       `json:"window"`
	Created   time.Time `json:"created"`
	Scheduled time.Time `json:"scheduled,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	Fed       int64     `json:"fed"`
	Stored    int64     `json:"stored"`
	Skipped   int64     `json:"skipped"`
	Failed    int64     `json:"failed"`
	Retrying  int64     `json:"retrying"`
	InFlight  int64     `json:"in_flight"`
	// Cancelled is, in a cancelled run, the rows fed that never finished.
	Cancelled int64 `json:"cancelled"`
	// Done is rows with a final outcome (stored + skipped + failed).
	Done    int64   `json:"done"`
	Percent float64 `json:"percent"`
	// RatePerMinute is Done over the run's age (or its duration once done).
	RatePerMinute float64 `json:"rate_per_minute"`
	// ETA is the time left at the app's effective rate; nil when the run
	// is over or the rate is unknown.
	ETA            *Seconds       `json:"eta_seconds,omitempty"`
	FailuresByCode []CodeCount    `json:"failures_by_code"`
	LatestFailures []runs.Failure `json:"latest_failures"`
	Files          []File         `json:"files,omitempty"`
}

// CodeCount is how many of a run's rows failed with one errcode (0 for
// failures that are not WeChat errors).
type CodeCount struct {
	Code  int   `json:"errcode"`
	Count int64 `json:"count"`
	// Input marks the count of rows rejected for their input before
	// enqueue: never sent to WeChat, so without an errcode (Code is 0).
	Input bool `json:"input,omitempty"`
}

// File is a manifest or failures file of a finished run: its key in the
// store and, when the dashboard has a store, its URL.
type File struct {
	Name string `json:"name"`
	Key  string `json:"key"`
	URL  string `json:"url,omitempty"`
}

// Seconds is a duration written to JSON as seconds.
type Seconds time.Duration

// MarshalJSON writes the duration in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(s).Seconds()) }

// UnmarshalJSON reads seconds (for clients of the API).
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(f * float64(time.Second))
	return nil
}

func (s Seconds) String() string {
	d := time.Duration(s)
	if d > 0 && d < time.Second {
		return "under 1s"
	}
	if d >= runs.MaxLeft {
		return "more than 10 years"
	}
	return d.Round(time.Second).String()
}
