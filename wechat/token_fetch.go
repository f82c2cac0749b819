package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"
)

// Token endpoints.
const (
	EndpointStableToken = "/cgi-bin/stable_token"
	EndpointToken       = "/cgi-bin/token"
)

// configReasons explains the token-fetch errcodes that are configuration
// problems. 40001 at fetch time means the secret was rejected.
var configReasons = map[int]string{
	40001: "app secret rejected",
	40002: "invalid grant_type",
	40013: "invalid appid",
	40125: "invalid app secret",
	40164: "caller IP is not in the app's IP whitelist",
	40243: "app secret is frozen",
	41002: "appid missing",
	41004: "app secret missing",
	50004: "token API use is forbidden for this account",
	50007: "account is frozen",
	89503: "the call awaits an administrator's confirmation",
	89506: "an administrator rejected this IP; retry after 24 h",
	89507: "an administrator rejected this IP; retry after 1 h",
}

// tokenResponse is the success body of both token endpoints.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// fetchStable calls cgi-bin/stable_token in normal mode (force_refresh is
// never sent: it is limited to 20 a day and invalidates the token for
// everyone).
func (c *Client) fetchStable(ctx context.Context, appid, secret string) (tokenResponse, error) {
	body := encodeJSON(struct {
		GrantType string `json:"grant_type"`
		AppID     string `json:"appid"`
		Secret    string `json:"secret"`
	}{"client_credential", appid, secret})
	resp, err := c.send(ctx, "POST", EndpointStableToken, nil, body)
	tr, err := parseTokenResponse(appid, EndpointStableToken, resp, err)
	c.fetched(appid, EndpointStableToken, err)
	return tr, err
}

// fetchClientCredential calls cgi-bin/token, which invalidates the previous
// token of the app after five minutes.
func (c *Client) fetchClientCredential(ctx context.Context, appid, secret string) (tokenResponse, error) {
	q := url.Values{"grant_type": {"client_credential"}, "appid": {appid}, "secret": {secret}}
	resp, err := c.send(ctx, "GET", EndpointToken, q, nil)
	tr, err := parseTokenResponse(appid, EndpointToken, resp, err)
	c.fetched(appid, EndpointToken, err)
	return tr, err
}

// fetched reports a token fetch to the OnTokenFetch hook.
func (c *Client) fetched(appid, endpoint string, err error) {
	if c.onFetch != nil {
		c.onFetch(appid, endpoint, err)
	}
}

func parseTokenResponse(appid, endpoint string, resp *response, err error) (tokenResponse, error) {
	if err != nil {
		return tokenResponse{}, err
	}
	var tr tokenResponse
	if json.Unmarshal(resp.body, &tr) == nil && tr.AccessToken != "" && tr.ExpiresIn > 0 {
		return tr, nil
	}
	_, err = Sniff(resp.body, resp.contentType)
	var ae *APIError
	if errors.As(err, &ae) {
		ae.Endpoint = endpoint
		if reason, ok := configReasons[ae.Code]; ok {
			return tr, &ConfigError{AppID: appid, Reason: reason, Err: ae}
		}
		if ae.Code == 45009 {
			return tr, &TokenQuotaError{AppID: appid, Err: ae}
		}
		return tr, ae
	}
	var ue *UnknownResponseError
	if errors.As(err, &ue) {
		ue.Status = resp.status
		ue.Sample = nil // a token body may hold a token: keep no sample
		return tr, ue
	}
	return tr, &UnknownResponseError{Status: resp.status, ContentType: resp.contentType, Reason: "token response without access_token"}
}

// entryFor turns a fetched token into a cache entry that is refreshed
// refreshBefore ahead of expiry, but never sooner than minRefresh after the
// fetch (a token returned with little life left must not cause a fetch on
// every call).
func entryFor(tr tokenResponse, now time.Time, refreshBefore time.Duration) tokenEntry {
	const minRefresh = 30 * time.Second
	exp := now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	ref := exp.Add(-refreshBefore)
	if floor := now.Add(min(minRefresh, time.Duration(tr.ExpiresIn)*time.Second/2)); ref.Before(floor) {
		ref = floor
	}
	return tokenEntry{token: tr.AccessToken, expiresAt: exp, refreshAt: ref}
}
