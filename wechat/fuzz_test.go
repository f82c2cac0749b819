package wechat

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// sceneRE is the documented rule, written independently of ValidateScene.
var sceneRE = regexp.MustCompile(`^[A-Za-z0-9!#$&'()*+,/:;=?@\-._~]{1,32}$`)

func FuzzValidateScenePage(f *testing.F) {
	for _, s := range []string{"a", "a=1&b=2", strings.Repeat("x", 33), "%", "商品", "", "pages/index/index",
		"/p", "p?x=1", "p/scancode_time", "a\x00b"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, scene, page string) {
		serr := ValidateScene(scene)
		if (serr == nil) != sceneRE.MatchString(scene) {
			t.Fatalf("ValidateScene(%q) = %v, regexp says %v", scene, serr, sceneRE.MatchString(scene))
		}
		perr := ValidatePage(page)
		bad := strings.HasPrefix(page, "/") || strings.Contains(page, "?") || strings.Contains(page, "scancode_time")
		if bad && perr == nil {
			t.Fatalf("ValidatePage(%q) accepted a forbidden page", page)
		}
		for _, err := range []error{serr, perr} {
			var ve *ValidationError
			if err != nil && (!errors.As(err, &ve) || !IsPermanent(err) || !utf8.ValidString(ve.Field)) {
				t.Fatalf("untyped validation error %v", err)
			}
		}
		req := CodeRequest{Scene: scene, Page: page}
		if req.Validate() == nil && bytes.Contains(req.Body(), []byte(`\u00`)) {
			t.Fatalf("valid request encoded with escapes: %s", req.Body())
		}
	})
}

func FuzzSniff(f *testing.F) {
	jpg, png := goldenImages(f)
	f.Add(jpg, "image/jpeg")
	f.Add(png, "image/jpeg")
	f.Add(jpg[:len(jpg)/2], "image/jpeg")
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
			ok := format == JPEG && bytes.HasPrefix(body, jpegMagic) && bytes.HasSuffix(body, jpegEnd) ||
				format == PNG && bytes.HasPrefix(body, pngMagic) && bytes.HasSuffix(body, pngEnd)
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
