package code_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wxacode/wxacode/code"
)

// sceneRE is the documented rule, written independently of ValidateScene.
var sceneRE = regexp.MustCompile(`^[A-Za-z0-9!#$&'()*+,/:;=?@\-._~]{1,32}$`)

// FuzzValidateScenePage: ValidateScene agrees with the documented
// alphabet; ValidatePage refuses every forbidden page and accepts only
// valid UTF-8; errors are *FieldError naming the field.
func FuzzValidateScenePage(f *testing.F) {
	for _, s := range []string{"a", "a=1&b=2", strings.Repeat("x", 33), "%", "商品", "", "pages/index/index",
		"/p", "p?x=1", "p/scancode_time", "a\x00b", "pages/\xff", "\ufeffp", "p\u200b"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, scene, page string) {
		serr := code.ValidateScene(scene)
		if (serr == nil) != sceneRE.MatchString(scene) {
			t.Fatalf("ValidateScene(%q) = %v, regexp says %v", scene, serr, sceneRE.MatchString(scene))
		}
		perr := code.ValidatePage(page)
		bad := strings.HasPrefix(page, "/") || strings.Contains(page, "?") || strings.Contains(page, "scancode_time") ||
			!utf8.ValidString(page) || len(page) > code.MaxPageLen || strings.ContainsAny(page, " \t\r\n\x00\ufeff\ufffd")
		if bad && perr == nil {
			t.Fatalf("ValidatePage(%q) accepted a forbidden page", page)
		}
		for field, err := range map[string]error{code.FieldScene: serr, code.FieldPage: perr} {
			var fe *code.FieldError
			if err != nil && (!errors.As(err, &fe) || fe.Field != field || !utf8.ValidString(err.Error())) {
				t.Fatalf("untyped validation error %v", err)
			}
		}
	})
}
