package code_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/code/codetest"
)

func ptr[T any](v T) *T { return &v }

// The canonical form and hash of renderings, as main computed them before
// the vocabulary existed (storage.CanonicalParams, storage.ParamsHash):
// object keys of existing stores depend on them.
func TestCanonicalGolden(t *testing.T) {
	cases := []struct {
		r         code.Rendering
		canonical string
		hash      string
	}{
		{code.Rendering{}, "env=release;width=430;auto_color=false;line_color=0,0,0;is_hyaline=false", ""},
		{code.Rendering{Width: 430, EnvVersion: "release", LineColor: &code.Color{}}, "env=release;width=430;auto_color=false;line_color=0,0,0;is_hyaline=false", ""},
		{code.Rendering{Width: 1280, EnvVersion: "trial", AutoColor: true, LineColor: &code.Color{1, 2, 3}, IsHyaline: true},
			"env=trial;width=1280;auto_color=true;line_color=1,2,3;is_hyaline=true", "3c9ffc28fd23"},
		{code.Rendering{EnvVersion: "develop", Width: 280}, "env=develop;width=280;auto_color=false;line_color=0,0,0;is_hyaline=false", "4b7dd297af79"},
		{code.Rendering{LineColor: &code.Color{255, 128, 0}}, "env=release;width=430;auto_color=false;line_color=255,128,0;is_hyaline=false", "eb5741d70204"},
		{code.Rendering{Width: 300}, "env=release;width=300;auto_color=false;line_color=0,0,0;is_hyaline=false", "8b1b711a5e97"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.canonical, tc.r.Canonical())
		require.Equal(t, tc.hash, tc.r.Hash())
		require.Equal(t, tc.hash == "", tc.r.IsDefault())
	}
	bad := code.Rendering{EnvVersion: "x;width=430"}
	require.Equal(t, `env="x;width=430";width=430;auto_color=false;line_color=0,0,0;is_hyaline=false`, bad.Canonical())
}

func TestValuesOrderIsFields(t *testing.T) {
	p := code.Params{Scene: "s", Page: "p", CheckPath: ptr(false), Rendering: code.Rendering{Width: 300, EnvVersion: "trial",
		AutoColor: true, LineColor: &code.Color{1, 2, 3}, IsHyaline: true}}
	v := p.Values()
	require.Equal(t, []string{"s", "p", "300", "trial", "false", "true", "1,2,3", "true"}, v)
	var back code.Params
	for i, f := range code.Fields {
		require.NoError(t, back.Set(f, v[i]), f)
	}
	require.Equal(t, p, back, "Set reads what Values writes")
	require.Equal(t, []string{"", "", "0", "", "", "false", "", "false"}, code.Params{}.Values())
}

// TestSharedCases: the table every layer runs (see codetest).
func TestSharedCases(t *testing.T) {
	for _, tc := range codetest.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			p, err := tc.Params("s1")
			if err == nil {
				err = p.Validate()
			}
			if tc.Field == "" {
				require.NoError(t, err)
				return
			}
			var fe *code.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.Field, fe.Field, "%v", err)
			require.True(t, code.IsInvalid(err))
		})
	}
}

func TestValidateScene(t *testing.T) {
	for _, ok := range []string{"a", strings.Repeat("Z", 32), "!#$&'()*+,/:;=?@-._~", "id=42&u=7", "../"} {
		require.NoError(t, code.ValidateScene(ok), ok)
	}
	for _, bad := range []string{"", strings.Repeat("Z", 33), "a%20b", "a b", "商品", `a\b`, "a\x00", "\xff", "a\"b", "\ufeffa"} {
		err := code.ValidateScene(bad)
		var fe *code.FieldError
		require.ErrorAs(t, err, &fe, "%q accepted", bad)
		require.Equal(t, code.FieldScene, fe.Field)
	}
	require.EqualError(t, code.ValidateScene("a%b"), `invalid scene "a%b": character '%' is not allowed (use [A-Za-z0-9] or !#$&'()*+,/:;=?@-._~)`)
	require.Contains(t, code.ValidateScene("ab\xff").Error(), "not valid UTF-8 (byte 0xff at offset 2)")
}

func TestValidateApp(t *testing.T) {
	for _, ok := range []string{"wx0123456789abcdef", "wx1", "a", "A_b9", strings.Repeat("w", 64)} {
		require.NoError(t, code.ValidateApp(ok), ok)
	}
	for _, bad := range []string{"", "../../x y", strings.Repeat("w", 3000), strings.Repeat("w", 65), "_runs", "wx-high",
		"wx/1", "wx.1", "wx{1}", "wx 1", "wx\n", "wx\xff", "微信"} {
		err := code.ValidateApp(bad)
		var fe *code.FieldError
		require.ErrorAs(t, err, &fe, "%q accepted", bad)
		require.Equal(t, code.FieldApp, fe.Field)
	}
	require.Less(t, len(code.ValidateApp(strings.Repeat("w", 3000)).Error()), 200, "long values are shortened")
}

