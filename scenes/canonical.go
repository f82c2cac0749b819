package scenes

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of params; deeper rows get a *ParamsError.
const maxDepth = 100

// Canonical returns the canonical form of params, the bytes that are hashed
// into a scene and served back: one JSON object, no insignificant
// whitespace, object keys sorted by their UTF-8 bytes at every level, strings
// re-escaped minimally (no HTML escaping: '&', '<', '>' stay as they are;
// U+2028 and U+2029 are escaped, as encoding/json does, for JavaScript).
// Numbers are kept exactly as written (1.0 and 1 stay different), so large
// IDs never lose digits to float64. It accepts exactly the JSON that
// encoding/json accepts, with the same meaning (a lone surrogate escape
// becomes U+FFFD).
//
// It returns a *ParamsError for empty input, invalid UTF-8, invalid JSON,
// anything but an object at the top level, an empty object, a duplicate key
// in any object (JSON parsers disagree on which one wins), nesting deeper
// than 100, or trailing data after the object.
//
// The parser is hand-written rather than built on encoding/json's Decoder:
// a token-by-token decode was five times slower, and 100,000 rows must be
// canonicalised in well under a second.
func Canonical(params []byte) ([]byte, error) {
	if len(bytes.TrimSpace(params)) == 0 {
		return nil, &ParamsError{Reason: "empty input", Offset: -1}
	}
	if !utf8.Valid(params) {
		return nil, &ParamsError{Reason: "not valid UTF-8", Offset: int64(invalidUTF8At(params))}
	}
	p := parser{b: params}
	var out bytes.Buffer
	out.Grow(len(params))
	if err := p.top(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// parser reads one JSON text from b, which is valid UTF-8.
type parser struct {
	b     []byte
	i     int
	depth int
}

func (p *parser) top(out *bytes.Buffer) error {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return p.fail("top level is %s, want a JSON object", p.kind())
	}
	n, err := p.object(out)
	if err != nil {
		return err
	}
	if n == 0 {
		return &ParamsError{Reason: "empty object", Offset: -1}
	}
	if p.ws(); p.i < len(p.b) {
		return p.fail("trailing data after the object")
	}
	return nil
}

func (p *parser) fail(format string, args ...any) error {
	return &ParamsError{Reason: fmt.Sprintf(format, args...), Offset: int64(p.i)}
}

// unexpected describes the byte at the current position.
func (p *parser) unexpected(want string) error {
	if p.i >= len(p.b) {
		return p.fail("invalid JSON: unexpected end of input, want %s", want)
	}
	r, _ := utf8.DecodeRune(p.b[p.i:])
	return p.fail("invalid JSON: unexpected %q, want %s", r, want)
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) kind() string {
	if p.i >= len(p.b) {
		return "nothing"
	}
	switch c := p.b[p.i]; {
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return "not JSON"
}

func (p *parser) value(out *bytes.Buffer) error {
	p.ws()
	if p.i >= len(p.b) {
		return p.unexpected("a value")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		_, err := p.object(out)
		return err
	case c == '[':
		return p.array(out)
	case c == '"':
		s, err := p.str()
		writeString(out, s)
		return err
	case c == '-' || c >= '0' && c <= '9':
		return p.number(out)
	case c == 't':
		return p.word("true", out)
	case c == 'f':
		return p.word("false", out)
	case c == 'n':
		return p.word("null", out)
	}
	return p.unexpected("a value")
}

func (p *parser) word(w string, out *bytes.Buffer) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte(w)) {
		return p.unexpected(w)
	}
	p.i += len(w)
	out.WriteString(w)
	return nil
}

// member is one key of an object and the span of its canonical value in the
// object's value buffer.
type member struct {
	key        []byte
	start, end int
}

// object reads an object at '{' and writes it with sorted keys. It returns
// the number of members.
func (p *parser) object(out *bytes.Buffer) (int, error) {
	if err := p.enter(); err != nil {
		return 0, err
	}
	p.i++ // '{'
	var ms []member
	var vals bytes.Buffer
	if p.ws(); p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		out.WriteString("{}")
		return 0, nil
	}
	for {
		if p.ws(); p.i >= len(p.b) || p.b[p.i] != '"' {
			return 0, p.unexpected("a string key")
		}
		key, err := p.str()
		if err != nil {
			return 0, err
		}
		if p.ws(); p.i >= len(p.b) || p.b[p.i] != ':' {
			return 0, p.unexpected("':'")
		}
		p.i++
		start := vals.Len()
		if err := p.value(&vals); err != nil {
			return 0, err
		}
		ms = append(ms, member{key, start, vals.Len()})
		if done, err := p.next('}'); done || err != nil {
			if err != nil {
				return 0, err
			}
			break
		}
	}
	p.depth--
	return len(ms), writeObject(out, ms, vals.Bytes())
}

func writeObject(out *bytes.Buffer, ms []member, vals []byte) error {
	slices.SortFunc(ms, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	out.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			if bytes.Equal(ms[i-1].key, m.key) {
				return &ParamsError{Reason: fmt.Sprintf("duplicate key %q", cut(string(m.key))), Offset: -1}
			}
			out.WriteByte(',')
		}
		writeString(out, m.key)
		out.WriteByte(':')
		out.Write(vals[m.start:m.end])
	}
	out.WriteByte('}')
	return nil
}

