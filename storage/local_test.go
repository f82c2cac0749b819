package storage_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
)

func TestLocalRoundTrip(t *testing.T) {
	t.Parallel()
	st := openLocal(t)
	img := testImage(t)
	sum := sha256.Sum256(img)
	p := storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.JPEG, Params: code.Params{Page: "pages/index/index", Scene: "a=1&b=2"}}
	key := storage.DefaultTemplate().Key(p)
	md := storage.Metadata(p, hex.EncodeToString(sum[:]), time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC))

	_, err := st.Stat(ctx(t), key)
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, _, err = st.Get(ctx(t), key)
	require.ErrorIs(t, err, storage.ErrNotFound)

	require.NoError(t, st.Put(ctx(t), key, img, storage.PutOptions{ContentType: "image/jpeg", Metadata: md, IfAbsent: true}))
	onDisk, err := os.ReadFile(filepath.Join(st.Dir(), filepath.FromSlash(key)))
	require.NoError(t, err)
	require.Equal(t, img, onDisk, "object file must hold exactly the bytes put")

	data, info, err := st.Get(ctx(t), key)
	require.NoError(t, err)
	require.Equal(t, img, data)
	require.Equal(t, storage.ObjectInfo{Key: key, Size: int64(len(img)), ContentType: "image/jpeg", Metadata: md, ModTime: info.ModTime}, info)
	require.WithinDuration(t, time.Now(), info.ModTime, time.Minute)

	stat, err := st.Stat(ctx(t), key)
	require.NoError(t, err)
	require.Equal(t, info, stat)

	err = st.Put(ctx(t), key, []byte("other"), storage.PutOptions{IfAbsent: true})
	require.ErrorIs(t, err, storage.ErrExists)
	data, _, err = st.Get(ctx(t), key)
	require.NoError(t, err)
	require.Equal(t, img, data, "a refused conditional put must not touch the object")

	// Unconditional Put replaces, and sniffs the content type when none is given.
	png := []byte("\x89PNG\r\n\x1a\nrest")
	require.NoError(t, st.Put(ctx(t), key, png, storage.PutOptions{}))
	data, info, err = st.Get(ctx(t), key)
	require.NoError(t, err)
	require.Equal(t, png, data)
	require.Equal(t, "image/png", info.ContentType)
	require.Nil(t, info.Metadata)

	require.Equal(t, "file://"+filepath.ToSlash(st.Dir())+"/"+key, st.URL(key))
	require.NoError(t, st.Ping(ctx(t)))
	requireNoTempFiles(t, st.Dir())
}

func TestLocalConditionalCreateRace(t *testing.T) {
	t.Parallel()
	st := openLocal(t)
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			errs[i] = st.Put(ctx(t), "race/one.jpg", []byte{byte(i)}, storage.PutOptions{IfAbsent: true})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "two writers won")
			won = i
			continue
		}
		require.ErrorIs(t, err, storage.ErrExists)
	}
	require.NotEqual(t, -1, won, "no writer won")
	data, _, err := st.Get(ctx(t), "race/one.jpg")
	require.NoError(t, err)
	require.Equal(t, []byte{byte(won)}, data, "the object must be the winner's")
	requireNoTempFiles(t, st.Dir())
}

func TestLocalMissingSidecar(t *testing.T) {
	t.Parallel()
	st := openLocal(t)
	img := testImage(t)
	require.NoError(t, st.Put(ctx(t), "a/b.jpg", img, storage.PutOptions{Metadata: map[string]string{"x": "1"}}))
	// The sidecar is hidden beside the object.
	side := filepath.Join(st.Dir(), "a", ".b.jpg.meta.json")
	require.FileExists(t, side)
	require.NoError(t, os.Remove(side))
	info, err := st.Stat(ctx(t), "a/b.jpg")
	require.NoError(t, err)
	require.Equal(t, "image/jpeg", info.ContentType)
	require.Nil(t, info.Metadata)

	require.NoError(t, os.WriteFile(side, []byte("{not json"), 0o644))
	_, err = st.Stat(ctx(t), "a/b.jpg")
	require.ErrorContains(t, err, "corrupt")
}

func TestLocalNotFoundShapes(t *testing.T) {
	t.Parallel()
	st := openLocal(t)
	require.NoError(t, st.Put(ctx(t), "dir/file.jpg", []byte("x"), storage.PutOptions{}))
	for _, key := range []string{"dir", "dir/file.jpg/below", "nodir/x.jpg", "dir/other.jpg"} {
		_, err := st.Stat(ctx(t), key)
		require.ErrorIs(t, err, storage.ErrNotFound, key)
		_, _, err = st.Get(ctx(t), key)
		require.ErrorIs(t, err, storage.ErrNotFound, key)
	}
}

func TestLocalPingFailsWhenRootIsGone(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	st, err := storage.OpenLocal(filepath.Join(parent, "codes", "nested"))
	require.NoError(t, err, "missing directories are created")
	defer st.Close()
	require.NoError(t, st.Ping(ctx(t)))
	require.NoError(t, os.RemoveAll(filepath.Join(parent, "codes")))
	require.Error(t, st.Ping(ctx(t)))
}

func TestLocalRejectsBadInput(t *testing.T) {
	t.Parallel()
	st := openLocal(t)
	for _, md := range []map[string]string{
		{"Upper": "x"}, {"a_b": "x"}, {"": "x"}, {"k": "é"}, {"k": "line\nbreak"}, {"k": " padded"},
		{"k": strings.Repeat("x", 3000)},
	} {
		err := st.Put(ctx(t), "k.jpg", []byte("x"), storage.PutOptions{Metadata: md})
		require.True(t, storage.IsInvalid(err), "%v: %v", md, err)
	}
	cancelled, cancel := contextCancelled()
	defer cancel()
	require.ErrorIs(t, st.Put(cancelled, "k.jpg", []byte("x"), storage.PutOptions{}), errCanceled)
	_, err := os.Stat(filepath.Join(st.Dir(), "k.jpg"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// requireNoTempFiles fails if a ".tmp-" file was left behind.
func requireNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		require.False(t, strings.HasPrefix(d.Name(), ".tmp-"), "temporary file left: %s", p)
		return nil
	})
	require.NoError(t, err)
}
