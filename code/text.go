package code

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Set sets the parameter named field (one of Fields) of p from its text
// form, as a CSV cell or a flag gives it: scene, page and env_version
// verbatim; width a decimal number; check_path, auto_color, is_hyaline
// true or false (also 1/0, t/f); line_color "r,g,b" or "#rrggbb". An empty
// value leaves the field as it is (the default). It returns a *FieldError
// naming the field for a value that does not parse or an unknown field;
// Validate checks the rules afterwards.
func (p *Params) Set(field, v string) error {
	if v == "" {
		return nil
	}
	return set(p, field, textValue(v))
}

// SetJSON sets the parameter named field of p from a JSON value, as a JSON
// Lines row gives it: scene, page and env_version JSON strings; width a
// JSON integer; check_path, auto_color and is_hyaline JSON booleans;
// line_color {"r":0,"g":0,"b":0}, "r,g,b" or "#rrggbb". null leaves the
// field as it is. A string escaping a lone UTF-16 surrogate ("\ud800"),
// which encoding/json would silently turn into U+FFFD, is refused. Errors
// are *FieldError naming the field.
func (p *Params) SetJSON(field string, raw []byte) error {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil
	}
	return set(p, field, jsonValue(raw))
}

// value is one field's value: text (a CSV cell, a flag) or, when isJSON,
// a JSON value. A plain struct rather than an interface, so that reading
// a field allocates nothing.
type value struct {
	text   string
	json   []byte
	isJSON bool
}

func textValue(s string) value { return value{text: s} }
func jsonValue(b []byte) value { return value{json: b, isJSON: true} }

// set parses v as the type of field and stores it; p is unchanged on error.
func set(p *Params, field string, v value) error {
	var err error
	switch field {
	case FieldScene, FieldPage, FieldEnvVersion:
		var s string
		if s, err = v.str(); err == nil {
			*p.stringField(field) = s
		}
	case FieldWidth:
		var n int
		if n, err = v.integer(); err == nil {
			p.Width = n
		}
	case FieldCheckPath, FieldAutoColor, FieldIsHyaline:
		var b bool
		if b, err = v.boolean(); err == nil {
			*p.boolField(field) = b
		}
	case FieldLineColor:
		var c *Color
		if c, err = v.color(); err == nil {
			p.LineColor = c
		}
	default:
		err = errors.New("unknown field (known: " + strings.Join(Fields, ", ") + ")")
	}
	if err == nil {
		return nil
	}
	if _, ok := err.(*FieldError); ok {
		return err
	}
	return &FieldError{Field: field, Value: v.raw(), Reason: err.Error()}
}

func (p *Params) stringField(field string) *string {
	switch field {
	case FieldScene:
		return &p.Scene
	case FieldPage:
		return &p.Page
	}
	return &p.EnvVersion
}

func (p *Params) boolField(field string) *bool {
	switch field {
	case FieldAutoColor:
		return &p.AutoColor
	case FieldIsHyaline:
		return &p.IsHyaline
	}
	if p.CheckPath == nil {
		p.CheckPath = new(bool)
	}
	return p.CheckPath
}

func (v value) raw() string {
	if v.isJSON {
		return string(v.json)
	}
	return v.text
}

func (v value) str() (string, error) {
	if v.isJSON {
		return JSONString(v.json)
	}
	return v.text, nil
}

func (v value) color() (*Color, error) {
	if v.isJSON {
		return parseJSONColor(v.json)
	}
	return ParseColor(v.text)
}

// integer reads a decimal number, or a JSON whole number: for the valid
// JSON a row holds, strconv.Atoi accepts exactly the whole numbers (no
// '+', fraction or exponent passes both).
func (v value) integer() (int, error) {
	t, want := strings.TrimSpace(v.text), "not a whole number"
	if v.isJSON {
		t, want = string(v.json), "want a JSON whole number"
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		return 0, errors.New(want)
	}
	return n, nil
}

func (v value) boolean() (bool, error) {
	if v.isJSON {
		switch string(v.json) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, errors.New("want JSON true or false")
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v.text))
	if err != nil {
		return false, errors.New("not true or false")
	}
	return b, nil
}

