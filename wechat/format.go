package wechat

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Format is the image format of a code, decided from its bytes.
type Format string

// The formats WeChat returns: JPEG by default, PNG when is_hyaline is true
// (still labelled image/jpeg).
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
)

// ContentType is the MIME type to store the image under.
func (f Format) ContentType() string {
	if f == PNG {
		return "image/png"
	}
	return "image/jpeg"
}

// Ext is the file extension without a dot: "jpg" or "png".
func (f Format) Ext() string {
	if f == PNG {
		return "png"
	}
	return "jpg"
}

// Image is a code returned by WeChat.
type Image struct {
	Data   []byte
	Format Format // sniffed from Data, never taken from Content-Type
}

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	jpegEnd   = []byte{0xFF, 0xD9}
	pngMagic  = []byte{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}
	// pngEnd is the complete IEND chunk: zero length, type, CRC.
	pngEnd = []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}
)

// Sniff classifies a response body by its bytes. It returns JPEG or PNG for
// a complete image (whatever the Content-Type says), an *APIError for a JSON
// error body (also when labelled "application/json; encoding=utf-8" or
// image/jpeg), and an *UnknownResponseError for anything else: empty,
// truncated image, HTML, JSON without errcode. contentType is used only to
// describe the failure and to recognise JSON that does not start with '{'.
func Sniff(body []byte, contentType string) (Format, error) {
	switch {
	case bytes.HasPrefix(body, jpegMagic):
		return sniffComplete(JPEG, body, jpegEnd, contentType)
	case bytes.HasPrefix(body, pngMagic):
		return sniffComplete(PNG, body, pngEnd, contentType)
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

func sniffComplete(f Format, body, end []byte, contentType string) (Format, error) {
	if !bytes.HasSuffix(body, end) {
		return "", newUnknown("truncated "+strings.ToUpper(string(f)), body, contentType)
	}
	return f, nil
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
