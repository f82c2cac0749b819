// Package apphold keeps the fleet-wide app holds: an app whose WeChat
// answers mean that no call can succeed until something changes (an
// account-level answer such as 48001, a configuration error of the token
// endpoint, its spent daily quota, a fresh token rejected twice) is held
// for every worker process and `wxacode gen`, until the hold's end or an
// operator's release (`wxacode holds release APP`).
//
// All holds live in ONE Redis hash (default key "wxacode:holds", field =
// appid, value = JSON). A process reads the whole hash at most once per
// Config.Refresh (2 s by default) and answers Held from that copy, so
// checking a hold costs no Redis command per job and nothing per app: with
// 10,000 apps and no hold, each process pays one HGETALL of an empty hash
// every 2 s. A hold recorded by this process is seen here at once and by
// the others within Refresh.
package apphold
