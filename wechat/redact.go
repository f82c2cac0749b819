package wechat

import (
	"errors"
	"net/url"
	"regexp"
)

// secretParam matches the value of every query parameter that carries a
// credential, wherever it appears in a string.
var secretParam = regexp.MustCompile(`(?i)((?:^|[?&;\s"'])(?:access_token|authorizer_access_token|component_access_token|secret|appsecret|component_appsecret)=)[^&#\s"']*`)

// RedactURL replaces the values of access_token=, secret= and similar query
// parameters in u with "REDACTED". It works on any string, so it can also
// clean error texts that embed a URL.
func RedactURL(u string) string {
	return secretParam.ReplaceAllString(u, "${1}REDACTED")
}

// redactErr removes credentials from the URL that net/http puts in its
// errors ("Post \"https://...?access_token=...\": ...").
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
	}
	return err
}
