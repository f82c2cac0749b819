package storage

import (
	"fmt"
	"strings"
)

// tokenize splits a template into literals and placeholders. It returns a
// non-empty problem for unknown or repeated placeholders, unbalanced braces
// and literal characters outside [A-Za-z0-9_./-].
func tokenize(s string) ([]token, string) {
	var toks []token
	seen := map[placeholder]bool{}
	for s != "" {
		open := strings.IndexByte(s, '{')
		if open != 0 {
			lit := s
			if open > 0 {
				lit = s[:open]
			}
			if problem := checkLiteral(lit); problem != "" {
				return nil, problem
			}
			toks = append(toks, token{lit: lit})
			s = s[len(lit):]
			continue
		}
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return nil, "unclosed '{'"
		}
		name := s[1:end]
		ph, ok := placeholderNames[name]
		if !ok {
			return nil, fmt.Sprintf("unknown placeholder {%s} (known: {appid} {page} {scene} {params} {ext} {hash})", name)
		}
		if seen[ph] {
			return nil, fmt.Sprintf("placeholder {%s} appears twice", name)
		}
		seen[ph] = true
		toks = append(toks, token{ph: ph})
		s = s[end+1:]
	}
	return toks, ""
}

func checkLiteral(lit string) string {
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if !literalByte(c) && c != '.' && c != '/' {
			return fmt.Sprintf("character %q is not allowed outside placeholders (use [A-Za-z0-9_./-])", c)
		}
	}
	return ""
}

// checkComplete refuses templates that leave out an identifying field, which
// would let two different codes share a key.
func checkComplete(toks []token) string {
	has := map[placeholder]bool{}
	for _, t := range toks {
		has[t.ph] = true
	}
	if has[phHash] {
		return ""
	}
	for _, name := range []string{"appid", "page", "scene", "params", "ext"} {
		if !has[placeholderNames[name]] {
			return fmt.Sprintf("must contain {%s} (or {hash}) so that different codes never share a key", name)
		}
	}
	return ""
}

// checkSeparated makes the key decodable: two values need a '.' or '/'
// between them (values never contain either), and {params} must be glued to
// a value so that its empty form never leaves an empty segment.
func checkSeparated(toks []token) string {
	open := false // a value was written and no separator followed yet
	for i, t := range toks {
		switch {
		case t.ph == phParams:
			if i == 0 || !toks[i-1].ph.isValue() || toks[i-1].ph == phExt {
				return "{params} must directly follow {appid}, {page}, {scene} or {hash}"
			}
		case t.ph.isValue():
			if open {
				return "placeholders must be separated by a literal containing '.' or '/'"
			}
			open = true
		case strings.ContainsAny(t.lit, "./"):
			open = false
		}
	}
	return ""
}

// checkReserved refuses templates whose keys would all lie in RunsPrefix.
func checkReserved(toks []token) string {
	if len(toks) > 0 && toks[0].ph == phLiteral && strings.HasPrefix(toks[0].lit, RunsPrefix) {
		return "keys under " + RunsPrefix + " are reserved for run manifests and failures"
	}
	return ""
}

// checkSegments rejects empty, ".", ".." and dot-leading segments. Values
// stand in as "v": they are never empty and contain no '.' or '/'.
func checkSegments(toks []token) string {
	var shape strings.Builder
	for _, t := range toks {
		switch {
		case t.ph == phLiteral:
			shape.WriteString(t.lit)
		case t.ph.isValue():
			shape.WriteString("v")
		}
	}
	for _, seg := range strings.Split(shape.String(), "/") {
		switch {
		case seg == "":
			return "empty path segment (leading, trailing or doubled '/')"
		case strings.HasPrefix(seg, "."):
			return fmt.Sprintf("segment %q starts with '.' (dot-names are reserved and hidden)", seg)
		}
	}
	return ""
}
