package code

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// hashLen is the number of hex digits Hash keeps (48 bits): it only has to
// separate the few renderings of one scene.
const hashLen = 12

// hashDomain separates these hashes from every other SHA-256 of the
// project. Changing it (or Canonical) would move every stored object whose
// rendering is not the default.
const hashDomain = "wxacode-params-v1\n"

// Canonical returns every parameter of r after defaults as one ASCII
// string, e.g.
// "env=release;width=430;auto_color=false;line_color=0,0,0;is_hyaline=false".
// It is stored as the "params" metadata of an object and is what Hash
// hashes. An env_version that ValidateEnvVersion refuses is written quoted
// (Go syntax), so it can never read as another rendering.
func (r Rendering) Canonical() string {
	n := r.Normalized()
	c := n.LineColor
	env := n.EnvVersion
	if ValidateEnvVersion(env) != nil {
		env = strconv.Quote(env)
	}
	return fmt.Sprintf("env=%s;width=%d;auto_color=%t;line_color=%d,%d,%d;is_hyaline=%t",
		env, n.Width, n.AutoColor, c.R, c.G, c.B, n.IsHyaline)
}

var defaultCanonical = Rendering{}.Canonical()

// IsDefault reports whether r is WeChat's default rendering (width 0 or
// 430, env_version "" or release, auto_color false, line_color nil or
// black, is_hyaline false).
func (r Rendering) IsDefault() bool { return r.Canonical() == defaultCanonical }

// Hash returns 12 hex digits of the SHA-256 of r's canonical form, or ""
// for the default rendering: what keeps the renderings of one scene apart
// in object keys.
func (r Rendering) Hash() string {
	c := r.Canonical()
	if c == defaultCanonical {
		return ""
	}
	sum := sha256.Sum256([]byte(hashDomain + c))
	return hex.EncodeToString(sum[:])[:hashLen]
}
