// Package metrics defines wxacode's Prometheus series: the counters and
// histograms a worker process updates as it works (Worker), and collectors
// that read fleet-wide state from Redis when scraped (limiter state per
// app, ledger totals, campaign runs, asynq queues).
//
// A worker serves its own Worker series on --metrics-listen; the dashboard
// serves the fleet-wide collectors. Scraping the collectors costs a few
// Redis round trips per app and per run; a collector whose Redis read fails
// reports the error to Prometheus (the scrape shows it) instead of
// publishing stale values.
//
// No series carries a secret, a token, or a scene (scenes are unbounded in
// number and may be personal data): labels are app IDs, errcodes, results
// and run IDs only.
package metrics
