// Package codetest holds the table of pages and rendering options that
// every layer must judge alike: the vocabulary's own tests, campaign
// validation, enqueue and the worker all run it, so a rule cannot be
// changed in one place and not another.
package codetest

import (
	"strings"

	"github.com/wxacode/wxacode/code"
)

// Case is one set of code options as an operator writes them (a campaign
// definition, CSV cells, flags): the page, width, env_version and line
// colour as text. Field is the field the case must be refused for, or ""
// when it is valid.
type Case struct {
	Name       string
	Page       string
	Width      int
	EnvVersion string
	LineColor  string
	Field      string
}

// Params returns the case as parameters of a code with the given scene.
// A line colour that does not parse returns its *code.FieldError.
func (c Case) Params(scene string) (code.Params, error) {
	p := code.Params{Scene: scene, Page: c.Page}
	p.Width, p.EnvVersion = c.Width, c.EnvVersion
	if err := p.Set(code.FieldLineColor, c.LineColor); err != nil {
		return p, err
	}
	return p, nil
}

// Cases are valid and invalid options; each invalid one breaks exactly one
// rule.
var Cases = []Case{
	{Name: "home page", Page: ""},
	{Name: "page", Page: "pages/index/index"},
	{Name: "page with dots and dashes", Page: "pkg-a/pages/item.v2/detail_1"},
	{Name: "chinese page", Page: "pages/店铺/首页"},
	{Name: "page of 128 bytes", Page: "pages/" + strings.Repeat("a", 122)},
	{Name: "every option", Page: "pages/a", Width: 1280, EnvVersion: "develop", LineColor: "#1aad19"},
	{Name: "width min", Width: 280},
	{Name: "width default spelled out", Width: 430, EnvVersion: "release", LineColor: "0,0,0"},
	{Name: "trial", EnvVersion: "trial"},
	{Name: "leading slash", Page: "/pages/index/index", Field: code.FieldPage},
	{Name: "query", Page: "pages/index/index?id=1", Field: code.FieldPage},
	{Name: "scancode_time", Page: "pages/scancode_time/index", Field: code.FieldPage},
	{Name: "scancode_time in a name", Page: "pages/x_scancode_time", Field: code.FieldPage},
	{Name: "space", Page: "pages/a b", Field: code.FieldPage},
	{Name: "tab", Page: "pages/a\tb", Field: code.FieldPage},
	{Name: "NUL", Page: "pages/a\x00", Field: code.FieldPage},
	{Name: "DEL", Page: "pages/a\x7f", Field: code.FieldPage},
	{Name: "line break", Page: "pages/a\nb", Field: code.FieldPage},
	{Name: "byte order mark", Page: "\ufeffpages/a", Field: code.FieldPage},
	{Name: "zero-width space", Page: "pages/a\u200bb", Field: code.FieldPage},
	{Name: "ideographic space", Page: "pages/a\u3000b", Field: code.FieldPage},
	{Name: "replacement character", Page: "pages/\ufffd", Field: code.FieldPage},
	{Name: "invalid UTF-8 ff", Page: "pages/\xff", Field: code.FieldPage},
	{Name: "invalid UTF-8 fe", Page: "pages/\xfe", Field: code.FieldPage},
	{Name: "UTF-8 surrogate", Page: "pages/\xed\xa0\x80", Field: code.FieldPage},
	{Name: "page of 129 bytes", Page: "pages/" + strings.Repeat("a", 123), Field: code.FieldPage},
	{Name: "page of 306 bytes", Page: "pages/" + strings.Repeat("a", 300), Field: code.FieldPage},
	{Name: "width 279", Width: 279, Field: code.FieldWidth},
	{Name: "width 1281", Width: 1281, Field: code.FieldWidth},
	{Name: "width negative", Width: -430, Field: code.FieldWidth},
	{Name: "env prod", EnvVersion: "prod", Field: code.FieldEnvVersion},
	{Name: "env case", EnvVersion: "Release", Field: code.FieldEnvVersion},
	{Name: "env space", EnvVersion: "release ", Field: code.FieldEnvVersion},
	{Name: "colour 256", LineColor: "0,0,256", Field: code.FieldLineColor},
	{Name: "colour negative", LineColor: "-1,0,0", Field: code.FieldLineColor},
	{Name: "colour name", LineColor: "red", Field: code.FieldLineColor},
	{Name: "colour short hex", LineColor: "#fff", Field: code.FieldLineColor},
}
