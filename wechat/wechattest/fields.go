package wechattest

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// fields is a request body as WeChat sees it: a JSON object whose values are
// checked for their JSON type (wrong type = 47001).
type fields map[string]json.RawMessage

// str returns a string field's literal text between the quotes, without
// unescaping (like WeChat: "\u0026" stays six characters). ok is false when
// the field is present but not a string.
func (f fields) str(name string) (val string, present, ok bool) {
	raw, present := f[name]
	if !present {
		return "", false, true
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return "", true, false
	}
	return string(raw[1 : len(raw)-1]), true, true
}

// boolean returns a JSON boolean field; 1, "true" and the like are not ok.
func (f fields) boolean(name string) (val, present, ok bool) {
	raw, present := f[name]
	if !present {
		return false, false, true
	}
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, true, true
	case "false":
		return false, true, true
	}
	return false, true, false
}

// number returns an integral JSON number field; strings are not ok.
func (f fields) number(name string) (val int, present, ok bool) {
	raw, present := f[name]
	if !present {
		return 0, false, true
	}
	n, ok := parseInt(raw, false)
	return n, true, ok
}

// parseInt reads an integral JSON number, or with quoted also a string of
// digits (SDKs send line_color components as strings).
func parseInt(raw json.RawMessage, quoted bool) (int, bool) {
	raw = bytes.TrimSpace(raw)
	if quoted && len(raw) >= 2 && raw[0] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

// color reads line_color {r,g,b} with number or numeric-string components.
// code is 47001 for a wrong shape, 40097 for a component outside 0-255.
func (f fields) color(name string) (rgb [3]int, present bool, code int) {
	raw, present := f[name]
	if !present {
		return rgb, false, 0
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return rgb, true, 47001
	}
	for i, k := range []string{"r", "g", "b"} {
		v, has := obj[k]
		if !has {
			continue
		}
		n, ok := parseInt(v, true)
		if !ok {
			return rgb, true, 47001
		}
		if n < 0 || n > 255 {
			return rgb, true, 40097
		}
		rgb[i] = n
	}
	return rgb, true, 0
}