func (p *parser) array(out *bytes.Buffer) error {
	if err := p.enter(); err != nil {
		return err
	}
	p.i++ // '['
	out.WriteByte('[')
	if p.ws(); p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		out.WriteByte(']')
		return nil
	}
	for {
		if err := p.value(out); err != nil {
			return err
		}
		done, err := p.next(']')
		if err != nil {
			return err
		}
		if done {
			break
		}
		out.WriteByte(',')
	}
	p.depth--
	out.WriteByte(']')
	return nil
}

// next reads the ',' between elements (false) or the closing byte (true).
func (p *parser) next(closing byte) (bool, error) {
	p.ws()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',':
			p.i++
			return false, nil
		case closing:
			p.i++
			return true, nil
		}
	}
	return false, p.unexpected(fmt.Sprintf("',' or '%c'", closing))
}

func (p *parser) enter() error {
	if p.depth++; p.depth > maxDepth {
		return p.fail("nested deeper than %d", maxDepth)
	}
	return nil
}

// number copies a number literal after checking its grammar.
func (p *parser) number(out *bytes.Buffer) error {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.digits() == 0:
		return p.unexpected("a digit")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		if p.i++; p.digits() == 0 {
			return p.unexpected("a digit")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		if p.i++; p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return p.unexpected("a digit")
		}
	}
	out.Write(p.b[start:p.i])
	return nil
}

func (p *parser) digits() int {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i - start
}

// str reads a string at '"' and returns its decoded value, a slice of the
// input when it has no escapes.
func (p *parser) str() ([]byte, error) {
	p.i++ // '"'
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.escapedStr(start)
		case c < 0x20:
			return nil, p.fail("invalid JSON: control character %q in string", rune(c))
		default:
			p.i++
		}
	}
	return nil, p.unexpected("'\"'")
}

// escapedStr finishes a string that has an escape at p.i; its first
// p.i-start bytes are plain.
func (p *parser) escapedStr(start int) ([]byte, error) {
	buf := make([]byte, p.i-start, 2*(p.i-start)+16)
	copy(buf, p.b[start:p.i])
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return buf, nil
		case c < 0x20:
			return nil, p.fail("invalid JSON: control character %q in string", rune(c))
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		r, err := p.escape()
		if err != nil {
			return nil, err
		}
		buf = utf8.AppendRune(buf, r)
	}
	return nil, p.unexpected("'\"'")
}

// escape reads one escape sequence at '\\'. Like encoding/json, a lone
// surrogate becomes U+FFFD.
func (p *parser) escape() (rune, error) {
	if p.i+1 >= len(p.b) {
		p.i++
		return 0, p.unexpected("an escape")
	}
	p.i += 2
	switch c := p.b[p.i-1]; c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := p.hex4()
		if err != nil || !utf16.IsSurrogate(r) {
			return r, err
		}
		if bytes.HasPrefix(p.b[p.i:], []byte(`\u`)) {
			save := p.i
			p.i += 2
			if r2, err := p.hex4(); err == nil {
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					return pair, nil
				}
			}
			p.i = save // not a pair: the next escape is read on its own
		}
		return utf8.RuneError, nil
	}
	p.i--
	return 0, p.unexpected("an escape character")
}

func (p *parser) hex4() (rune, error) {
	if p.i+4 > len(p.b) {
		return 0, p.fail("invalid JSON: short \\u escape")
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, p.fail("invalid JSON: bad \\u escape")
		}
		r = r<<4 | rune(c)
	}
	p.i += 4
	return r, nil
}

const hexDigits = "0123456789abcdef"

// writeString writes s as a JSON string the way encoding/json does with
// SetEscapeHTML(false). s is valid UTF-8, so multi-byte runes are copied
// byte by byte; only U+2028 and U+2029 (E2 80 A8, E2 80 A9) are escaped.
func writeString(out *bytes.Buffer, s []byte) {
	out.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 0x20 && b != '"' && b != '\\' && b != 0xE2:
			continue
		case b == 0xE2:
			if i+2 >= len(s) || s[i+1] != 0x80 || s[i+2]&^1 != 0xA8 {
				continue
			}
			out.Write(s[start:i])
			out.WriteString(`\u202`)
			out.WriteByte(hexDigits[s[i+2]-0xA0])
			i += 2
		default:
			out.Write(s[start:i])
			writeEscape(out, b)
		}
		start = i + 1
	}
	out.Write(s[start:])
	out.WriteByte('"')
}

func writeEscape(out *bytes.Buffer, b byte) {
	switch b {
	case '"', '\\':
		out.WriteByte('\\')
		out.WriteByte(b)
	case '\n':
		out.WriteString(`\n`)
	case '\r':
		out.WriteString(`\r`)
	case '\t':
		out.WriteString(`\t`)
	case '\b':
		out.WriteString(`\b`)
	case '\f':
		out.WriteString(`\f`)
	default:
		out.WriteString(`\u00`)
		out.WriteByte(hexDigits[b>>4])
		out.WriteByte(hexDigits[b&0xF])
	}
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// cut shortens a key for an error message (keys name fields, but may be
// long).
func cut(s string) string {
	if utf8.RuneCountInString(s) > 64 {
		return string([]rune(s)[:64]) + "…"
	}
	return s
}
