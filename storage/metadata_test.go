package storage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
)

func TestMetadata(t *testing.T) {
	t.Parallel()
	gen := time.Date(2025, 3, 4, 5, 6, 7, 8, time.FixedZone("CST", 8*3600))
	p := storage.KeyParams{AppID: "wx0123456789abcdef", Page: "pages/详情/index", Scene: "a=1&b=../é", Ext: "png",
		LineColor: &[3]int{1, 2, 3}, IsHyaline: true}
	md := storage.Metadata(p, "png", "ab12", gen)
	require.Equal(t, map[string]string{
		"appid":        "wx0123456789abcdef",
		"page":         "pages~2F~E8~AF~A6~E6~83~85~2Findex",
		"scene":        "a~3D1~26b~3D~2E~2E~2F~C3~A9",
		"env-version":  "release",
		"width":        "430",
		"format":       "png",
		"sha256":       "ab12",
		"generated-at": "2025-03-03T21:06:07.000000008Z",
		"params":       "env=release;width=430;auto_color=false;line_color=1,2,3;is_hyaline=true",
		"params-hash":  storage.ParamsHash(p),
	}, md)
	for field, want := range map[string]string{"page": p.Page, "scene": p.Scene} {
		got, err := storage.DecodeSegment(md[field])
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.Equal(t, "default", storage.Metadata(storage.KeyParams{}, "jpeg", "", gen)["params-hash"])

	// Whatever the input, the set is accepted by both backends' checks.
	st := openLocal(t)
	hostile := storage.KeyParams{AppID: " x\n", Page: "\x00\xff", Scene: " lead", EnvVersion: "tri al\r"}
	require.NoError(t, st.Put(ctx(t), "m.png", []byte("x"), storage.PutOptions{Metadata: storage.Metadata(hostile, "p n g", "", gen)}))
}
