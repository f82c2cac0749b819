package wechat

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/wxacode/wxacode/code"
)

// FuzzCodeBody: the body of every valid code is JSON without escapes of
// '&', '<', '>' (WeChat would count them as six characters) that decodes
// to the same scene and page.
func FuzzCodeBody(f *testing.F) {
	for _, s := range []string{"a", "a=1&b=2", "<>&", "pages/店/index", "!#$&'()*+,/:;=?@-._~"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, scene, page string) {
		p := code.Params{Scene: scene, Page: page}
		if p.Validate() != nil {
			return
		}
		body := CodeBody(p)
		var back struct{ Scene, Page string }
		if bytes.Contains(body, []byte(`\u00`)) || json.Unmarshal(body, &back) != nil || back.Scene != scene || back.Page != page {
			t.Fatalf("body %s of scene %q page %q", body, scene, page)
		}
	})
}

func FuzzSniff(f *testing.F) {
	jpg, png := goldenImages(f)
	f.Add(jpg, "image/jpeg")
	f.Add(png, "image/jpeg")
	f.Add(jpg[:len(jpg)/2], "image/jpeg")
	f.Add(append(bytes.Clone(jpg), "junk"...), "image/jpeg")
	f.Add([]byte(`{"errcode":40129,"errmsg":"invalid scene rid: a-b-c"}`), "application/json; encoding=utf-8")
	f.Add([]byte(`<html>502 Bad Gateway</html>`), "text/html")
	f.Add([]byte{}, "")
	f.Add([]byte(`{"errcode":0}`), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		format, err := Sniff(body, ct)
		var ae *APIError
		var ue *UnknownResponseError
		switch {
		case err == nil:
			ok := format == code.JPEG && bytes.HasPrefix(body, []byte{0xFF, 0xD8, 0xFF}) && (bytes.HasSuffix(body, []byte{0xFF, 0xD9}) || decodes(format, body)) ||
				format == code.PNG && bytes.HasPrefix(body, []byte("\x89PNG\r\n\x1a\n")) && (bytes.HasSuffix(body, []byte("IEND\xaeB`\x82")) || decodes(format, body))
			if !ok {
				t.Fatalf("accepted %q as %q", body, format)
			}
		case format != "":
			t.Fatalf("format %q together with error %v", format, err)
		case errors.As(err, &ae):
			if ae.Code == 0 || IsRetryable(err) == IsPermanent(err) && IsRetryable(err) {
				t.Fatalf("bad API error %+v", ae)
			}
		case errors.As(err, &ue):
			if len(ue.Sample) > sampleLen || !bytes.HasPrefix(body, ue.Sample) || !IsRetryable(err) {
				t.Fatalf("bad unknown error %+v", ue)
			}
		default:
			t.Fatalf("untyped error %v", err)
		}
	})
}