func TestFormats(t *testing.T) {
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 0xFF, 0xD9}
	png := append([]byte("\x89PNG\r\n\x1a\n..."), 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82)
	for _, tc := range []struct {
		data []byte
		f    code.Format
		ok   bool
	}{{jpeg, code.JPEG, true}, {png, code.PNG, true}, {[]byte(`{"errcode":1}`), "", false}, {nil, "", false}, {[]byte{0xFF, 0xD8}, "", false}} {
		f, ok := code.FormatOf(tc.data)
		require.Equal(t, tc.f, f)
		require.Equal(t, tc.ok, ok)
	}
	require.True(t, code.JPEG.Complete(jpeg))
	require.False(t, code.JPEG.Complete(jpeg[:6]))
	require.True(t, code.PNG.Complete(png))
	require.False(t, code.PNG.Complete(png[:len(png)-1]))
	require.Equal(t, []string{"jpg", "image/jpeg", "png", "image/png"}, []string{code.JPEG.Ext(), code.JPEG.ContentType(), code.PNG.Ext(), code.PNG.ContentType()})
	require.Equal(t, code.PNG, code.Rendering{IsHyaline: true}.Format())
	require.Equal(t, code.JPEG, code.Rendering{}.Format())
}

func TestSetJSON(t *testing.T) {
	var p code.Params
	for f, raw := range map[string]string{"scene": `"a\u0026b"`, "page": `"pages/店"`, "width": "300", "env_version": `"trial"`,
		"check_path": "false", "auto_color": "true", "line_color": `{"b":3,"r":1,"g":2}`, "is_hyaline": "true"} {
		require.NoError(t, p.SetJSON(f, []byte(raw)), f)
	}
	require.Equal(t, code.Params{Scene: "a&b", Page: "pages/店", CheckPath: ptr(false), Rendering: code.Rendering{Width: 300,
		EnvVersion: "trial", AutoColor: true, LineColor: &code.Color{1, 2, 3}, IsHyaline: true}}, p)
	require.NoError(t, p.SetJSON("page", []byte("null")))
	require.Equal(t, "pages/店", p.Page, "null keeps the value")
	for _, tc := range []struct{ field, raw string }{
		{"width", `"300"`}, {"width", "300.5"}, {"check_path", `"false"`}, {"is_hyaline", "1"}, {"scene", "42"},
		{"page", `"pages/\ud800"`}, {"page", `"\udfff\ud800"`}, {"line_color", `{"r":1,"g":2}`}, {"line_color", `{"R":1,"g":2,"b":3}`},
		{"line_color", `{"r":1,"r":2,"g":2,"b":3}`}, {"line_color", `{"r":1,"g":2,"b":3,"a":4}`}, {"line_color", `{"r":1,"g":2,"b":256}`},
		{"line_color", `[1,2]`}, {"line_color", `"red"`}, {"colour", `1`},
	} {
		err := new(code.Params).SetJSON(tc.field, []byte(tc.raw))
		var fe *code.FieldError
		require.ErrorAs(t, err, &fe, "%s %s accepted", tc.field, tc.raw)
		require.Equal(t, tc.field, fe.Field)
	}
	s, err := code.JSONString([]byte(`"\ufffd and \uD83D\uDE00 and �"`))
	require.NoError(t, err, "a real U+FFFD and a surrogate pair are characters")
	require.Equal(t, "\ufffd and 😀 and \ufffd", s)
}

func TestColorJSON(t *testing.T) {
	b, err := json.Marshal(code.Color{1, 2, 3})
	require.NoError(t, err)
	require.Equal(t, "[1,2,3]", string(b), "the payload form of main")
	for _, raw := range []string{"[1,2,3]", `{"r":1,"g":2,"b":3}`, `"1,2,3"`, `"#010203"`} {
		var c code.Color
		require.NoError(t, json.Unmarshal([]byte(raw), &c), raw)
		require.Equal(t, code.Color{1, 2, 3}, c)
	}
	for _, raw := range []string{"[1,2]", "[1,2,3,4]", "[1,2,300]", `"x"`, "true"} {
		var c code.Color
		require.Error(t, json.Unmarshal([]byte(raw), &c), raw)
	}
}

func TestParseColor(t *testing.T) {
	for in, want := range map[string]code.Color{"1,2,3": {1, 2, 3}, " 1, 2 ,3 ": {1, 2, 3}, "#0a0B0c": {10, 11, 12}, "255,255,255": {255, 255, 255}} {
		c, err := code.ParseColor(in)
		require.NoError(t, err, in)
		require.Equal(t, want, *c)
	}
	for _, in := range []string{"", "1,2", "1,2,3,4", "#12345", "#1234567", "#gggggg", "a,b,c", "256,0,0"} {
		_, err := code.ParseColor(in)
		var fe *code.FieldError
		require.True(t, errors.As(err, &fe), in)
		require.Equal(t, code.FieldLineColor, fe.Field)
	}
}

func TestObjectMembers(t *testing.T) {
	m, err := code.ObjectMembers([]byte(` {"scene":"a", "scene" : "b","SCENE":1} `))
	require.NoError(t, err)
	require.Len(t, m, 3, "repeats are kept, not merged")
	require.Equal(t, []string{"scene", "scene", "SCENE"}, []string{m[0].Key, m[1].Key, m[2].Key})
	require.Equal(t, `"b"`, string(m[1].Value))
	for _, bad := range []string{"", "[]", `"a"`, `{"a":1} {"b":2}`, `{"a":}`, `{"a":1`, `{"a":1}x`} {
		_, err := code.ObjectMembers([]byte(bad))
		require.Error(t, err, bad)
	}
}
