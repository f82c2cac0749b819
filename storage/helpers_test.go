package storage_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
)

// testImage returns a decodable JPEG of 60-100 KB, like a 430 px code
// from WeChat: a grid of dark cells plus noise that compresses poorly.
func testImage(t testing.TB) []byte {
	t.Helper()
	const size = 430
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			v := uint8(235 + rng.IntN(20))
			if (x/10+y/10)%3 == 0 {
				v = uint8(rng.IntN(40))
			}
			img.Set(x, y, color.RGBA{v, v, uint8(min(255, int(v)+rng.IntN(8))), 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}))
	require.True(t, buf.Len() >= 50_000 && buf.Len() <= 100_000, "test image is %d bytes", buf.Len())
	return buf.Bytes()
}

// ctx returns a context bounded well below the test timeout.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func openLocal(t testing.TB) *storage.LocalStore {
	t.Helper()
	st, err := storage.OpenLocal(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

var errCanceled = context.Canceled

func contextCancelled() (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	return c, cancel
}