// JSONString decodes a JSON string exactly: it fails for anything but a
// string, and for an escaped lone UTF-16 surrogate, which encoding/json
// replaces with U+FFFD (so two different inputs would read the same).
func JSONString(raw []byte) (string, error) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && plainJSON(raw[1:n-1]) {
		return string(raw[1 : n-1]), nil // nothing to unescape: the bytes are the string
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("want a JSON string")
	}
	if !strings.ContainsRune(s, '\uFFFD') {
		return s, nil
	}
	given := bytes.Count(raw, []byte("\uFFFD")) + bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
	if strings.Count(s, "\uFFFD") != given {
		return "", fmt.Errorf("escapes a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character")
	}
	return s, nil
}

// plainJSON reports whether b can stand between JSON quotes as it is: no
// quote, backslash or control character.
func plainJSON(b []byte) bool {
	for _, c := range b {
		if c == '"' || c == '\\' || c < 0x20 {
			return false
		}
	}
	return true
}

const colorForms = `want {"r":0,"g":0,"b":0}, "r,g,b" or "#rrggbb"`

// ParseColor reads "r,g,b" (decimal, each 0-255) or "#rrggbb". Errors are
// *FieldError naming line_color.
func ParseColor(v string) (*Color, error) {
	fail := func(reason string) (*Color, error) {
		return nil, &FieldError{Field: FieldLineColor, Value: v, Reason: reason}
	}
	t := strings.TrimSpace(v)
	if h, ok := strings.CutPrefix(t, "#"); ok {
		n, err := strconv.ParseUint(h, 16, 32)
		if len(h) != 6 || err != nil {
			return fail(colorForms)
		}
		return &Color{int(n >> 16), int(n >> 8 & 0xff), int(n & 0xff)}, nil
	}
	parts := strings.Split(t, ",")
	if len(parts) != 3 {
		return fail(colorForms)
	}
	var c [3]int
	for i, s := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fail(colorForms)
		}
		c[i] = n
	}
	col := &Color{c[0], c[1], c[2]}
	if err := ValidateColor(col); err != nil {
		return nil, &FieldError{Field: FieldLineColor, Value: v, Reason: err.(*FieldError).Reason}
	}
	return col, nil
}

// parseJSONColor reads {"r":..,"g":..,"b":..} (exactly those keys, in any
// order, whole numbers), [r,g,b], or a string ParseColor reads.
func parseJSONColor(raw []byte) (*Color, error) {
	fail := func() (*Color, error) {
		return nil, &FieldError{Field: FieldLineColor, Value: string(raw), Reason: colorForms}
	}
	var c Color
	switch {
	case len(raw) > 0 && raw[0] == '"':
		s, err := JSONString(raw)
		if err != nil {
			return nil, &FieldError{Field: FieldLineColor, Value: string(raw), Reason: err.Error()}
		}
		return ParseColor(s)
	case len(raw) > 0 && raw[0] == '[':
		var a []int
		if json.Unmarshal(raw, &a) != nil || len(a) != 3 {
			return fail()
		}
		c = Color{a[0], a[1], a[2]}
	default:
		members, err := ObjectMembers(raw)
		if err != nil || len(members) != 3 {
			return fail()
		}
		var v [3]*int
		for _, m := range members {
			i := strings.Index("rgb", m.Key)
			if len(m.Key) != 1 || i < 0 || v[i] != nil {
				return fail() // another key, a repeated one, or one in upper case
			}
			v[i] = new(int)
			if json.Unmarshal(m.Value, v[i]) != nil {
				return fail()
			}
		}
		c = Color{*v[0], *v[1], *v[2]}
	}
	if err := ValidateColor(&c); err != nil {
		return nil, &FieldError{Field: FieldLineColor, Value: string(raw), Reason: err.(*FieldError).Reason}
	}
	return &c, nil
}

// MarshalJSON writes the payload form [r,g,b].
func (c Color) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "[%d,%d,%d]", c.R, c.G, c.B), nil
}

// UnmarshalJSON reads [r,g,b] (the payload form), {"r","g","b"} or a text
// form, components 0 to 255.
func (c *Color) UnmarshalJSON(raw []byte) error {
	v, err := parseJSONColor(bytes.TrimSpace(raw))
	if err != nil {
		return err
	}
	*c = *v
	return nil
}

// IsField reports whether name is one of Fields, exactly (case matters).
func IsField(name string) bool { return slices.Contains(Fields, name) }
