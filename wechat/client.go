package wechat

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is WeChat's API host.
const DefaultBaseURL = "https://api.weixin.qq.com"

// Config configures a Client. Every field is optional.
type Config struct {
	// BaseURL is the API root without a trailing slash. Default DefaultBaseURL;
	// the project passes WXACODE_WECHAT_BASE_URL (e.g. a fake server).
	BaseURL string
	// HTTPClient sends every request. Default: a client from NewHTTPClient
	// (dial 5 s, response header 15 s, overall 30 s, 100 idle connections per host).
	HTTPClient *http.Client
	// MaxResponseBytes caps a response body; a larger one is an
	// *UnknownResponseError. Zero or negative means 4 MiB.
	MaxResponseBytes int64
	// ACBudget is how many interface A+C calls may ever be sent for an app
	// (WeChat allows 100,000 per account, for life): counted by ACCounter
	// if set, else by this client alone. Zero or negative refuses every A
	// and C call with a *BudgetError.
	ACBudget int
	// ACCounter, if set, counts A+C calls per app for life, shared by every
	// process (NewRedisACCounter); nil counts in this client only, so each
	// new client starts again at ACBudget.
	ACCounter ACCounter
	// Logger receives one Debug line per call and token events. Default
	// slog.Default(). URLs are logged with credentials redacted.
	Logger *slog.Logger
	// OnTokenFetch, if set, is called after every token request this client
	// sends (stable_token or token) with the appid, the endpoint and the
	// error (nil on success), for metrics. It must not block. It never sees
	// the token or the secret.
	OnTokenFetch func(appid, endpoint string, err error)
}

// Client calls WeChat's code interfaces. It is safe for concurrent use.
type Client struct {
	baseURL  string
	http     *http.Client
	maxBody  int64
	log      *slog.Logger
	onFetch  func(appid, endpoint string, err error)
	acBudget int64
	acSpent  atomic.Int64
	acCount  ACCounter
}

// NewClient returns a Client for cfg with defaults applied.
func NewClient(cfg Config) *Client {
	maxBody := cfg.MaxResponseBytes
	if maxBody <= 0 {
		maxBody = 4 << 20
	}
	c := &Client{
		baseURL:  strings.TrimRight(cmp.Or(cfg.BaseURL, DefaultBaseURL), "/"),
		http:     cfg.HTTPClient,
		maxBody:  maxBody,
		log:      cmp.Or(cfg.Logger, slog.Default()),
		onFetch:  cfg.OnTokenFetch,
		acBudget: int64(max(cfg.ACBudget, 0)),
		acCount:  cfg.ACCounter,
	}
	if c.http == nil {
		c.http = NewHTTPClient()
	}
	return c
}

// BaseURL is the API root the client sends to.
func (c *Client) BaseURL() string { return c.baseURL }

// NewHTTPClient returns the default HTTP client: explicit connect and
// response timeouts and a keep-alive pool sized for about 100 concurrent
// calls to one host.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 15 * time.Second,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          200,
			MaxIdleConnsPerHost:   100,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
	}
}

// response is one HTTP exchange read to its end (within the cap).
type response struct {
	status      int
	contentType string
	body        []byte
}

// send performs one request. query must not be logged unredacted; body may
// be nil. Failures to connect or to read the whole body are *TransportError;
// a body over the cap is *UnknownResponseError.
func (c *Client) send(ctx context.Context, method, endpoint string, query url.Values, body []byte) (*response, error) {
	u := c.baseURL + endpoint
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &TransportError{Endpoint: endpoint, Err: redactErr(err)}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &TransportError{Endpoint: endpoint, Err: redactErr(err)}
	}
	defer resp.Body.Close()
	data, err := c.readCapped(resp)
	if err != nil {
		if ue, ok := err.(*UnknownResponseError); ok {
			return nil, ue
		}
		return nil, &TransportError{Endpoint: endpoint, Err: redactErr(err)}
	}
	return &response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: data}, nil
}

// readCapped reads the whole body, refusing more than maxBody bytes.
func (c *Client) readCapped(resp *http.Response) ([]byte, error) {
	ct := resp.Header.Get("Content-Type")
	if resp.ContentLength > c.maxBody {
		e := newUnknown("body larger than the size cap", nil, ct)
		e.Status = resp.StatusCode
		return nil, e
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, c.maxBody+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > c.maxBody {
		e := newUnknown("body larger than the size cap", buf.Bytes(), ct)
		e.Status = resp.StatusCode
		return nil, e
	}
	return buf.Bytes(), nil
}
