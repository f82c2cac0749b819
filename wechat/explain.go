package wechat

// CodeInfo says what an errcode means and what to do about it, from the
// error table of WeChat's documentation (see ../shared/spec/wechat-api.md
// §3 and §5.4 in the project's design notes).
type CodeInfo struct {
	Code    int
	Meaning string
	// Class is how wxacode treats it: "retry" (transient, backoff),
	// "token" (refresh the token, call once more), "wait" (rate limit:
	// fleet-wide cooldown, not a failure), "permanent" (recorded, never
	// retried), "account" (an answer about the whole account: the app is
	// held and an alert logged, the job handed back) or "config" (an answer
	// of the token endpoints: the app is held until its configuration is
	// fixed).
	Class  string
	Action string
}

var codeInfos = map[int]CodeInfo{
	-1:    {-1, "WeChat busy (system error)", "retry", "Nothing: retried with backoff. If it persists for minutes, WeChat has an incident."},
	40001: {40001, "access token invalid or superseded (another holder called cgi-bin/token), or a wrong secret at fetch time", "token", "Retried once with a fresh token. If the fresh token is rejected too, the worker holds the app with an ALERT: check the app secret and that no other system calls cgi-bin/token for this appid."},
	40014: {40014, "malformed access token", "token", "Retried once with a fresh token; if it repeats, check the token source."},
	42001: {42001, "access token expired", "token", "Retried once with a fresh token."},
	41001: {41001, "access token missing", "permanent", "A bug in the token source: report it."},
	40097: {40097, "invalid args (e.g. an invalid env_version)", "permanent", "Fix the code options (env_version release|trial|develop, width 280-1280)."},
	40129: {40129, "scene contains characters WeChat refuses", "permanent", "Use only 0-9 A-Z a-z and !#$&'()*+,/:;=?@-._~ in scenes, or put the parameters behind a short scene (wxacode enqueue --params)."},
	40169: {40169, "scene empty or longer than 32 characters, or the body is not JSON", "permanent", "Shorten the scene to 32 characters (wxacode enqueue --params issues short scenes)."},
	41030: {41030, "invalid page: leading '/', a query, not in the published version (check_path true) or not in app.json", "permanent", "Publish the page, fix its path (no leading '/', no query), or use check_path=false with env_version trial/develop."},
	85096: {85096, "scancode_time used in the page", "permanent", "Remove scancode_time from the page."},
	45009: {45009, "rate limit reached (for interface B: the 5000/minute limit; the errmsg says 'daily quota'); from stable_token or cgi-bin/token: that endpoint's daily quota", "wait", "Nothing for one-off 45009s from interface B (fleet-wide cooldown). If sustained, another system shares the appid's quota: lower the cap (wxacode ratelimit set) or check wxacode quota. From a token endpoint the app is held and an ALERT logged: call clear_quota or wait for WeChat's daily reset, and find what fetches tokens so often."},
	45011: {45011, "minute-level throttle", "wait", "Nothing: cooled down to the next minute. If sustained, lower the cap."},
	47001: {47001, "data format error (body not JSON or a field of the wrong type)", "permanent", "A bug in the request: report it with the rid."},
	44002: {44002, "empty post data", "permanent", "A bug in the request: report it with the rid."},
	48001: {48001, "API unauthorized for this account (or a third party used its component token)", "account", "The worker holds the app (jobs handed back, not failed) and logs an ALERT. Check the account type and status; third parties must use the authorizer's token."},
	48004: {48004, "API banned for this account", "account", "The worker holds the app and logs an ALERT. See the account's notices in the WeChat admin console."},
	61007: {61007, "the authorizer did not grant the third party the needed permission set", "account", "The worker holds the app and logs an ALERT. Ask the authorizer to grant permission set 17."},
	50002: {50002, "account frozen or cancelled", "account", "The worker holds the app and logs an ALERT. See the WeChat admin console."},
	40002: {40002, "invalid grant_type (token endpoint)", "config", "A bug in the token request: report it."},
	40013: {40013, "invalid appid", "config", "Fix the appid in the app configuration."},
	41002: {41002, "appid missing (token endpoint)", "config", "Set the app's appid."},
	41004: {41004, "app secret missing (token endpoint)", "config", "Set the app's secret (WXACODE_SECRET_FILE or the apps file)."},
	40125: {40125, "invalid app secret", "config", "Fix the secret (WXACODE_SECRET_FILE or the apps file); reset it in the admin console if needed."},
	40164: {40164, "caller IP not in the app's IP whitelist", "config", "Add the workers' egress IPs to the whitelist in the admin console."},
	40243: {40243, "app secret frozen", "config", "Unfreeze or reset the secret in the admin console."},
	89503: {89503, "the call needs an admin's confirmation", "config", "An admin must confirm in WeChat; the app is held meanwhile."},
	89506: {89506, "an admin rejected calls from this IP (24 h)", "config", "Wait 24 h or call from another IP."},
	89507: {89507, "an admin rejected calls from this IP (1 h)", "config", "Wait 1 h or call from another IP."},
	50004: {50004, "token API use forbidden", "config", "See the WeChat admin console."},
	50007: {50007, "account frozen", "config", "See the WeChat admin console."},
}

// ExplainCode returns what WeChat's errcode means and what to do. ok is
// false for a code wxacode has no entry for (the returned info then says
// so, with the class its predicates give it).
func ExplainCode(code int) (info CodeInfo, ok bool) {
	if info, ok := codeInfos[code]; ok {
		return info, true
	}
	err := &APIError{Code: code}
	class := "retry"
	switch {
	case configReasons[code] != "":
		class = "config" // a token endpoint's answer: the client makes it a *ConfigError
	case IsPermanent(err):
		class = "permanent"
	}
	return CodeInfo{Code: code, Meaning: "not in wxacode's table of WeChat errcodes", Class: class,
		Action: "Look the rid up (wxacode rid RID --app APP) and WeChat's error code page."}, false
}
