package jobs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
)

// TestPayloadsOfMainGolden: payloads, TaskIDs and default-template keys as
// main produced them before the vocabulary existed. Payloads in Redis
// still decode, to the same TaskID (duplicates are still detected across
// the upgrade) and the same object key (stored codes are still found).
func TestPayloadsOfMainGolden(t *testing.T) {
	cases := []struct{ payload, taskID, key string }{
		{"{\"v\":1,\"app\":\"wx0123456789abcdef\",\"scene\":\"id=42\",\"page\":\"pages/coupon/index\"}", "c-8a254e53cc5e8a2ff3a9ff775c387e37", "wx0123456789abcdef/pages~2Fcoupon~2Findex/id~3D42.jpg"},
		{"{\"v\":1,\"app\":\"wx0123456789abcdef\",\"scene\":\"id=42\",\"page\":\"pages/coupon/index\",\"width\":430,\"env_version\":\"release\",\"line_color\":[0,0,0]}", "c-8ce789573bdcc4d7cb32040debfdb58a", "wx0123456789abcdef/pages~2Fcoupon~2Findex/id~3D42.jpg"},
		{"{\"v\":1,\"app\":\"wx0123456789abcdef\",\"scene\":\"u1\",\"page\":\"pages/index/index\",\"width\":1280,\"env_version\":\"trial\",\"auto_color\":true,\"line_color\":[1,2,3],\"is_hyaline\":true}", "c-07dadd81e998dc8984b1e2691a5946b4", "wx0123456789abcdef/pages~2Findex~2Findex/u1~p3c9ffc28fd23.png"},
		{"{\"v\":1,\"app\":\"wxd000000000000001\",\"scene\":\"c00000001\",\"width\":280,\"env_version\":\"develop\",\"check_path\":false}", "c-734a9e6731ef960372b5c769c2d3f9e8", "wxd000000000000001/~/c00000001~p4b7dd297af79.jpg"},
		{"{\"v\":1,\"app\":\"wx1\",\"scene\":\"!#$\\u0026'()*+,/:;=?@-._~\"}", "c-adc49904bb9b4779a8b69b3b2293dd0b", "wx1/~/~21~23~24~26~27~28~29~2A~2B~2C~2F~3A~3B~3D~3F~40-~2E_~7E.jpg"},
		{"{\"v\":1,\"app\":\"wx1\",\"scene\":\"a\",\"page\":\"pages/店/index\",\"line_color\":[255,128,0]}", "c-01eff54468f360313e3a54e9495831f7", "wx1/pages~2F~E5~BA~97~2Findex/a~peb5741d70204.jpg"},
		{"{\"v\":1,\"app\":\"wx1\",\"scene\":\"k\",\"page\":\"p/q\",\"key\":\"custom/x.jpg\",\"run\":\"r1\",\"row\":7,\"force\":true,\"high\":true,\"budget\":\"wx1/campaign/c\"}", "c-c72c20cf881080140cae32ddf8219640", "wx1/p~2Fq/k.jpg"},
		{"{\"v\":1,\"app\":\"wx1\",\"scene\":\"k\",\"page\":\"p/q\",\"run\":\"r1\"}", "c-9342adf0b6ddcbd7cf65b30fe5d76c03", "wx1/p~2Fq/k.jpg"},
	}
	for _, tc := range cases {
		j, err := Decode([]byte(tc.payload))
		require.NoError(t, err, tc.payload)
		require.Equal(t, tc.taskID, j.TaskID(), tc.payload)
		require.Equal(t, tc.key, storage.DefaultTemplate().Key(j.KeyParams(false)), tc.payload)
		again, err := j.Encode()
		require.NoError(t, err)
		j2, err := Decode(again)
		require.NoError(t, err)
		require.Equal(t, j, j2, "the new encoding round-trips")
		require.JSONEq(t, tc.payload, string(again), "and is the same JSON, fields in another order at most")
	}
}
