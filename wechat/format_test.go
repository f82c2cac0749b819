package wechat

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// goldenImages renders real fake codes once: a JPEG and a hyaline PNG.
func goldenImages(t testing.TB) (jpg, png []byte) {
	t.Helper()
	c := wechattest.Content{AppID: appA, Scene: "golden"}
	jpg, err := wechattest.Render(c, 280, [3]int{}, false)
	require.NoError(t, err)
	png, err = wechattest.Render(c, 280, [3]int{}, true)
	require.NoError(t, err)
	return jpg, png
}

func TestSniffGolden(t *testing.T) {
	jpg, png := goldenImages(t)
	const quirk = "application/json; encoding=utf-8"
	cases := []struct {
		name   string
		body   []byte
		ct     string
		format code.Format
		code   int    // APIError code
		reason string // UnknownResponseError reason
	}{
		{"jpeg", jpg, "image/jpeg", code.JPEG, 0, ""},
		{"png labelled jpeg", png, "image/jpeg", code.PNG, 0, ""},
		{"jpeg labelled json", jpg, quirk, code.JPEG, 0, ""},
		{"error with the encoding= quirk", []byte(`{"errcode":40129,"errmsg":"invalid scene rid: 6541c2e1-1d3f5a0b-6e2c4d11"}`), quirk, "", 40129, ""},
		{"error labelled image/jpeg", []byte(`{"errcode":45009,"errmsg":"reach max api daily quota limit"}`), "image/jpeg", "", 45009, ""},
		{"error with leading space", []byte(" \n{\"errcode\":-1,\"errmsg\":\"system error\"}"), "text/plain", "", -1, ""},
		{"html 502", []byte("<html><head><title>502 Bad Gateway</title></head></html>"), "text/html", "", 0, "neither JSON nor JPEG/PNG"},
		{"truncated jpeg", jpg[:len(jpg)/2], "image/jpeg", "", 0, "truncated JPEG"},
		{"truncated png", png[:len(png)-1], "image/jpeg", "", 0, "truncated PNG"},
		{"jpeg with bytes after EOI", append(bytes.Clone(jpg), "\x00\x00trailing junk"...), "image/jpeg", code.JPEG, 0, ""},
		{"png with data after IEND", append(bytes.Clone(png), 0, 0, 0, 0, 0xFF, 0xD9), "image/jpeg", code.PNG, 0, ""},
		{"jpeg cut before EOI", jpg[:len(jpg)-2], "image/jpeg", "", 0, "truncated JPEG"},
		{"truncated jpeg with trailing bytes", append(bytes.Clone(jpg[:len(jpg)/2]), "junk"...), "image/jpeg", "", 0, "truncated JPEG"},
		{"png cut before IEND", png[:len(png)-12], "image/jpeg", "", 0, "truncated PNG"},
		{"empty body", nil, "image/jpeg", "", 0, "empty body"},
		{"whitespace body", []byte(" \r\n"), quirk, "", 0, "empty body"},
		{"json without errcode", []byte(`{"buffer":"..."}`), quirk, "", 0, "JSON without errcode"},
		{"errcode 0", []byte(`{"errcode":0,"errmsg":"ok"}`), quirk, "", 0, "errcode 0 but no image"},
		{"broken json labelled json", []byte(`errcode=1`), quirk, "", 0, "JSON without errcode"},
		{"gif", []byte("GIF89a......"), "image/gif", "", 0, "neither JSON nor JPEG/PNG"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Sniff(tc.body, tc.ct)
			require.Equal(t, tc.format, f)
			var ae *APIError
			var ue *UnknownResponseError
			switch {
			case tc.format != "":
				require.NoError(t, err)
			case tc.code != 0:
				require.ErrorAs(t, err, &ae)
				require.Equal(t, tc.code, ae.Code)
			default:
				require.ErrorAs(t, err, &ue)
				require.Equal(t, tc.reason, ue.Reason)
				require.True(t, IsRetryable(err), "unknown bodies are retryable")
				require.LessOrEqual(t, len(ue.Sample), sampleLen)
				require.True(t, bytes.HasPrefix(tc.body, ue.Sample))
			}
		})
	}
}

func TestAPIErrorRID(t *testing.T) {
	_, err := Sniff([]byte(`{"errcode":40169,"errmsg":"invalid length for scene, or the data is not json string rid: 6541c2e1-1d3f5a0b-6e2c4d11"}`), "")
	var ae *APIError
	require.True(t, errors.As(err, &ae))
	require.Equal(t, "6541c2e1-1d3f5a0b-6e2c4d11", ae.RID)
	require.Equal(t, "", parseRID("invalid scene hint: [abc]"))
	require.Equal(t, "x", parseRID("a rid: x."))
	require.Equal(t, "", parseRID("a rid:"))
}
