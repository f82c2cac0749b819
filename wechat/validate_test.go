package wechat

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCodeRequestValidate(t *testing.T) {
	cases := []struct {
		name  string
		req   CodeRequest
		field string // "" = valid
	}{
		{"minimal", CodeRequest{Scene: "a"}, ""},
		{"32 chars", CodeRequest{Scene: strings.Repeat("Z", 32)}, ""},
		{"every allowed symbol", CodeRequest{Scene: "!#$&'()*+,/:;=?@-._~"}, ""},
		{"full", CodeRequest{Scene: "id=42", Page: "pages/item/detail", CheckPath: ptr(false),
			EnvVersion: "trial", Width: 1280, LineColor: &Color{255, 0, 12}, IsHyaline: true}, ""},
		{"width min", CodeRequest{Scene: "a", Width: 280}, ""},
		{"empty scene", CodeRequest{}, "scene"},
		{"33 chars", CodeRequest{Scene: strings.Repeat("Z", 33)}, "scene"},
		{"percent", CodeRequest{Scene: "a%20b"}, "scene"},
		{"space", CodeRequest{Scene: "a b"}, "scene"},
		{"chinese", CodeRequest{Scene: "商品"}, "scene"},
		{"backslash", CodeRequest{Scene: `a\b`}, "scene"},
		{"leading slash", CodeRequest{Scene: "a", Page: "/pages/index/index"}, "page"},
		{"query", CodeRequest{Scene: "a", Page: "pages/index/index?x=1"}, "page"},
		{"scancode_time", CodeRequest{Scene: "a", Page: "pages/scancode_time/x"}, "page"},
		{"page space", CodeRequest{Scene: "a", Page: "pages/a b"}, "page"},
		{"width low", CodeRequest{Scene: "a", Width: 279}, "width"},
		{"width high", CodeRequest{Scene: "a", Width: 1281}, "width"},
		{"width negative", CodeRequest{Scene: "a", Width: -1}, "width"},
		{"env bad", CodeRequest{Scene: "a", EnvVersion: "release_error"}, "env_version"},
		{"env case", CodeRequest{Scene: "a", EnvVersion: "Release"}, "env_version"},
		{"color high", CodeRequest{Scene: "a", LineColor: &Color{0, 256, 0}}, "line_color"},
		{"color negative", CodeRequest{Scene: "a", LineColor: &Color{-1, 0, 0}}, "line_color"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.True(t, errors.As(err, &ve), "want *ValidationError, got %v", err)
			require.Equal(t, tc.field, ve.Field)
			require.True(t, IsPermanent(err))
			require.False(t, IsRetryable(err))
		})
	}
}

func TestQRCodeValidate(t *testing.T) {
	long := strings.Repeat("p", 1025)
	cases := []struct {
		name  string
		err   error
		field string
	}{
		{"A ok with query", QRCodeRequest{Path: "pages/index?a=1&b=2"}.Validate(), ""},
		{"A 1024 runes", QRCodeRequest{Path: strings.Repeat("页", 1024)}.Validate(), ""},
		{"A empty", QRCodeRequest{}.Validate(), "path"},
		{"A too long", QRCodeRequest{Path: long}.Validate(), "path"},
		{"A scancode_time", QRCodeRequest{Path: "p?scancode_time=1"}.Validate(), "path"},
		{"A width", QRCodeRequest{Path: "p", Width: 100}.Validate(), "width"},
		{"A env", QRCodeRequest{Path: "p", EnvVersion: "prod"}.Validate(), "env_version"},
		{"C ok", validateC(strings.Repeat("p", 128), 430), ""},
		{"C 129 bytes", validateC(strings.Repeat("p", 129), 0), "path"},
		{"C multibyte over 128 bytes", validateC(strings.Repeat("页", 43), 0), "path"},
		{"C width", validateC("p", 2000), "width"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.field == "" {
				require.NoError(t, tc.err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, tc.err, &ve)
			require.Equal(t, tc.field, ve.Field)
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	err := CodeRequest{Scene: "a%b"}.Validate()
	require.EqualError(t, err, `wechat: invalid scene "a%b": character '%' is not allowed (use [A-Za-z0-9] or !#$&'()*+,/:;=?@-._~)`)
	long := (&ValidationError{Field: "page", Value: strings.Repeat("x", 100), Reason: "r"}).Error()
	require.Less(t, len(long), 120, "long values are shortened")
}

func TestRequestBody(t *testing.T) {
	cases := []struct {
		name string
		req  CodeRequest
		want string
	}{
		{"defaults omitted", CodeRequest{Scene: "a"}, `{"scene":"a"}`},
		{"no HTML escaping", CodeRequest{Scene: "a=1&b<2>"}, `{"scene":"a=1&b<2>"}`},
		{"real booleans and numbers", CodeRequest{Scene: "s", Page: "pages/i", CheckPath: ptr(false), EnvVersion: "develop",
			Width: 300, AutoColor: true, LineColor: &Color{1, 2, 3}, IsHyaline: true},
			`{"scene":"s","page":"pages/i","check_path":false,"env_version":"develop","width":300,"auto_color":true,"line_color":{"r":1,"g":2,"b":3},"is_hyaline":true}`},
		{"check_path true kept", CodeRequest{Scene: "s", CheckPath: ptr(true)}, `{"scene":"s","check_path":true}`},
		{"black line colour kept", CodeRequest{Scene: "s", LineColor: &Color{}}, `{"scene":"s","line_color":{"r":0,"g":0,"b":0}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, string(tc.req.Body()))
		})
	}
	require.Equal(t, `{"path":"p?a=1&b=2"}`, string(encodeJSON(aBody(QRCodeRequest{Path: "p?a=1&b=2"}))))
}
