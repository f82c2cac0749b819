package storage_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
)

func TestParseKeyTemplateAccepts(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		storage.DefaultKeyTemplate,
		"codes/{appid}/{page}/{scene}{params}.{ext}",
		"{appid}/{scene}/{page}{params}.{ext}",
		"{appid}.{page}.{scene}{params}.{ext}",
		"{hash}.{ext}",
		"{hash}",
		"{appid}/{hash}",
		"{appid}/v2-{page}/{scene}{params}-code.{ext}",
	} {
		_, err := storage.ParseKeyTemplate(s)
		require.NoError(t, err, s)
	}
}

func TestParseKeyTemplateRejects(t *testing.T) {
	t.Parallel()
	for s, problem := range map[string]string{
		"{appid}/{page}/{scene}.{ext}":            "must contain {params}",
		"{page}/{scene}{params}.{ext}":            "must contain {appid}",
		"{appid}/{page}/{params}.{ext}":           "must contain {scene}",
		"{appid}/{page}/{scene}{params}":          "must contain {ext}",
		"{appid}/{page}/{scene}{params}.{png}":    "unknown placeholder {png}",
		"{appid}/{page}/{scene}{params}.{ext":     "unclosed",
		"{appid}/{page}/{scene}{params}.{ext}}":   "not allowed",
		"{appid}/{page}/{scene}{params}~{ext}":    "not allowed",
		"{appid}/{page}/{scene}{params}.{ext}?":   "not allowed",
		"{appid}/{page}{scene}{params}.{ext}":     "separated",
		"{appid}/{page}-{scene}{params}.{ext}":    "separated",
		"{appid}/{page}/{params}{scene}.{ext}":    "{params} must directly follow",
		"{appid}/{page}/{scene}.{ext}{params}":    "{params} must directly follow",
		"/{appid}/{page}/{scene}{params}.{ext}":   "empty path segment",
		"{appid}//{page}/{scene}{params}.{ext}":   "empty path segment",
		"{appid}/{page}/{scene}{params}.{ext}/":   "empty path segment",
		"../{appid}/{page}/{scene}{params}.{ext}": "starts with '.'",
		"{appid}/./{page}/{scene}{params}.{ext}":  "starts with '.'",
		"{appid}/{page}/.{scene}{params}.{ext}":   "starts with '.'",
		"{hash}/{hash}":                           "twice",
	} {
		_, err := storage.ParseKeyTemplate(s)
		require.Error(t, err, s)
		require.True(t, storage.IsInvalid(err), s)
		require.Contains(t, err.Error(), problem, s)
	}
}

func TestDefaultTemplateKeys(t *testing.T) {
	t.Parallel()
	tmpl := storage.DefaultTemplate()
	base := storage.KeyParams{AppID: "wx0123456789abcdef", Page: "pages/index/index", Scene: "uid=42", Ext: "jpg"}
	require.Equal(t, "wx0123456789abcdef/pages~2Findex~2Findex/uid~3D42.jpg", tmpl.Key(base))

	// Spelling out WeChat's defaults changes nothing.
	explicit := base
	explicit.Width, explicit.EnvVersion, explicit.LineColor = 430, "release", &[3]int{0, 0, 0}
	require.Equal(t, tmpl.Key(base), tmpl.Key(explicit))
	require.Empty(t, storage.ParamsHash(explicit))

	// Every non-default rendering gets its own hash.
	variants := map[string]storage.KeyParams{}
	for name, mut := range map[string]func(*storage.KeyParams){
		"width":     func(p *storage.KeyParams) { p.Width = 280 },
		"trial":     func(p *storage.KeyParams) { p.EnvVersion = "trial" },
		"develop":   func(p *storage.KeyParams) { p.EnvVersion = "develop" },
		"autocolor": func(p *storage.KeyParams) { p.AutoColor = true },
		"red":       func(p *storage.KeyParams) { p.LineColor = &[3]int{255, 0, 0} },
		"hyaline":   func(p *storage.KeyParams) { p.IsHyaline = true },
	} {
		p := base
		mut(&p)
		variants[name] = p
	}
	seen := map[string]string{tmpl.Key(base): "default"}
	for name, p := range variants {
		h := storage.ParamsHash(p)
		require.Len(t, h, 12, name)
		key := tmpl.Key(p)
		require.Equal(t, "wx0123456789abcdef/pages~2Findex~2Findex/uid~3D42~p"+h+".jpg", key, name)
		require.NotContains(t, seen, key, "%s collides with %s", name, seen[key])
		seen[key] = name
	}
}

// randomParams draws parameters from small alphabets so that near-misses
// (same scene, other page; same rendering, other ext...) are frequent.
func randomParams(rng *rand.Rand) storage.KeyParams {
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	p := storage.KeyParams{
		AppID:      pick("wx1", "wx2", ""),
		Page:       pick("", "a", "a/b", "a~2Fb", "a.b"),
		Scene:      pick("", ".", "..", "../", "~", "~7E", "a", "A", "a.", "a~p", "%2e"),
		EnvVersion: pick("", "release", "trial"),
		Width:      []int{0, 430, 280}[rng.IntN(3)],
		AutoColor:  rng.IntN(2) == 0,
		IsHyaline:  rng.IntN(2) == 0,
		Ext:        pick("jpg", "png"),
	}
	if rng.IntN(2) == 0 {
		p.LineColor = &[3]int{rng.IntN(2), 0, 0}
	}
	return p
}

// identity is what must differ for two codes to be different codes.
func identity(p storage.KeyParams) string {
	return fmt.Sprintf("%q %q %q %q %q", p.AppID, p.Page, p.Scene, storage.CanonicalParams(p), p.Ext)
}

func TestTemplatesNeverCollide(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for _, src := range []string{storage.DefaultKeyTemplate, "{appid}.{page}.{scene}{params}.{ext}",
		"x/{scene}{params}.v-{appid}/{page}.{ext}", "{hash}.{ext}"} {
		tmpl, err := storage.ParseKeyTemplate(src)
		require.NoError(t, err)
		byKey, keyByID := map[string]string{}, map[string]string{}
		for range 20_000 {
			p := randomParams(rng)
			key := tmpl.Key(p)
			require.NoError(t, storage.CheckKey(key), src)
			id := identity(p)
			if prev, ok := byKey[key]; ok && prev != id {
				t.Fatalf("%s: %s and %s both map to %q", src, prev, id, key)
			}
			byKey[key] = id
			if prev, ok := keyByID[id]; ok && prev != key {
				t.Fatalf("%s: %s maps to %q and %q", src, id, prev, key)
			}
			keyByID[id] = key
		}
		require.Greater(t, len(byKey), 1000, "too few distinct codes drawn for %s", src)
		require.False(t, strings.Contains(strings.Join(mapKeys(byKey), "\n"), "//"))
	}
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
