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
	return p.set(field, textValue(v))
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
	return p.set(field, jsonValue(raw))
}

// value is one field's value in a text or JSON form.
type value interface {
	str() (string, error)
	integer() (int, error)
	boolean() (bool, error)
	color() (*Color, error)
	raw() string
}

// set parses v as the type of field and stores it; p is unchanged on error.
func (p *Params) set(field string, v value) error {
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
	var fe *FieldError
	if err != nil && !errors.As(err, &fe) {
		return &FieldError{Field: field, Value: v.raw(), Reason: err.Error()}
	}
	return err
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

type textValue string

func (t textValue) raw() string            { return string(t) }
func (t textValue) str() (string, error)   { return string(t), nil }
func (t textValue) color() (*Color, error) { return ParseColor(string(t)) }

func (t textValue) integer() (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(string(t)))
	if err != nil {
		return 0, errors.New("not a whole number")
	}
	return n, nil
}

func (t textValue) boolean() (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(string(t)))
	if err != nil {
		return false, errors.New("not true or false")
	}
	return b, nil
}

type jsonValue []byte

func (j jsonValue) raw() string            { return string(j) }
func (j jsonValue) str() (string, error)   { return JSONString(j) }
func (j jsonValue) color() (*Color, error) { return parseJSONColor(j) }

func (j jsonValue) integer() (int, error) {
	var n int
	if json.Unmarshal(j, &n) != nil {
		return 0, errors.New("want a JSON whole number")
	}
	return n, nil
}

func (j jsonValue) boolean() (bool, error) {
	var b bool
	if json.Unmarshal(j, &b) != nil {
		return false, errors.New("want JSON true or false")
	}
	return b, nil
}

// JSONString decodes a JSON string exactly: it fails for anything but a
// string, and for an escaped lone UTF-16 surrogate, which encoding/json
// replaces with U+FFFD (so two different inputs would read the same).
func JSONString(raw []byte) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("want a JSON string")
	}
	given := bytes.Count(raw, []byte("\uFFFD")) + bytes.Count(bytes.ToLower(raw), []byte(`\ufffd`))
	if strings.Count(s, "\uFFFD") != given {
		return "", fmt.Errorf("escapes a lone UTF-16 surrogate (\\ud800-\\udfff), which is not a character")
	}
	return s, nil
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
