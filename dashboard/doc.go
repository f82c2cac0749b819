// Package dashboard serves the operators' view of wxacode over HTTP: a
// server-rendered page of apps and campaign runs at /, the same data as
// JSON under /api/, the asynq dashboard (asynqmon) under /asynq/,
// Prometheus metrics at /metrics and health probes at /healthz and /readyz.
//
// Everything except the health probes and Config.Extra sits behind HTTP
// basic auth or a bearer token when either is configured; CheckListen tells
// the caller whether serving without them on an address is safe. asynqmon
// is read-only unless Config.Writable: its bulk actions are single Lua
// scripts that block Redis for seconds on million-task queues.
//
// Pages never show a secret: tokens are reported by state only, and error
// texts and task payloads pass through redaction before they are rendered.
package dashboard
