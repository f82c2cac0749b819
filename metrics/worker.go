package metrics

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Worker holds the series a worker process updates. Its methods are safe
// for concurrent use; a nil *Worker ignores every call, so code paths do
// not need to check whether metrics are on.
type Worker struct {
	calls        *prometheus.CounterVec
	callSeconds  *prometheus.HistogramVec
	limiterWait  *prometheus.HistogramVec
	rateLimited  *prometheus.CounterVec
	stores       *prometheus.CounterVec
	storedBytes  *prometheus.CounterVec
	jobs         *prometheus.CounterVec
	tokenFetches *prometheus.CounterVec
	storeHeld    *prometheus.GaugeVec
	// storageDownSince is when this process's storage became unavailable,
	// in Unix nanoseconds; 0 while it is reachable.
	storageDownSince atomic.Int64
}

// NewWorker creates the worker series and registers them with reg. It
// fails if reg already holds series of the same names.
func NewWorker(reg prometheus.Registerer) (*Worker, error) {
	w := &Worker{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxacode_wechat_calls_total",
			Help: "Interface B calls by app and errcode (0 = image returned, \"transport\" = no WeChat answer).",
		}, []string{"app", "errcode"}),
		callSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wxacode_wechat_call_duration_seconds",
			Help:    "Latency of interface B calls, whatever their result.",
			Buckets: []float64{.025, .05, .1, .2, .3, .5, .75, 1, 2, 5, 10, 30},
		}, []string{"app"}),
		limiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wxacode_limiter_wait_seconds",
			Help:    "Time a job waited for its slot of the fleet-wide budget (an app or a campaign share).",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 5, 15, 60},
		}, []string{"budget"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxacode_rate_limited_total",
			Help: "45009/45011 answers reported to the fleet-wide limiter (each starts or extends a cooldown).",
		}, []string{"app", "errcode"}),
		stores: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxacode_stores_total",
			Help: "Uploads of codes to storage by result (ok, error).",
		}, []string{"app", "result"}),
		storedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxacode_stored_bytes_total",
			Help: "Bytes of codes uploaded to storage.",
		}, []string{"app"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxacode_jobs_total",
			Help: "Finished job runs by outcome: stored, skipped (object already there), failed (final), retry, handed_back.",
		}, []string{"app", "outcome"}),
		tokenFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wxacode_token_fetches_total",
			Help: "Access-token requests this process sent to WeChat, by endpoint and result (ok, error).",
		}, []string{"app", "endpoint", "result"}),
		storeHeld: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wxacode_store_held",
			Help: "1 while this worker holds its store after an answer that means configuration (cause: bucket does not exist, access denied, directory not writable, ...), its jobs handed back without calling WeChat; 0 (cause \"\") otherwise.",
		}, []string{"cause"}),
	}
	w.storeHeld.WithLabelValues("").Set(0)
	// Computed at each scrape, so that the value grows during an outage
	// although no job reports anything new.
	storageDown := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wxacode_storage_unavailable_seconds",
		Help: "Seconds since this worker found storage unavailable (0 while it is reachable); meanwhile jobs wait instead of failing, up to --storage-outage-limit.",
	}, w.storageDownSeconds)
	for _, c := range []prometheus.Collector{w.calls, w.callSeconds, w.limiterWait, w.rateLimited, w.stores, w.storedBytes, w.jobs, w.tokenFetches, w.storeHeld, storageDown} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Call records one interface B call. errcode is 0 for an image, the
// WeChat errcode for an error answer, and -2 when WeChat gave no
// answer (transport error, timeout, unreadable body).
func (w *Worker) Call(app string, errcode int, d time.Duration) {
	if w == nil {
		return
	}
	code := strconv.Itoa(errcode)
	if errcode == NoAnswer {
		code = "transport"
	}
	w.calls.WithLabelValues(app, code).Inc()
	w.callSeconds.WithLabelValues(app).Observe(d.Seconds())
}

// NoAnswer is the errcode Call takes for a call without a WeChat answer.
const NoAnswer = -2

// LimiterWait records how long a job waited for a slot of budget.
func (w *Worker) LimiterWait(budget string, d time.Duration) {
	if w == nil {
		return
	}
	w.limiterWait.WithLabelValues(budget).Observe(d.Seconds())
}

// RateLimited records a 45009/45011 reported to the limiter.
func (w *Worker) RateLimited(app string, errcode int) {
	if w == nil {
		return
	}
	w.rateLimited.WithLabelValues(app, strconv.Itoa(errcode)).Inc()
}

// Store records one upload (bytes counted only when it succeeded).
func (w *Worker) Store(app string, bytes int, err error) {
	if w == nil {
		return
	}
	if err != nil {
		w.stores.WithLabelValues(app, "error").Inc()
		return
	}
	w.stores.WithLabelValues(app, "ok").Inc()
	w.storedBytes.WithLabelValues(app).Add(float64(bytes))
}

// Job outcomes for Job.
const (
	OutcomeStored     = "stored"
	OutcomeSkipped    = "skipped"
	OutcomeFailed     = "failed"
	OutcomeRetry      = "retry"
	OutcomeHandedBack = "handed_back"
)

// Job records how one run of a job ended.
func (w *Worker) Job(app, outcome string) {
	if w == nil {
		return
	}
	w.jobs.WithLabelValues(app, outcome).Inc()
}

// TokenFetch records one access-token request; it has the signature of
// wechat.Config.OnTokenFetch.
func (w *Worker) TokenFetch(app, endpoint string, err error) {
	if w == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	w.tokenFetches.WithLabelValues(app, endpoint, result).Inc()
}

// StorageUnavailable records that storage has been unavailable since
// since (the first error of the outage).
func (w *Worker) StorageUnavailable(since time.Time) {
	if w == nil {
		return
	}
	w.storageDownSince.Store(since.UnixNano())
}

// StorageAvailable records that storage answers again.
func (w *Worker) StorageAvailable() {
	if w == nil {
		return
	}
	w.storageDownSince.Store(0)
}

func (w *Worker) storageDownSeconds() float64 {
	since := w.storageDownSince.Load()
	if since == 0 {
		return 0
	}
	return time.Since(time.Unix(0, since)).Seconds()
}

// StoreHeld records that the worker holds its store for cause (one of
// storage.Diagnose's causes: a short phrase, never a URL or credential).
func (w *Worker) StoreHeld(cause string) {
	if w == nil {
		return
	}
	w.storeHeld.Reset()
	w.storeHeld.WithLabelValues(cause).Set(1)
}

// StoreReleased records that the store hold was lifted.
func (w *Worker) StoreReleased() {
	if w == nil {
		return
	}
	w.storeHeld.Reset()
	w.storeHeld.WithLabelValues("").Set(0)
}
