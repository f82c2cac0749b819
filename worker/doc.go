// Package worker runs scene jobs: the asynq server and the handler that ties
// the fleet-wide limiter, access tokens, the WeChat client, storage and the
// ledger together.
//
// For each job the handler (0) checks it with enqueue's rules
// (jobs.Validate) and its key with the store's (storage.CheckCodeKey): a
// job breaking them is a recorded failure on its first try; (1) skips it
// when its key already holds the same code (appid, page, scene and
// rendering, from the object's metadata), or with Force regenerates it;
// a key holding another code is a recorded failure "key holds another
// code", Force or not, so no code is ever stored over another's object;
// (2) waits for the app's fleet-wide limiter, (3) calls
// interface B with the app's shared token, (4) stores the image under its
// deterministic key, and (5) records the outcome in the ledger. Errors decide
// the path:
//
//   - rate limited (45009/45011): fleet-wide cooldown, then the job waits or
//     is handed back to asynq as a non-failure; it is never archived for it.
//   - token invalid (40001/40014/42001): the client invalidates the token,
//     gets another and calls once more, after taking another limiter slot.
//     A fresh token rejected too pauses the app 10 s in this process (the
//     jobs in flight reject the same fresh token: one event); another fresh
//     token rejected within 2 minutes holds the app for the fleet for
//     ConfigHold with an ALERT log line; if the source offers the rejected token again
//     (an external source not yet updated), nothing is sent and the app is
//     held until the source offers another token (checked every 30 s).
//   - transient (-1, 5xx, timeouts, unknown bodies, Redis down, storage
//     errors other than the next case): exponential backoff with jitter,
//     MaxAttempts times, then a recorded final failure.
//   - storage unavailable (unreachable, 5xx, SlowDown, disk full: see
//     storage.IsUnavailable), at the existence check or after the put's
//     StoreAttempts: the job waits like in a cooldown, handed back as a
//     non-failure after 5 s to 1 min (longer as the outage lasts), and does
//     not use up its tries; a fetched image stays parked. Only after
//     StorageOutageLimit (default 1h) without a storage success in this
//     process do these errors count as transient again.
//   - parked images at ParkMaxBytes (default 256 MiB per app, counted
//     fleet-wide in Redis, see park.go): a job that would call WeChat is
//     handed back as a non-failure first, so that a store that keeps
//     failing neither fills Redis nor spends quota.
//   - permanent (40097, 40129, 40169, 41030, 47001, 85096, bad payloads,
//     invalid parameters or keys, a key holding another code): recorded
//     with errcode, errmsg and rid; no retry.
//   - about the account (48001, 48004, 50002, 61007,
//     wechat.IsAccountBlocked): the app is held for the fleet until an
//     operator releases it (AccountHold) with an ALERT log line and the job
//     handed back, instead of failing job after job.
//   - configuration (bad secret, IP not whitelisted, ...): the app is held
//     for the fleet for ConfigHold (89506: IPRejectedDayHold, 24 h; 89507:
//     IPRejectedHourHold, 1 h, as WeChat states) and its jobs are handed
//     back as non-failures: no retry storm against the token endpoint.
//   - token endpoint's daily quota (45009 from stable_token or cgi-bin/token,
//     wechat.TokenQuotaError): not interface B's limit, so no cooldown and no
//     lower rate; the app is held for the fleet for ConfigHold with an
//     ALERT log line.
//
// Fleet holds (FleetHold) live in one Redis hash (package apphold), read by
// each process at most every 2 s: no Redis command per job. A restart
// releases none; `wxacode holds release APP` releases one.
//
// An image fetched but not stored is kept in Redis for a day, so the retry
// stores it without calling WeChat again.
package worker
