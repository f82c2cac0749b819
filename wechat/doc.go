// Package wechat is the only code in the project that speaks WeChat's HTTP
// API: interface B (/wxa/getwxacodeunlimit, unlimited codes), interfaces A
// and C for one-off use, and the access tokens those calls need.
//
// Requests are validated before they are sent ([code.Params.Validate]), bodies
// are encoded with HTML escaping off, and responses are classified by their
// bytes ([Sniff]), never by Content-Type alone. Every failure is typed:
// [*APIError], [*UnknownResponseError], [*TransportError], [*ValidationError],
// [*ConfigError], [*TokenQuotaError], [*TokenRejectedError], [*BudgetError];
// the predicates [IsRetryable], [IsTokenInvalid], [IsRateLimited],
// [IsPermanent], [IsConfigError], [IsTokenQuota], [IsTokenRejected] and
// [IsAccountBlocked] tell the caller what to do next. A 45009 from a token
// endpoint is that endpoint's daily quota, never interface B's rate limit.
//
// [Client.Quota] (getApiQuota) reports an API's daily quota and rate limit,
// e.g. for interface B, and [Client.RID] (getRidInfo) what WeChat recorded of
// a failed call, with credentials redacted.
//
// Tokens come from a [TokenSource]. [NewStableTokenSource] is the default for
// an appid and secret: cgi-bin/stable_token in normal mode, cached in process
// and shared through Redis so a fleet makes about one fetch per token
// lifetime. App secrets and access tokens never appear in logs or error
// messages ([RedactURL]).
package wechat
