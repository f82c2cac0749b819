package wechat

import (
	"bytes"
	"encoding/json"

	"github.com/wxacode/wxacode/code"
)

// QRCodeRequest is the body of interface A (getwxacode); interface C uses
// only Path and Width. Its rendering options are those of B.
type QRCodeRequest struct {
	Path string // required, ≤1024 characters, may carry a query
	code.Rendering
}

// lineColor is WeChat's wire form of a line colour, decimal strings as in
// the documented example and the seed document's default
// {"r":"0","g":"0","b":"0"} (what silenceper/wechat, WxJava and
// royalrick/weapp send). It is the one place that form is written.
type lineColor struct {
	R int `json:"r,string"`
	G int `json:"g,string"`
	B int `json:"b,string"`
}

func wireColor(c *code.Color) *lineColor {
	if c == nil {
		return nil
	}
	return &lineColor{c.R, c.G, c.B}
}

// bBody is B's wire form: code.Params' JSON (WeChat's names, zero values
// omitted so WeChat applies its defaults, and an empty env_version, 40097,
// never sent) with the line colour in WeChat's form.
type bBody struct {
	code.Params
	LineColor *lineColor `json:"line_color,omitempty"`
}

type aBody struct {
	Path string `json:"path"`
	code.Rendering
	LineColor *lineColor `json:"line_color,omitempty"`
}

type cBody struct {
	Path  string `json:"path"`
	Width int    `json:"width,omitempty"`
}

// CodeBody returns the exact JSON sent to interface B for p (HTML escaping
// off: '&' stays '&').
func CodeBody(p code.Params) []byte {
	return encodeJSON(bBody{Params: p, LineColor: wireColor(p.LineColor)})
}

func (r QRCodeRequest) body() []byte {
	return encodeJSON(aBody{Path: r.Path, Rendering: r.Rendering, LineColor: wireColor(r.LineColor)})
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
