package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// WeChat's openApi management endpoints (getApiQuota, getRidInfo).
const (
	EndpointQuota = "/cgi-bin/openapi/quota/get"
	EndpointRID   = "/cgi-bin/openapi/rid/get"
)

// Errcodes of the openApi endpoints. All are permanent for the request
// ([IsPermanent]): asking again with the same cgi_path, rid and token gives
// the same answer.
const (
	// ErrcodeRIDNotFound: the rid is unknown to WeChat or older than 7 days.
	ErrcodeRIDNotFound = 76001
	// ErrcodeRIDInvalid: the rid is empty or malformed.
	ErrcodeRIDInvalid = 76002
	// ErrcodeNoPermission: on rid/get, the rid belongs to another account
	// (ask with the token of the account whose call failed); on quota/get,
	// per the docs, a cgi_path without its leading '/' or with the host in
	// front.
	ErrcodeNoPermission = 76003
	// ErrcodeCGIPathNotFound: quota/get does not know the cgi_path.
	ErrcodeCGIPathNotFound = 76021
	// ErrcodeCGIPathNoPermission: the token's account does not own the API
	// (e.g. a mini-program token for a third-party platform API), or the API
	// is a /sns/ one, which quota/get does not cover.
	ErrcodeCGIPathNoPermission = 76022
)

// withToken runs call with a token from ts. On a token-invalid error
// (40001, 40014, 42001) it invalidates exactly that token and runs call
// once more with a fresh one, as CodeUnlimited does: a source offering the
// rejected token again, or a second rejection, is a *TokenRejectedError
// (in the first case without a second call). Token-source errors are
// returned unchanged.
func (c *Client) withToken(ctx context.Context, ts TokenSource, call func(token string) error) error {
	tok, err := ts.Token(ctx)
	if err != nil {
		return err
	}
	err = call(tok)
	if !IsTokenInvalid(err) {
		return err
	}
	if ierr := ts.Invalidate(ctx, tok); ierr != nil {
		c.log.WarnContext(ctx, "wechat: invalidating a rejected token failed", "err", ierr)
	}
	rejected, first := tok, err
	if tok, err = ts.Token(ctx); err != nil {
		return err
	}
	if tok == rejected {
		return newTokenRejected(first, rejected, true)
	}
	if err = call(tok); IsTokenInvalid(err) {
		return newTokenRejected(err, tok, false)
	}
	return err
}

// openAPI posts body to a JSON endpoint with token and decodes a success
// reply into out. Errors: *APIError for errcode ≠ 0, *UnknownResponseError
// for anything but a JSON object with errcode 0 and HTTP 200,
// *TransportError when the exchange fails.
func (c *Client) openAPI(ctx context.Context, endpoint, token string, body []byte, out any) error {
	start := time.Now()
	resp, err := c.send(ctx, "POST", endpoint, url.Values{"access_token": {token}}, body)
	if err == nil {
		err = decodeOpenAPI(endpoint, resp, out)
	}
	c.logCall(ctx, endpoint, start, nil, err)
	return err
}

func decodeOpenAPI(endpoint string, r *response, out any) error {
	body := bytes.TrimSpace(r.body)
	var head struct {
		Code *int   `json:"errcode"`
		Msg  string `json:"errmsg"`
	}
	err := json.Unmarshal(body, &head)
	switch {
	case err != nil:
		return unknownReply(endpoint, r, "not a JSON object")
	case head.Code == nil:
		return unknownReply(endpoint, r, "JSON without errcode")
	case *head.Code != 0:
		return &APIError{Code: *head.Code, Msg: head.Msg, RID: parseRID(head.Msg), Endpoint: endpoint}
	case r.status != 200:
		return unknownReply(endpoint, r, "errcode 0 with a non-200 status")
	}
	if err := json.Unmarshal(body, out); err != nil {
		return unknownReply(endpoint, r, "malformed reply: "+err.Error())
	}
	return nil
}

// unknownReply describes a reply that could not be used. A rid/get reply
// quotes other requests' URLs and bodies, so it keeps no sample.
func unknownReply(endpoint string, r *response, reason string) *UnknownResponseError {
	ue := newUnknown(reason, r.body, r.contentType)
	ue.Status = r.status
	if endpoint == EndpointRID {
		ue.Sample = nil
	}
	return ue
}
