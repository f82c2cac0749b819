package wechat

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/wxacode/wxacode/code"
)

// Image is a code returned by WeChat.
type Image struct {
	Data   []byte
	Format code.Format // sniffed from Data (code.FormatOf), never taken from Content-Type
}

// Sniff classifies a response body by its bytes. It returns code.JPEG or code.PNG for
// a complete image (whatever the Content-Type says), an *APIError for a JSON
// error body (also when labelled "application/json; encoding=utf-8" or
// image/jpeg), and an *UnknownResponseError for anything else: empty,
// truncated image, HTML, JSON without errcode. contentType is used only to
// describe the failure and to recognise JSON that does not start with '{'.
func Sniff(body []byte, contentType string) (code.Format, error) {
	if f, ok := code.FormatOf(body); ok {
		if !f.Complete(body) {
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
