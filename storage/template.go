package storage

import (
	"fmt"
	"strings"
)

// DefaultKeyTemplate is the key layout used when none is configured, e.g.
// "wx0123456789abcdef/pages~2Findex~2Findex/uid~3D42.jpg" for the default
// rendering and ".../uid~3D42~p1a2b3c4d5e6f.png" for any other.
const DefaultKeyTemplate = "{appid}/{page}/{scene}{params}.{ext}"

// placeholder is one of the {name} fields of a key template.
type placeholder int

const (
	phLiteral placeholder = iota
	phAppID
	phPage
	phScene
	phParams
	phExt
	phHash
)

var placeholderNames = map[string]placeholder{
	"appid": phAppID, "page": phPage, "scene": phScene,
	"params": phParams, "ext": phExt, "hash": phHash,
}

// paramsMarker starts a non-empty {params} expansion. EncodeSegment never
// writes '~' followed by 'p', and literals may not contain '~', so the
// marker cannot be confused with an encoded value.
const paramsMarker = "~p"

// isValue reports whether ph expands to a non-empty string without '.' or
// '/' (everything but literals and {params}).
func (ph placeholder) isValue() bool { return ph != phLiteral && ph != phParams }

type token struct {
	lit string // for phLiteral
	ph  placeholder
}

// KeyTemplate turns KeyParams into object keys. Create it with
// ParseKeyTemplate; a *KeyTemplate is immutable and safe for concurrent use.
type KeyTemplate struct {
	src    string
	tokens []token
}

// TemplateError reports why ParseKeyTemplate refused a template.
type TemplateError struct {
	Template string
	Problem  string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("storage: key template %q: %s", e.Template, e.Problem)
}

// DefaultTemplate returns the parsed DefaultKeyTemplate.
func DefaultTemplate() *KeyTemplate {
	t, err := ParseKeyTemplate(DefaultKeyTemplate)
	if err != nil {
		panic(err) // a constant that must always parse
	}
	return t
}

// ParseKeyTemplate parses and checks a key template (placeholders are
// listed in the package documentation). It returns a *TemplateError for an
// unknown or repeated placeholder, a character outside [A-Za-z0-9_./-] in
// the literal text, an empty, ".", ".." or dot-leading segment, two
// placeholders not separated by a '.' or '/', a {params} not directly after
// another placeholder, a template starting with RunsPrefix, or a template
// that could give two codes the same key (it must contain {hash}, or all
// of {appid} {page} {scene} {params} {ext}).
func ParseKeyTemplate(s string) (*KeyTemplate, error) {
	fail := func(format string, a ...any) (*KeyTemplate, error) {
		return nil, &TemplateError{Template: s, Problem: fmt.Sprintf(format, a...)}
	}
	toks, problem := tokenize(s)
	if problem != "" {
		return fail("%s", problem)
	}
	for _, check := range []func([]token) string{checkComplete, checkSeparated, checkSegments, checkReserved} {
		if problem := check(toks); problem != "" {
			return fail("%s", problem)
		}
	}
	return &KeyTemplate{src: s, tokens: toks}, nil
}

// String returns the template text as given to ParseKeyTemplate.
func (t *KeyTemplate) String() string { return t.src }

// Key renders the object key for p. Every value is passed through
// EncodeSegment, so the key has only [A-Za-z0-9_.~/-] and no empty, "." or
// ".." segment whatever p holds.
func (t *KeyTemplate) Key(p KeyParams) string {
	var b strings.Builder
	for _, tok := range t.tokens {
		switch tok.ph {
		case phLiteral:
			b.WriteString(tok.lit)
		case phAppID:
			b.WriteString(EncodeSegment(p.AppID))
		case phPage:
			b.WriteString(EncodeSegment(p.Page))
		case phScene:
			b.WriteString(EncodeSegment(p.Scene))
		case phExt:
			b.WriteString(EncodeSegment(p.Format.Ext()))
		case phHash:
			b.WriteString(FullHash(p))
		case phParams:
			if h := p.Rendering.Hash(); h != "" {
				b.WriteString(paramsMarker + h)
			}
		}
	}
	return b.String()
}
