package wechat

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/wxacode/wxacode/code"
)

// WeChat's code endpoints.
const (
	EndpointUnlimited = "/wxa/getwxacodeunlimit"
	EndpointA         = "/wxa/getwxacode"
	EndpointC         = "/cgi-bin/wxaapp/createwxaqrcode"
)

// GetUnlimited calls interface B with token for a code of parameters p.
// It validates p first (a *code.FieldError sends nothing) and returns the
// sniffed image, or a typed error: *APIError, *UnknownResponseError,
// *TransportError.
func (c *Client) GetUnlimited(ctx context.Context, token string, p code.Params) (*Image, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return c.code(ctx, EndpointUnlimited, token, CodeBody(p))
}

// CodeUnlimited gets a token from ts and calls interface B. On a
// token-invalid error (40001, 40014, 42001) it invalidates exactly that token,
// gets a new one and calls once more. If the source offers the rejected
// token again, or WeChat rejects the new one too, it returns a
// *TokenRejectedError (no retry can help; spec §9.4: hold the app, alert);
// in the first case no second call is sent. Token-source errors
// are returned unchanged (e.g. *ConfigError). The second call is not
// paced: callers under a rate limit use CodeUnlimitedPaced.
func (c *Client) CodeUnlimited(ctx context.Context, ts TokenSource, p code.Params) (*Image, error) {
	return c.CodeUnlimitedPaced(ctx, ts, p, nil)
}

// CodeUnlimitedPaced is CodeUnlimited for callers that count interface B
// calls against a rate budget: pace, if not nil, is called before the
// retry with a fresh token, so that it takes a slot of the budget like the
// first call did; its error is returned without a second call (e.g. a
// worker handing the job back).
func (c *Client) CodeUnlimitedPaced(ctx context.Context, ts TokenSource, p code.Params, pace func(context.Context) error) (*Image, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	body := CodeBody(p)
	tok, err := ts.Token(ctx)
	if err != nil {
		return nil, err
	}
	img, err := c.code(ctx, EndpointUnlimited, tok, body)
	if !IsTokenInvalid(err) {
		return img, err
	}
	if ierr := ts.Invalidate(ctx, tok); ierr != nil {
		c.log.WarnContext(ctx, "wechat: invalidating a rejected token failed", "err", ierr)
	}
	rejected, first := tok, err
	if tok, err = ts.Token(ctx); err != nil {
		return nil, err
	}
	if tok == rejected {
		return nil, newTokenRejected(first, rejected, true)
	}
	if pace != nil {
		if err := pace(ctx); err != nil {
			return nil, err
		}
	}
	img, err = c.code(ctx, EndpointUnlimited, tok, body)
	if IsTokenInvalid(err) {
		return nil, newTokenRejected(err, tok, false)
	}
	return img, err
}

// GetQRCodeA calls interface A for appid (whose token it is). It spends
// one unit of the app's A+C budget per request sent (Config.ACBudget,
// counted by Config.ACCounter) and refuses with *BudgetError when none is
// left. Never use it as a fallback for B: WeChat caps A+C at 100,000 codes
// for life.
func (c *Client) GetQRCodeA(ctx context.Context, appid, token string, req QRCodeRequest) (*Image, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if err := c.spendAC(ctx, appid); err != nil {
		return nil, err
	}
	body := req.body()
	return c.acAnswered(ctx, appid)(c.code(ctx, EndpointA, token, body))
}

// CreateQRCodeC calls interface C (square QR code, path ≤128 bytes). It
// shares GetQRCodeA's budget.
func (c *Client) CreateQRCodeC(ctx context.Context, appid, token string, path string, width int) (*Image, error) {
	if err := validateC(path, width); err != nil {
		return nil, err
	}
	if err := c.spendAC(ctx, appid); err != nil {
		return nil, err
	}
	return c.acAnswered(ctx, appid)(c.code(ctx, EndpointC, token, encodeJSON(cBody{Path: path, Width: width})))
}

// ACLifetime is WeChat's cap on an account's A+C codes, ever (spec §4.2).
const ACLifetime = 100000

// ACExhauster is an ACCounter that can record that WeChat itself refused
// with 45029 (the account's 100,000 are spent, whatever wxacode counted):
// every later Spend of the app is refused without a call.
type ACExhauster interface {
	Exhaust(ctx context.Context, appid string) error
}

// acAnswered returns a pass-through for an A/C call's result that, on
// 45029, marks the app's A+C budget spent (in the shared counter when it
// is an ACExhauster, else in this client), so no further A or C request is
// sent for it. A failure to record it is logged; the 45029 is returned
// either way.
func (c *Client) acAnswered(ctx context.Context, appid string) func(*Image, error) (*Image, error) {
	return func(img *Image, err error) (*Image, error) {
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != 45029 {
			return img, err
		}
		if ex, ok := c.acCount.(ACExhauster); ok {
			if xerr := ex.Exhaust(ctx, appid); xerr != nil {
				c.log.Warn("wechat: could not record the spent A+C budget", "appid", appid, "err", xerr)
			}
			return img, err
		}
		c.acSpent.Store(max(c.acSpent.Load(), c.acBudget))
		return img, err
	}
}

// ACSpent is how many A+C requests this client has sent.
func (c *Client) ACSpent() int { return int(c.acSpent.Load()) }

func (c *Client) spendAC(ctx context.Context, appid string) error {
	if c.acCount != nil {
		used, ok, err := c.acCount.Spend(ctx, appid, int(c.acBudget))
		if err != nil {
			return err
		}
		if !ok {
			return &BudgetError{Budget: int(c.acBudget), Used: used, Shared: true}
		}
		c.acSpent.Add(1)
		return nil
	}
	if c.acSpent.Add(1) > c.acBudget {
		c.acSpent.Add(-1)
		return &BudgetError{Budget: int(c.acBudget)}
	}
	return nil
}

// code posts body to a code endpoint and classifies the response by its bytes.
func (c *Client) code(ctx context.Context, endpoint, token string, body []byte) (*Image, error) {
	start := time.Now()
	resp, err := c.send(ctx, "POST", endpoint, url.Values{"access_token": {token}}, body)
	var img *Image
	if err == nil {
		img, err = classify(endpoint, resp)
	}
	c.logCall(ctx, endpoint, start, img, err)
	return img, err
}

func classify(endpoint string, r *response) (*Image, error) {
	f, err := Sniff(r.body, r.contentType)
	var ae *APIError
	var ue *UnknownResponseError
	switch {
	case errors.As(err, &ae):
		ae.Endpoint = endpoint
	case errors.As(err, &ue):
		ue.Status = r.status
	case r.status != 200:
		ue = newUnknown("image with a non-200 status", r.body, r.contentType)
		ue.Status = r.status
		return nil, ue
	}
	if err != nil {
		return nil, err
	}
	return &Image{Data: r.body, Format: f}, nil
}

func (c *Client) logCall(ctx context.Context, endpoint string, start time.Time, img *Image, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []any{"endpoint", endpoint, "duration", time.Since(start)}
	if img != nil {
		attrs = append(attrs, "format", img.Format, "bytes", len(img.Data))
	}
	var ae *APIError
	if errors.As(err, &ae) {
		attrs = append(attrs, "errcode", ae.Code, "rid", ae.RID)
	} else if err != nil {
		attrs = append(attrs, "err", RedactURL(err.Error()))
	}
	c.log.DebugContext(ctx, "wechat call", attrs...)
}
