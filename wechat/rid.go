package wechat

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// RIDInfo is what WeChat recorded of the request behind a rid (getRidInfo),
// with the field names of its reply. WeChat returns the request's query
// with the caller's access_token in it; RID replaces every credential in
// RequestURL, RequestBody and ResponseBody with REDACTED before returning,
// so an RIDInfo can be printed or logged as it is.
type RIDInfo struct {
	InvokeTime   int64  `json:"invoke_time"`   // Unix seconds when the request arrived
	CostInMS     int64  `json:"cost_in_ms"`    // how long WeChat took to answer
	RequestURL   string `json:"request_url"`   // the query, e.g. "access_token=REDACTED"
	RequestBody  string `json:"request_body"`  // the POST body as sent
	ResponseBody string `json:"response_body"` // WeChat's reply, e.g. the error JSON
	ClientIP     string `json:"client_ip"`     // the caller's address as WeChat saw it
}

// Invoked is InvokeTime as a time.
func (r RIDInfo) Invoked() time.Time { return time.Unix(r.InvokeTime, 0) }

// redact replaces the credentials in every text field.
func (r RIDInfo) redact() RIDInfo {
	r.RequestURL = redactCredentials(r.RequestURL)
	r.RequestBody = redactCredentials(r.RequestBody)
	r.ResponseBody = redactCredentials(r.ResponseBody)
	return r
}

// RID looks up a rid (the suffix of an errmsg, APIError.RID) with a token of
// the account whose call failed; WeChat keeps rids for 7 days. A rid that is
// empty, longer than 128 bytes or holds anything but printable ASCII is a
// *ValidationError and nothing is sent.
//
// On a token-invalid error it refreshes the token once, like CodeUnlimited.
// Other failures: *APIError (ErrcodeRIDNotFound, ErrcodeRIDInvalid,
// ErrcodeNoPermission, or a global code such as -1), *UnknownResponseError
// (without a sample: the reply quotes other requests), *TransportError, or
// the token source's error.
func (c *Client) RID(ctx context.Context, ts TokenSource, rid string) (RIDInfo, error) {
	if err := validateRID(rid); err != nil {
		return RIDInfo{}, err
	}
	body := encodeJSON(struct {
		RID string `json:"rid"`
	}{rid})
	var reply struct {
		Request *RIDInfo `json:"request"`
	}
	err := c.withToken(ctx, ts, func(tok string) error {
		reply.Request = nil
		return c.openAPI(ctx, EndpointRID, tok, body, &reply)
	})
	switch {
	case err != nil:
		return RIDInfo{}, err
	case reply.Request == nil:
		return RIDInfo{}, &UnknownResponseError{Status: 200, Reason: "rid reply without request"}
	}
	return reply.Request.redact(), nil
}

// maxRIDLen bounds a rid; WeChat's are 26 characters
// ("61725984-6126f6f9-040f19c4").
const maxRIDLen = 128

// validateRID accepts any non-empty printable ASCII up to maxRIDLen: the
// rid format is not documented, so WeChat judges the rest (76002).
func validateRID(rid string) error {
	if rid == "" {
		return &ValidationError{"rid", rid, "empty; the rid from an errmsg (APIError.RID) is required"}
	}
	if len(rid) > maxRIDLen {
		return &ValidationError{"rid", rid, fmt.Sprintf("%d bytes, at most %d allowed", len(rid), maxRIDLen)}
	}
	for i := 0; i < len(rid); i++ {
		if rid[i] <= ' ' || rid[i] > '~' {
			return &ValidationError{"rid", rid, fmt.Sprintf("byte %#x at %d: only printable ASCII without spaces", rid[i], i)}
		}
	}
	return nil
}

// credentialField matches the value of a credential in JSON text, such as
// a request_body that carried "access_token": "...".
var credentialField = regexp.MustCompile(`(?i)("(?:access_token|authorizer_access_token|component_access_token|secret|appsecret|component_appsecret)"\s*:\s*")(?:[^"\\]|\\.)*"`)

// redactCredentials replaces credentials written as query parameters
// (RedactURL) or as JSON string fields with REDACTED.
func redactCredentials(s string) string {
	return credentialField.ReplaceAllString(RedactURL(s), `${1}REDACTED"`)
}
