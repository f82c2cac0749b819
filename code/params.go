package code

import (
	"fmt"
	"strconv"
)

// Field names: WeChat's JSON names of the parameters, also the CSV columns
// and JSON Lines keys of input rows and the Field of a *FieldError.
const (
	FieldScene      = "scene"
	FieldPage       = "page"
	FieldWidth      = "width"
	FieldEnvVersion = "env_version"
	FieldCheckPath  = "check_path"
	FieldAutoColor  = "auto_color"
	FieldLineColor  = "line_color"
	FieldIsHyaline  = "is_hyaline"
	// FieldApp names the appid in errors; it is not a parameter of the
	// request (the access token says which app calls).
	FieldApp = "app"
)

// Fields are the parameters of a code, in the order of Params.Values.
var Fields = []string{FieldScene, FieldPage, FieldWidth, FieldEnvVersion, FieldCheckPath, FieldAutoColor,
	FieldLineColor, FieldIsHyaline}

// WeChat's defaults, applied when a field is omitted (its zero value here).
const (
	DefaultWidth      = 430
	DefaultEnvVersion = EnvRelease
	DefaultCheckPath  = true
)

// The env_version values WeChat accepts.
const (
	EnvRelease = "release"
	EnvTrial   = "trial"
	EnvDevelop = "develop"
)

// Params are the parameters of one code of interface B. Zero values mean
// WeChat's defaults and are omitted from the request and the task payload.
type Params struct {
	Scene string `json:"scene"`          // required: 1 to 32 characters, see ValidateScene
	Page  string `json:"page,omitempty"` // "" = the home page; see ValidatePage
	// CheckPath nil is WeChat's default (true: the page must be published).
	// It does not change the image, so it is not part of Canonical.
	CheckPath *bool `json:"check_path,omitempty"`
	Rendering
}

// Rendering are the parameters that change the image (and env_version,
// which changes what it opens): everything Canonical and Hash cover.
type Rendering struct {
	Width      int    `json:"width,omitempty"`       // 0 = 430; else 280 to 1280
	EnvVersion string `json:"env_version,omitempty"` // "" = release; else release, trial or develop
	AutoColor  bool   `json:"auto_color,omitempty"`  // WeChat picks the line colour
	LineColor  *Color `json:"line_color,omitempty"`  // nil = black; used when AutoColor is false
	IsHyaline  bool   `json:"is_hyaline,omitempty"`  // transparent background: WeChat sends PNG
}

// Values returns the parameters as text, in the order of Fields: the
// value as given (not normalised), "" for an unset check_path or
// line_color, "0" for an unset width. Identical Params give identical
// Values; jobs hashes them into TaskIDs.
func (p Params) Values() []string {
	check := ""
	if p.CheckPath != nil {
		check = strconv.FormatBool(*p.CheckPath)
	}
	color := ""
	if p.LineColor != nil {
		color = p.LineColor.String()
	}
	return []string{p.Scene, p.Page, strconv.Itoa(p.Width), p.EnvVersion, check, strconv.FormatBool(p.AutoColor),
		color, strconv.FormatBool(p.IsHyaline)}
}

// Format is the image format WeChat returns for r: PNG when transparent,
// JPEG otherwise.
func (r Rendering) Format() Format {
	if r.IsHyaline {
		return PNG
	}
	return JPEG
}

// Normalized returns r with WeChat's defaults filled in, so that a
// rendering spelling a default out equals one omitting it.
func (r Rendering) Normalized() Rendering {
	if r.Width == 0 {
		r.Width = DefaultWidth
	}
	if r.EnvVersion == "" {
		r.EnvVersion = DefaultEnvVersion
	}
	if r.LineColor == nil {
		r.LineColor = &Color{}
	}
	return r
}

// Color is a line colour, each component 0 to 255 (ValidateColor). Its
// JSON form in task payloads is [r,g,b]; it also reads {"r":..,"g":..,"b":..}
// and the text forms of ParseColor. WeChat's wire form is the wechat
// package's.
type Color struct {
	R, G, B int
}

// String is "r,g,b" in decimal, the form ParseColor reads.
func (c Color) String() string { return fmt.Sprintf("%d,%d,%d", c.R, c.G, c.B) }
