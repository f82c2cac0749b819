package wechattest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRenderDecodeRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		width   int
		rgb     [3]int
		hyaline bool
		magic   []byte
	}{
		{"jpeg default", 430, [3]int{}, false, []byte{0xFF, 0xD8, 0xFF}},
		{"jpeg min width", 280, [3]int{}, false, []byte{0xFF, 0xD8, 0xFF}},
		{"jpeg max width colored", 1280, [3]int{20, 60, 140}, false, []byte{0xFF, 0xD8, 0xFF}},
		{"png hyaline", 430, [3]int{}, true, []byte{0x89, 'P', 'N', 'G'}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := Content{AppID: "wxapp00000000001", Page: "pages/item/detail", Scene: "a=1&b=Zz9~!"}
			data, err := Render(want, tc.width, tc.rgb, tc.hyaline)
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(data, tc.magic))
			cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
			require.NoError(t, err)
			require.Equal(t, tc.width, cfg.Width)
			require.Equal(t, tc.width, cfg.Height)
			got, err := DecodeImage(data)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

func TestHyalineIsTransparent(t *testing.T) {
	data, err := Render(Content{AppID: "wx1", Scene: "s"}, 300, [3]int{}, true)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	_, _, _, a := img.At(0, 0).RGBA()
	require.Zero(t, a, "corner pixel (quiet zone) must be transparent")
	require.Equal(t, color.NRGBA{0xFF, 0xFF, 0xFF, 0}, img.(*image.Paletted).Palette[0], "background is transparent white")
}

func TestDecodeImageRejectsForeignData(t *testing.T) {
	_, err := DecodeImage([]byte("not an image"))
	require.Error(t, err)
	blank := image.NewGray(image.Rect(0, 0, 300, 300))
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, blank))
	_, err = DecodeImage(buf.Bytes())
	require.Error(t, err)
}

// BenchmarkRender measures the fake's image cost per interface B call
// (default 430 px JPEG and hyaline PNG).
func BenchmarkRender(b *testing.B) {
	for _, hy := range []bool{false, true} {
		name := "jpeg430"
		if hy {
			name = "png430"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				c := Content{AppID: "wxapp00000000001", Page: "pages/index/index", Scene: "s" + string(rune('a'+i%26))}
				if _, err := Render(c, 430, [3]int{}, hy); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestEveryRenderDecodes guards against codes that render but do not scan
// (uneven module scaling once made a few in a thousand unreadable).
func TestEveryRenderDecodes(t *testing.T) {
	for i := range 400 {
		c := Content{AppID: "wxe2e0000000000001", Page: "pages/coupon/index", Scene: fmt.Sprintf("c=%d&u=%d", i*5+1000, i*7)}
		img, err := Render(c, 280+i%3*300, [3]int{}, i%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeImage(img)
		if err != nil || got != c {
			t.Fatalf("%+v: got %+v, %v", c, got, err)
		}
	}
}
