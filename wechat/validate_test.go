package wechat

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/code/codetest"
)

// TestInvalidCodesAreNeverSent: the client refuses every code the
// vocabulary refuses (the shared table), before any I/O, with the
// *code.FieldError of the field; the error is permanent.
func TestInvalidCodesAreNeverSent(t *testing.T) {
	client := NewClient(Config{BaseURL: "http://127.0.0.1:1"}) // nothing listens: a request would fail otherwise
	for _, tc := range codetest.Cases {
		if tc.Field == "" {
			continue
		}
		t.Run(tc.Name, func(t *testing.T) {
			p, err := tc.Params("s1")
			if err == nil {
				_, err = client.GetUnlimited(t.Context(), "token", p)
			}
			var fe *code.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.Field, fe.Field)
			require.True(t, IsPermanent(err))
			require.False(t, IsRetryable(err))
		})
	}
	_, err := client.GetUnlimited(t.Context(), "token", code.Params{Scene: "a%b"})
	require.True(t, IsPermanent(err))
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
		{"A width", QRCodeRequest{Path: "p", Rendering: code.Rendering{Width: 100}}.Validate(), "width"},
		{"A env", QRCodeRequest{Path: "p", Rendering: code.Rendering{EnvVersion: "prod"}}.Validate(), "env_version"},
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
			var fe *code.FieldError
			switch {
			case errors.As(tc.err, &ve):
				require.Equal(t, tc.field, ve.Field)
			case errors.As(tc.err, &fe):
				require.Equal(t, tc.field, fe.Field)
			default:
				t.Fatalf("untyped error %v", tc.err)
			}
			require.True(t, IsPermanent(tc.err))
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	long := (&ValidationError{Field: "path", Value: strings.Repeat("x", 100), Reason: "r"}).Error()
	require.Less(t, len(long), 120, "long values are shortened")
}

func TestRequestBody(t *testing.T) {
	cases := []struct {
		name string
		p    code.Params
		want string
	}{
		{"defaults omitted", code.Params{Scene: "a"}, `{"scene":"a"}`},
		{"no HTML escaping", code.Params{Scene: "a=1&b<2>"}, `{"scene":"a=1&b<2>"}`},
		{"real booleans and numbers", code.Params{Scene: "s", Page: "pages/i", CheckPath: ptr(false), Rendering: code.Rendering{EnvVersion: "develop",
			Width: 300, AutoColor: true, LineColor: &code.Color{R: 1, G: 2, B: 3}, IsHyaline: true}},
			`{"scene":"s","page":"pages/i","check_path":false,"width":300,"env_version":"develop","auto_color":true,"is_hyaline":true,"line_color":{"r":"1","g":"2","b":"3"}}`},
		{"check_path true kept", code.Params{Scene: "s", CheckPath: ptr(true)}, `{"scene":"s","check_path":true}`},
		{"black line colour kept", code.Params{Scene: "s", Rendering: code.Rendering{LineColor: &code.Color{}}}, `{"scene":"s","line_color":{"r":"0","g":"0","b":"0"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, string(CodeBody(tc.p)))
		})
	}
	require.Equal(t, `{"path":"p?a=1&b=2"}`, string(QRCodeRequest{Path: "p?a=1&b=2"}.body()))
	require.Equal(t, `{"path":"p","width":300,"line_color":{"r":"0","g":"0","b":"9"}}`,
		string(QRCodeRequest{Path: "p", Rendering: code.Rendering{Width: 300, LineColor: &code.Color{B: 9}}}.body()))
}
