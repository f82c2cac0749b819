package storage_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
)

const hostileDir = "wx0123456789abcdef/pages~2Findex~2Findex/"

// hostileScenes maps legal-but-dangerous scenes to the key the default
// template must give them, written out by hand from the documented encoding.
var hostileScenes = map[string]string{
	"../":                    "~2E~2E~2F",
	"/":                      "~2F",
	"%2e%2e":                 "~252e~252e",
	"%2E%2E%2F":              "~252E~252E~252F",
	"?#":                     "~3F~23",
	strings.Repeat(".", 32):  strings.Repeat("~2E", 32),
	".":                      "~2E",
	"..":                     "~2E~2E",
	"~":                      "~7E",
	"~2E":                    "~7E2E",
	"a/../../b":              "a~2F~2E~2E~2F~2E~2E~2Fb",
	"..%2F..%2Fetc%2Fpasswd": "~2E~2E~252F~2E~2E~252Fetc~252Fpasswd",
	"Scene":                  "Scene",
	"scene":                  "scene",
	"SCENE":                  "SCENE",
	"a~pdeadbeef0000":        "a~7Epdeadbeef0000",
	"id=1&x=y;z,w*(':@!$+)":  "id~3D1~26x~3Dy~3Bz~2Cw~2A~28~27~3A~40~21~24~2B~29",
}

func hostileKeys(t *testing.T) map[string]string {
	t.Helper()
	tmpl := storage.DefaultTemplate()
	keys := map[string]string{}
	for scene, enc := range hostileScenes {
		p := storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.JPEG, Params: code.Params{Page: "pages/index/index", Scene: scene}}
		key := tmpl.Key(p)
		require.Equal(t, hostileDir+enc+".jpg", key, "scene %q", scene)
		require.NotContains(t, keys, key, "scene %q collides", scene)
		keys[key] = scene
		// A non-default rendering of the same scene lands beside it.
		p.Width = 1280
		wide := tmpl.Key(p)
		require.Equal(t, hostileDir+enc+"~p"+p.Rendering.Hash()+".jpg", wide)
		keys[wide] = scene + " (1280)"
	}
	return keys
}

func TestHostileScenesLocal(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	st, err := storage.OpenLocal(filepath.Join(parent, "root"))
	require.NoError(t, err)
	defer st.Close()
	keys := hostileKeys(t)
	for key, scene := range keys {
		require.NoError(t, st.Put(ctx(t), key, []byte(scene), storage.PutOptions{IfAbsent: true}), key)
	}
	// Each object is a file at exactly its key, holding its own scene.
	var found []string
	err = filepath.WalkDir(st.Dir(), func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			rel, err := filepath.Rel(st.Dir(), p)
			require.NoError(t, err)
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	require.ElementsMatch(t, mapKeys(keys), found)
	for key, scene := range keys {
		data, _, err := st.Get(ctx(t), key)
		require.NoError(t, err)
		require.Equal(t, scene, string(data))
	}
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing may be written beside the root")
}

func TestHostileKeysRejected(t *testing.T) {
	t.Parallel()
	st := openLocal(t)
	for _, key := range []string{"", "../x.jpg", "a/../x.jpg", "a/..", "/x.jpg", "a//b.jpg", "a/", "./a.jpg",
		"a/./b.jpg", ".hidden.jpg", "a/.b.jpg.meta.json", "a\\..\\b.jpg", "x\x00.jpg", "x\n.jpg", "\xff.jpg",
		strings.Repeat("a", 241), strings.Repeat("a/", 600) + "a"} {
		err := st.Put(ctx(t), key, []byte("x"), storage.PutOptions{})
		var ke *storage.KeyError
		require.ErrorAs(t, err, &ke, "%q", key)
		_, err = st.Stat(ctx(t), key)
		require.ErrorAs(t, err, &ke, "%q", key)
	}
	entries, err := os.ReadDir(st.Dir())
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestSymlinksCannotEscapeRoot(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.Mkdir(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.jpg"), []byte("secret"), 0o644))
	st, err := storage.OpenLocal(filepath.Join(parent, "root"))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, os.Symlink("../outside", filepath.Join(st.Dir(), "rel")))
	require.NoError(t, os.Symlink(outside, filepath.Join(st.Dir(), "abs")))
	for _, dir := range []string{"rel", "abs"} {
		require.Error(t, st.Put(ctx(t), dir+"/new.jpg", []byte("x"), storage.PutOptions{}), dir)
		_, _, err := st.Get(ctx(t), dir+"/secret.jpg")
		require.Error(t, err, dir)
		require.NotErrorIs(t, err, storage.ErrNotFound, "%s: an escape attempt is an error, not a miss", dir)
	}
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "secret.jpg", entries[0].Name())
}
