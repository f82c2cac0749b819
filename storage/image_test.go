package storage_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
)

func TestSniffImage(t *testing.T) {
	t.Parallel()
	f, err := storage.SniffImage(testImage(t))
	require.NoError(t, err)
	require.Equal(t, code.JPEG, f)
	f, err = storage.SniffImage(transparentPNG(t))
	require.NoError(t, err)
	require.Equal(t, code.PNG, f)
	for _, bad := range [][]byte{nil, []byte(`{"errcode":45009}`), []byte("GIF89a")} {
		_, err = storage.SniffImage(bad)
		require.ErrorIs(t, err, storage.ErrUnknownFormat)
	}
}

func TestToPNG(t *testing.T) {
	t.Parallel()
	src := testImage(t)
	out, err := storage.ToPNG(src)
	require.NoError(t, err)
	got, err := png.Decode(bytes.NewReader(out))
	require.NoError(t, err)
	want, err := jpeg.Decode(bytes.NewReader(src))
	require.NoError(t, err)
	require.Equal(t, want.Bounds(), got.Bounds())
	for _, pt := range []image.Point{{0, 0}, {17, 300}, {429, 429}} {
		require.Equal(t, rgba(want.At(pt.X, pt.Y)), rgba(got.At(pt.X, pt.Y)), "PNG conversion is lossless")
	}
	p := transparentPNG(t)
	same, err := storage.ToPNG(p)
	require.NoError(t, err)
	require.Equal(t, p, same, "PNG input is returned unchanged")
	_, err = storage.ToPNG([]byte{0xFF, 0xD8, 0xFF, 0x00})
	require.Error(t, err, "corrupt JPEG")
	_, err = storage.ToPNG([]byte("{}"))
	require.ErrorIs(t, err, storage.ErrUnknownFormat)
}

func TestToJPEGFlattensOntoWhite(t *testing.T) {
	t.Parallel()
	out, err := storage.ToJPEG(transparentPNG(t), 0)
	require.NoError(t, err)
	img, err := jpeg.Decode(bytes.NewReader(out))
	require.NoError(t, err)
	r, g, b, _ := img.At(2, 2).RGBA() // transparent in the source
	require.Greater(t, r>>8, uint32(240))
	require.Greater(t, g>>8, uint32(240))
	require.Greater(t, b>>8, uint32(240))
	r, _, _, _ = img.At(30, 30).RGBA() // opaque black in the source
	require.Less(t, r>>8, uint32(20))
	src := testImage(t)
	same, err := storage.ToJPEG(src, 50)
	require.NoError(t, err)
	require.Equal(t, src, same, "JPEG input is returned unchanged")
}

// transparentPNG is a 64x64 hyaline-style code: transparent background
// with an opaque black block.
func transparentPNG(t testing.TB) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := 20; y < 44; y++ {
		for x := 20; x < 44; x++ {
			img.Set(x, y, color.NRGBA{0, 0, 0, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func rgba(c color.Color) [4]uint32 {
	r, g, b, a := c.RGBA()
	return [4]uint32{r, g, b, a}
}
