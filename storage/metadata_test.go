package storage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
)

func TestMetadata(t *testing.T) {
	t.Parallel()
	gen := time.Date(2025, 3, 4, 5, 6, 7, 8, time.FixedZone("CST", 8*3600))
	p := storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.PNG, Params: code.Params{Page: "pages/详情/index",
		Scene: "a=1&b=../~", Rendering: code.Rendering{LineColor: &code.Color{R: 1, G: 2, B: 3}, IsHyaline: true}}}
	md := storage.Metadata(p, "ab12", gen)
	require.Equal(t, map[string]string{
		"appid":        "wx0123456789abcdef",
		"page":         "pages~2F~E8~AF~A6~E6~83~85~2Findex", // not ASCII: encoded, and listed
		"scene":        "a=1&b=../~",                         // as given: every valid scene is printable ASCII
		"env-version":  "release",
		"width":        "430",
		"format":       "png",
		"sha256":       "ab12",
		"generated-at": "2025-03-03T21:06:07.000000008Z",
		"params":       "env=release;width=430;auto_color=false;line_color=1,2,3;is_hyaline=true",
		"params-hash":  p.Rendering.Hash(),
		"encoded":      "page",
	}, md)
	for field, want := range map[string]string{"appid": p.AppID, "page": p.Page, "scene": p.Scene, "format": "png"} {
		got, err := storage.MetaText(md, field)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	ascii := storage.Metadata(storage.KeyParams{AppID: "wx1", Params: code.Params{Scene: "id=42", Page: "pages/coupon/index"}}, "ab", gen)
	require.Equal(t, "pages/coupon/index", ascii["page"])
	require.Equal(t, "none", ascii["encoded"])
	require.Equal(t, "jpeg", ascii["format"], "the zero format is JPEG")
	home := storage.Metadata(storage.KeyParams{AppID: "wx1", Params: code.Params{Scene: "s"}}, "ab", gen)
	require.Equal(t, "~", home["page"], "an empty value is encoded: some servers drop empty headers")
	page, err := storage.MetaText(home, "page")
	require.NoError(t, err)
	require.Equal(t, "", page)
	require.Equal(t, "default", storage.Metadata(storage.KeyParams{}, "", gen)["params-hash"])

	// Whatever the input, the set is accepted by both backends' checks.
	st := openLocal(t)
	hostile := storage.KeyParams{AppID: " x\n", Format: "p n g", Params: code.Params{Page: "\x00\xff", Scene: " lead",
		Rendering: code.Rendering{EnvVersion: "tri al\r"}}}
	hmd := storage.Metadata(hostile, "", gen)
	require.NoError(t, st.Put(ctx(t), "m.png", []byte("x"), storage.PutOptions{Metadata: hmd}))
	for field, want := range map[string]string{"appid": hostile.AppID, "page": hostile.Page, "scene": hostile.Scene, "env-version": "tri al\r", "format": "p n g"} {
		got, err := storage.MetaText(hmd, field)
		require.NoError(t, err)
		require.Equal(t, want, got, field)
	}
}

// TestMetadataOfExistingStores: objects stored before verbatim metadata
// hold every text entry encoded and no "encoded" entry; they read the same.
func TestMetadataOfExistingStores(t *testing.T) {
	t.Parallel()
	// storage.Metadata of main before the change, for page "pages/店/index",
	// scene "a=1&b=2", width 300.
	old := map[string]string{"appid": "wx0123456789abcdef", "env-version": "release", "format": "jpeg",
		"generated-at": "2026-01-02T03:04:05.000000006Z", "page": "pages~2F~E5~BA~97~2Findex",
		"params": "env=release;width=300;auto_color=false;line_color=0,0,0;is_hyaline=false", "params-hash": "8b1b711a5e97",
		"scene": "a~3D1~26b~3D2", "sha256": "ab12", "width": "300"}
	p := storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.JPEG, Params: code.Params{Page: "pages/店/index", Scene: "a=1&b=2",
		Rendering: code.Rendering{Width: 300}}}
	for name, md := range map[string]map[string]string{"before": old, "now": storage.Metadata(p, "ab12", time.Now())} {
		c, ok, err := storage.StoredCodeOf(md)
		require.NoError(t, err, name)
		require.True(t, ok)
		require.Equal(t, storage.StoredCode{AppID: p.AppID, Page: p.Page, Scene: p.Scene, Params: p.Rendering.Canonical()}, c, name)
		require.Empty(t, c.Differs(p), name)
		require.Equal(t, md["params-hash"], p.Rendering.Hash())
	}
	other := p
	other.Page = "pages/店/other"
	c, _, _ := storage.StoredCodeOf(old)
	require.Equal(t, `page "pages/店/index" (not "pages/店/other")`, c.Differs(other))
	_, ok, err := storage.StoredCodeOf(nil)
	require.NoError(t, err)
	require.False(t, ok, "no metadata at all")
	_, _, err = storage.StoredCodeOf(map[string]string{"appid": "wx1", "scene": "s~ZZ", "page": "~", "params": "x"})
	require.Error(t, err, "an encoding DecodeSegment refuses")
	_, _, err = storage.StoredCodeOf(map[string]string{"appid": "wx1"})
	require.Error(t, err, "an incomplete set")
}
