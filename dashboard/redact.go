package dashboard

import (
	"encoding/json"
	"regexp"
	"strings"
)

// secretParam matches "name=value" pairs whose name suggests a secret, as
// in the query of a URL quoted by a *url.Error ("...?secret=XYZ&...").
var secretParam = regexp.MustCompile(`(?i)((?:access_token|token|secret|appsecret|password|passwd|signature|sig|credential|x-amz-[a-z-]+)=)[^&\s"'<>]+`)

// userinfo matches credentials in URLs ("redis://user:pass@host").
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)

// redact removes what could be a secret from a text that is about to be
// rendered: secret-looking query parameters and URL credentials.
func redact(s string) string {
	s = secretParam.ReplaceAllString(s, "${1}REDACTED")
	return userinfo.ReplaceAllString(s, "${1}REDACTED@")
}

// redactErr is redact(err.Error()), or "" for nil.
func redactErr(err error) string {
	if err == nil {
		return ""
	}
	return redact(err.Error())
}

// secretKey reports whether a JSON object key names something secret.
func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"secret", "token", "password", "passwd", "authorization", "credential", "webhook", "cookie"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// safeJSON re-encodes a JSON document with the values of secret-looking
// keys replaced and strings redacted. ok is false for anything not JSON.
func safeJSON(b []byte) (string, bool) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", false
	}
	out, err := json.Marshal(scrub(v))
	if err != nil {
		return "", false
	}
	return string(out), true
}

func scrub(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if secretKey(k) {
				v[k] = "REDACTED"
			} else {
				v[k] = scrub(x)
			}
		}
	case []any:
		for i, x := range v {
			v[i] = scrub(x)
		}
	case string:
		return redact(v)
	}
	return v
}
