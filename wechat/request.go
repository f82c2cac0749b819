package wechat

import (
	"bytes"
	"encoding/json"
)

// Color is a line colour, sent as JSON numbers {"r":0,"g":0,"b":0}.
type Color struct {
	R int `json:"r"`
	G int `json:"g"`
	B int `json:"b"`
}

// CodeRequest is the body of interface B (getwxacodeunlimit). Zero values
// are omitted so WeChat applies its defaults.
type CodeRequest struct {
	Scene      string // required: 1-32 characters, see ValidateScene
	Page       string // "" = omitted (home page); no leading '/', no query
	CheckPath  *bool  // nil = omitted (WeChat default true: page must be published)
	EnvVersion string // "" = omitted (release); else release, trial or develop
	Width      int    // 0 = omitted (430); else 280-1280
	AutoColor  bool   // false = omitted
	LineColor  *Color // nil = omitted (black)
	IsHyaline  bool   // true = transparent background, PNG bytes
}

// QRCodeRequest is the body of interface A (getwxacode); interface C uses
// only Path and Width.
type QRCodeRequest struct {
	Path       string // required, ≤1024 characters, may carry a query
	Width      int    // 0 = omitted (430)
	AutoColor  bool
	LineColor  *Color
	IsHyaline  bool
	EnvVersion string // "" = omitted (release)
}

// bBody is B's wire form: omitempty everywhere so unset means "omitted", and
// an empty env_version (40097) can never be sent.
type bBody struct {
	Scene      string `json:"scene"`
	Page       string `json:"page,omitempty"`
	CheckPath  *bool  `json:"check_path,omitempty"`
	EnvVersion string `json:"env_version,omitempty"`
	Width      int    `json:"width,omitempty"`
	AutoColor  bool   `json:"auto_color,omitempty"`
	LineColor  *Color `json:"line_color,omitempty"`
	IsHyaline  bool   `json:"is_hyaline,omitempty"`
}

type aBody struct {
	Path       string `json:"path"`
	Width      int    `json:"width,omitempty"`
	AutoColor  bool   `json:"auto_color,omitempty"`
	LineColor  *Color `json:"line_color,omitempty"`
	IsHyaline  bool   `json:"is_hyaline,omitempty"`
	EnvVersion string `json:"env_version,omitempty"`
}

type cBody struct {
	Path  string `json:"path"`
	Width int    `json:"width,omitempty"`
}

// Body returns the exact JSON sent for r (HTML escaping off: '&' stays '&').
func (r CodeRequest) Body() []byte {
	return encodeJSON(bBody(r))
}

// encodeJSON marshals v with SetEscapeHTML(false): encoding/json's default
// turns '&' into \u0026, which WeChat counts as six scene characters.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("wechat: encoding a request body cannot fail: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
