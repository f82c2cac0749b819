package wechat

import "context"

// CheckSecret asks cgi-bin/stable_token once, in normal mode, whether
// appid and secret are right, whatever token is cached anywhere: a
// preflight. Normal mode returns the current token without rotating it,
// so no other holder's token is invalidated; the token is not kept. A
// rejected appid or secret (40013, 40125, 40164...) is a *ConfigError; an
// unreachable endpoint a transport error. It never calls interface B.
func (c *Client) CheckSecret(ctx context.Context, appid, secret string) error {
	if appid == "" || secret == "" {
		return &ConfigError{AppID: appid, Reason: "appid and secret are required"}
	}
	_, err := c.fetchStable(ctx, appid, secret)
	return err
}
