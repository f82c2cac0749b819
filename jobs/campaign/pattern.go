package campaign

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sceneChars is WeChat's scene alphabet beyond [A-Za-z0-9].
const sceneChars = "!#$&'()*+,/:;=?@-._~"

// maxSceneLen is WeChat's limit on a scene (interface B).
const maxSceneLen = 32

// pattern is a parsed generator pattern: prefix, the number padded with
// zeros to pad digits, suffix.
type pattern struct {
	prefix, suffix string
	pad            int
}

// parsePattern reads "c{n}" or "c{n:08}".
func parsePattern(s string) (pattern, error) {
	open := strings.Index(s, "{n")
	if open < 0 {
		return pattern{}, fmt.Errorf("must contain {n} (or {n:08} for zero padding)")
	}
	end := strings.IndexByte(s[open:], '}')
	if end < 0 {
		return pattern{}, fmt.Errorf("unclosed {n")
	}
	p := pattern{prefix: s[:open], suffix: s[open+end+1:]}
	spec := s[open+2 : open+end]
	if spec != "" {
		digits, ok := strings.CutPrefix(spec, ":0")
		n, err := strconv.Atoi(digits)
		if !ok || err != nil || n < 1 || n > 19 || digits[0] == '+' || digits[0] == '-' {
			return pattern{}, fmt.Errorf("placeholder {n%s}: want {n} or {n:0W} with W 1 to 19, e.g. {n:08}", spec)
		}
		p.pad = n
	}
	for _, lit := range []string{p.prefix, p.suffix} {
		if strings.Contains(lit, "{n") {
			return pattern{}, fmt.Errorf("must contain {n} exactly once")
		}
		for _, r := range lit {
			if !sceneRune(r) {
				return pattern{}, fmt.Errorf("character %q is not allowed in a scene (use A-Z a-z 0-9 or %s)", r, sceneChars)
			}
		}
	}
	return p, nil
}

func sceneRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' ||
		r < 0x80 && strings.ContainsRune(sceneChars, r)
}

// appendScene appends the scene of number n (n >= 0).
func (p pattern) appendScene(b []byte, n int64) []byte {
	b = append(b, p.prefix...)
	if p.pad > 0 {
		for d := digits(n); d < p.pad; d++ {
			b = append(b, '0')
		}
	}
	b = strconv.AppendInt(b, n, 10)
	return append(b, p.suffix...)
}

// maxLen is the longest scene the pattern makes for numbers up to n.
func (p pattern) maxLen(n int64) int {
	return len(p.prefix) + max(p.pad, digits(n)) + len(p.suffix)
}

func digits(n int64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// generatorProblem checks a generator; field is its field name and value.
func generatorProblem(g *Generator) (field, value, reason string) {
	p, err := parsePattern(g.Pattern)
	switch {
	case err != nil:
		return "source.generator.pattern", g.Pattern, err.Error()
	case g.From < 0:
		return "source.generator.from", strconv.FormatInt(g.From, 10), "must be 0 or more"
	case g.From > g.To:
		return "source.generator.to", strconv.FormatInt(g.To, 10), fmt.Sprintf("must be at least from (%d)", g.From)
	case g.To-g.From == math.MaxInt64:
		return "source.generator.to", strconv.FormatInt(g.To, 10), "range too large (at most 9223372036854775807 rows)"
	case p.maxLen(g.To) > maxSceneLen:
		return "source.generator.pattern", g.Pattern, fmt.Sprintf("makes scenes of %d characters up to %d; WeChat allows %d", p.maxLen(g.To), g.To, maxSceneLen)
	}
	return "", "", ""
}
