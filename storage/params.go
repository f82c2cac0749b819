package storage

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Rendering defaults of interface B (getwxacodeunlimit). A code rendered
// with these values gets no parameter hash in its key.
const (
	DefaultWidth      = 430
	DefaultEnvVersion = "release"
)

// paramsHashLen is the number of hex digits ParamsHash keeps (48 bits):
// it only has to separate the few renderings of one scene.
const paramsHashLen = 12

// KeyParams are the parameters that identify one code. Zero values mean
// WeChat's defaults: Width 0 is 430, EnvVersion "" is "release", a nil
// LineColor is black {0,0,0}.
type KeyParams struct {
	AppID, Page, Scene, EnvVersion string
	Width                          int
	AutoColor                      bool
	LineColor                      *[3]int
	IsHyaline                      bool
	// Ext is the file extension without the dot ("jpg" or "png"), chosen by
	// the caller before the image exists.
	Ext string
}

// normalized returns p with WeChat's defaults filled in, so that a request
// spelling a default explicitly maps to the same key as one omitting it.
func (p KeyParams) normalized() KeyParams {
	p.EnvVersion = cmp.Or(p.EnvVersion, DefaultEnvVersion)
	if p.Width == 0 {
		p.Width = DefaultWidth
	}
	if p.LineColor == nil {
		p.LineColor = &[3]int{}
	}
	return p
}

// CanonicalParams returns the rendering parameters of p (everything except
// appid, page, scene and ext) as one ASCII string, after normalisation, e.g.
// "env=release;width=430;auto_color=false;line_color=0,0,0;is_hyaline=false".
// It is stored as the "params" metadata and is what ParamsHash hashes.
func CanonicalParams(p KeyParams) string {
	n := p.normalized()
	c := n.LineColor
	return fmt.Sprintf("env=%s;width=%d;auto_color=%t;line_color=%d,%d,%d;is_hyaline=%t",
		EncodeSegment(n.EnvVersion), n.Width, n.AutoColor, c[0], c[1], c[2], n.IsHyaline)
}

var defaultCanonicalParams = CanonicalParams(KeyParams{})

// ParamsHash returns a short (12 hex digit) hash of the rendering
// parameters of p, or "" when they are all the defaults (width 0/430,
// env_version ""/"release", auto_color false, line_color nil/{0,0,0},
// is_hyaline false).
func ParamsHash(p KeyParams) string {
	c := CanonicalParams(p)
	if c == defaultCanonicalParams {
		return ""
	}
	sum := sha256.Sum256([]byte("wxacode-params-v1\n" + c))
	return hex.EncodeToString(sum[:])[:paramsHashLen]
}

// fullHashLen is the number of hex digits of {hash} (128 bits): it alone
// must keep millions of codes apart.
const fullHashLen = 32

// FullHash returns a 32 hex digit hash of every field that identifies a
// code: appid, page, scene, the normalised rendering parameters and ext.
// It is what the {hash} template placeholder expands to.
func FullHash(p KeyParams) string {
	fields := []string{p.AppID, p.Page, p.Scene, CanonicalParams(p), p.Ext}
	var b strings.Builder
	b.WriteString("wxacode-key-v1\n")
	for _, f := range fields {
		// Length prefixes keep ("ab","c") and ("a","bc") apart.
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])[:fullHashLen]
}
