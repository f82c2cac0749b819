package storage_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
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
	base := storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.JPEG, Params: code.Params{Page: "pages/index/index", Scene: "uid=42"}}
	require.Equal(t, "wx0123456789abcdef/pages~2Findex~2Findex/uid~3D42.jpg", tmpl.Key(base))

	// Spelling out WeChat's defaults changes nothing.
	explicit := base
	explicit.Width, explicit.EnvVersion, explicit.LineColor = 430, "release", &code.Color{}
	require.Equal(t, tmpl.Key(base), tmpl.Key(explicit))
	require.Empty(t, explicit.Rendering.Hash())

	// Every non-default rendering gets its own hash.
	variants := map[string]storage.KeyParams{}
	for name, mut := range map[string]func(*storage.KeyParams){
		"width":     func(p *storage.KeyParams) { p.Width = 280 },
		"trial":     func(p *storage.KeyParams) { p.EnvVersion = "trial" },
		"develop":   func(p *storage.KeyParams) { p.EnvVersion = "develop" },
		"autocolor": func(p *storage.KeyParams) { p.AutoColor = true },
		"red":       func(p *storage.KeyParams) { p.LineColor = &code.Color{R: 255} },
		"hyaline":   func(p *storage.KeyParams) { p.IsHyaline = true },
	} {
		p := base
		mut(&p)
		variants[name] = p
	}
	seen := map[string]string{tmpl.Key(base): "default"}
	for name, p := range variants {
		h := p.Rendering.Hash()
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
	p := storage.KeyParams{AppID: pick("wx1", "wx2", ""), Format: code.Format(pick("jpeg", "png")), Params: code.Params{Page: pick("", "a", "a/b", "a~2Fb", "a.b"), Scene: pick("", ".", "..", "../", "~", "~7E", "a", "A", "a.", "a~p", "%2e"), Rendering: code.Rendering{EnvVersion: pick("", "release", "trial"), Width: []int{0, 430, 280}[rng.IntN(3)], AutoColor: rng.IntN(2) == 0, IsHyaline: rng.IntN(2) == 0}}}
	if rng.IntN(2) == 0 {
		p.LineColor = &code.Color{R: rng.IntN(2)}
	}
	return p
}

// identity is what must differ for two codes to be different codes.
func identity(p storage.KeyParams) string {
	return fmt.Sprintf("%q %q %q %q %q", p.AppID, p.Page, p.Scene, p.Rendering.Canonical(), p.Format.Ext())
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

// TestKeysGolden: keys of main before the vocabulary existed, for the
// default template and {hash}.{ext}. Existing stores hold objects under
// them; a change here would regenerate (and pay for) every code again.
func TestKeysGolden(t *testing.T) {
	t.Parallel()
	hashT, err := storage.ParseKeyTemplate("{hash}.{ext}")
	require.NoError(t, err)
	cases := []struct {
		p           storage.KeyParams
		key, hashed string
	}{
		{storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.JPEG, Params: code.Params{Scene: "id=42", Page: "pages/coupon/index"}},
			"wx0123456789abcdef/pages~2Fcoupon~2Findex/id~3D42.jpg", "9ab7e5d5b73f372ba83fd194c952eeca.jpg"},
		{storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.JPEG, Params: code.Params{Scene: "id=42", Page: "pages/coupon/index",
			Rendering: code.Rendering{Width: 430, EnvVersion: "release", LineColor: &code.Color{}}}},
			"wx0123456789abcdef/pages~2Fcoupon~2Findex/id~3D42.jpg", "9ab7e5d5b73f372ba83fd194c952eeca.jpg"},
		{storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.PNG, Params: code.Params{Scene: "u1", Page: "pages/index/index",
			Rendering: code.Rendering{Width: 1280, EnvVersion: "trial", AutoColor: true, LineColor: &code.Color{R: 1, G: 2, B: 3}, IsHyaline: true}}},
			"wx0123456789abcdef/pages~2Findex~2Findex/u1~p3c9ffc28fd23.png", "a7504735225a1a5ef4fe026960d9a17f.png"},
		{storage.KeyParams{AppID: "wxd000000000000001", Format: code.JPEG, Params: code.Params{Scene: "c00000001", CheckPath: ptrBool(false),
			Rendering: code.Rendering{EnvVersion: "develop", Width: 280}}},
			"wxd000000000000001/~/c00000001~p4b7dd297af79.jpg", "cee0fac35c2def81abff8958c99ef7a4.jpg"},
		{storage.KeyParams{AppID: "wx1", Format: code.JPEG, Params: code.Params{Scene: "!#$&'()*+,/:;=?@-._~"}},
			"wx1/~/~21~23~24~26~27~28~29~2A~2B~2C~2F~3A~3B~3D~3F~40-~2E_~7E.jpg", "68041a29d0297eed2679d6087837dc60.jpg"},
		{storage.KeyParams{AppID: "wx1", Format: code.JPEG, Params: code.Params{Scene: "a", Page: "pages/店/index",
			Rendering: code.Rendering{LineColor: &code.Color{R: 255, G: 128}}}},
			"wx1/pages~2F~E5~BA~97~2Findex/a~peb5741d70204.jpg", "69480f73832d1bbd7d152a0377739282.jpg"},
		{storage.KeyParams{AppID: "wx1", Format: code.JPEG, Params: code.Params{Scene: "k", Page: "p/q"}},
			"wx1/p~2Fq/k.jpg", "5ac306becee0ff2a38f6c1a66b634ec9.jpg"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.key, storage.DefaultTemplate().Key(tc.p))
		require.Equal(t, tc.hashed, hashT.Key(tc.p))
	}
}

func ptrBool(b bool) *bool { return &b }

func TestCodeKeys(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"custom/x.jpg", "a", "wx1/_runs/x.jpg", "_run/x", "runs/x"} {
		require.NoError(t, storage.CheckCodeKey(ok), ok)
	}
	for _, bad := range []string{"", "_runs/fake-run/manifest-00000.jsonl", "_runs/x", "../../etc/passwd", "x/.hidden", "/abs/path.jpg",
		"a/../b", "a//b", "a/", "a\x00b", "a\nb", `a\b`, "\xff", strings.Repeat("a", storage.MaxSegmentLen+1),
		strings.Repeat("a/", 600)} {
		err := storage.CheckCodeKey(bad)
		var ke *storage.KeyError
		require.ErrorAs(t, err, &ke, "%q accepted", bad)
		require.True(t, storage.IsInvalid(err))
	}
	require.NoError(t, storage.CheckValue("pages/"+strings.Repeat("a", 122)))
	require.Error(t, storage.CheckValue(strings.Repeat("店", 81)), "243 bytes become 729 encoded")
	for _, tmpl := range []string{"_runs/{hash}.{ext}", "_runs/x/{appid}/{page}/{scene}{params}.{ext}"} {
		_, err := storage.ParseKeyTemplate(tmpl)
		var te *storage.TemplateError
		require.ErrorAs(t, err, &te, tmpl)
		require.Contains(t, te.Problem, "reserved")
	}
	_, err := storage.ParseKeyTemplate("_runsx/{hash}.{ext}")
	require.NoError(t, err)
}
