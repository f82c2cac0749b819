// Package wechattest is a fake of WeChat's code and token APIs, faithful
// enough to test, demonstrate and benchmark the whole system without WeChat.
//
// A *Server is an http.Handler: start it with httptest.NewServer in tests,
// or serve it on a port (wxacode fake-wechat). It serves
//
//	/cgi-bin/token, /cgi-bin/stable_token            access tokens
//	/wxa/getwxacodeunlimit                           interface B
//	/wxa/getwxacode, /cgi-bin/wxaapp/createwxaqrcode interfaces A and C
//	/cgi-bin/openapi/quota/get, .../openapi/rid/get  getApiQuota, getRidInfo
//	/_fake/stats, /_fake/config, /_fake/revoke, /_fake/burst   control
//	/_fake/seconds?appid=                            interface B per second
//
// and enforces the documented rules with the documented errcodes, WeChat's
// per-appid rate limit (45009) and the A+C budget (45029). Images are real,
// scannable QR codes that encode appid, page and scene as JSON, so any stored
// image can be traced back to its request with DecodeImage. Every error's
// rid can be looked up with rid/get (credentials removed), and quota/get
// reports each app's requests of the day. WeChat's quirks are kept: errors
// are HTTP 200 with Content-Type "application/json; encoding=utf-8", and PNG
// images (is_hyaline) are labelled image/jpeg.
//
// Like WeChat as observed, string fields are read without JSON unescaping:
// a scene sent as "a\u0026b" (encoding/json's default HTML escaping) is
// eight characters containing a backslash, not "a&b".
//
// Where the spec (../shared/spec/wechat-api.md) leaves a behaviour open the
// fake picks the documented one and keeps the other behind an option:
//   - width outside 280-1280: 40189 on B, A and C, the errcode WeChat
//     documents for a bad width (spec §3, interface A's page; §8 asks
//     whether B clamps instead). Options.ClampWidth (--clamp-width) clamps.
//   - 45011 "api minute-quota reach limit": the spec (§3) reports it on B
//     but gives no condition that tells it from 45009, so the fake sends it
//     only when told: Options.RateLimitCode 45011 (--rate-limit-errcode)
//     answers every refusal of the rate limit with it.
//   - A+C: 45029 once the app's distinct A and C bodies reach
//     Options.ACBudget (100,000 by default, --ac-budget to test it low), as
//     spec §4.2 states; the spec states no per-minute limit for A or C.
package wechattest
