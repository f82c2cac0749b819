package wechat

import (
	"bytes"
	"encoding/json"
	"image/jpeg"
	"image/png"
	"strings"

	"github.com/wxacode/wxacode/code"
)

// Image is a code returned by WeChat.
type Image struct {
	Data   []byte
	Format code.Format // sniffed from Data (code.FormatOf), never taken from Content-Type
}

// Sniff classifies a response body by its bytes. It returns code.JPEG or code.PNG for
// a complete image (whatever the Content-Type says): one that ends with its
// end marker, or else one that decodes in full (bytes after a JPEG's EOI or
// a PNG's IEND are accepted; a body cut off is not), an *APIError for a JSON
// error body (also when labelled "application/json; encoding=utf-8" or
// image/jpeg), and an *UnknownResponseError for anything else: empty,
// truncated image, HTML, JSON without errcode. contentType is used only to
// describe the failure and to recognise JSON that does not start with '{'.
func Sniff(body []byte, contentType string) (code.Format, error) {
	if f, ok := code.FormatOf(body); ok {
		if !f.Complete(body) && !decodes(f, body) {
			return "", newUnknown("truncated "+strings.ToUpper(string(f)), body, contentType)
		}
		return f, nil
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "", newUnknown("empty body", body, contentType)
	}
	if trimmed[0] == '{' || strings.Contains(strings.ToLower(contentType), "json") {
		return "", parseErrorBody(trimmed, contentType)
	}
	return "", newUnknown("neither JSON nor JPEG/PNG", body, contentType)
}

// parseErrorBody turns {"errcode":N,"errmsg":"..."} into an *APIError. A body
// that is not such an object, or says errcode 0 without an image, is unknown.
func parseErrorBody(body []byte, contentType string) error {
	var e struct {
		Code *int   `json:"errcode"`
		Msg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == nil {
		return newUnknown("JSON without errcode", body, contentType)
	}
	if *e.Code == 0 {
		return newUnknown("errcode 0 but no image", body, contentType)
	}
	return &APIError{Code: *e.Code, Msg: e.Msg, RID: parseRID(e.Msg)}
}

// decodes reports whether data, which does not end with f's end marker,
// decodes as a whole image of format f: Go's decoders stop at the end
// marker and ignore what follows, but fail on a body cut off before it.
// Images larger than maxDecodePixels are not decoded (WeChat's codes are at
// most 1280 pixels wide; a garbled header must not allocate gigabytes).
func decodes(f code.Format, data []byte) bool {
	const maxDecodePixels = 4096 * 4096
	dec, conf := jpeg.Decode, jpeg.DecodeConfig
	switch f {
	case code.JPEG:
	case code.PNG:
		dec, conf = png.Decode, png.DecodeConfig
	default:
		return false
	}
	c, err := conf(bytes.NewReader(data))
	if err != nil || c.Width*c.Height > maxDecodePixels {
		return false
	}
	_, err = dec(bytes.NewReader(data))
	return err == nil
}
