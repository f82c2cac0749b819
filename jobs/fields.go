package jobs

import (
	"fmt"
	"strconv"
	"strings"
)

// Columns are the CSV header names (and JSON Lines keys) a row may carry.
var Columns = []string{"scene", "page", "width", "env_version", "check_path", "auto_color", "line_color", "is_hyaline", "key", "params"}

// setField applies one textual column value to j. An empty value keeps the
// default. The error names the field.
func setField(j *Job, field, v string) error {
	if v == "" {
		return nil
	}
	switch field {
	case "scene":
		j.Scene = v
	case "page":
		j.Page = v
	case "env_version":
		j.EnvVersion = v
	case "key":
		j.Key = v
	case "width":
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a whole number")
		}
		j.Width = n
	case "check_path":
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not true or false")
		}
		j.CheckPath = &b
	case "auto_color", "is_hyaline":
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not true or false")
		}
		if field == "auto_color" {
			j.AutoColor = b
		} else {
			j.IsHyaline = b
		}
	case "line_color":
		c, err := ParseColor(v)
		if err != nil {
			return err
		}
		j.LineColor = c
	default:
		return fmt.Errorf("unknown column (known: %s)", strings.Join(Columns, ", "))
	}
	return nil
}

// ParseColor reads "r,g,b" (decimal) or "#rrggbb".
func ParseColor(v string) (*[3]int, error) {
	v = strings.TrimSpace(v)
	var c [3]int
	if h, ok := strings.CutPrefix(v, "#"); ok {
		if len(h) != 6 {
			return nil, fmt.Errorf("want #rrggbb or r,g,b")
		}
		n, err := strconv.ParseUint(h, 16, 32)
		if err != nil {
			return nil, fmt.Errorf("want #rrggbb or r,g,b")
		}
		c = [3]int{int(n >> 16), int(n >> 8 & 0xff), int(n & 0xff)}
		return &c, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) != 3 {
		return nil, fmt.Errorf("want #rrggbb or r,g,b")
	}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("each of r,g,b must be 0-255")
		}
		c[i] = n
	}
	return &c, nil
}
