package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// String declares a text setting.
func String(flag, def, usage string) Spec[string] {
	return Spec[string]{Flag: flag, Default: def, Usage: usage, kind: kind[string]{
		typ: "string", want: "text", parse: func(s string) (string, error) { return s, nil },
		format: func(s string) string { return s }}}
}

// Int declares a whole-number setting.
func Int(flag string, def int, usage string) Spec[int] {
	return Spec[int]{Flag: flag, Default: def, Usage: usage, kind: kind[int]{
		typ: "int", want: "a whole number", parse: strconv.Atoi, format: strconv.Itoa}}
}

// Float declares a decimal setting.
func Float(flag string, def float64, usage string) Spec[float64] {
	return Spec[float64]{Flag: flag, Default: def, Usage: usage, kind: kind[float64]{
		typ: "float", want: "a number such as 0.96",
		parse:  func(s string) (float64, error) { return strconv.ParseFloat(s, 64) },
		format: func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }}}
}

// Bool declares a true/false setting; the bare flag means true.
func Bool(flag string, def bool, usage string) Spec[bool] {
	return Spec[bool]{Flag: flag, Default: def, Usage: usage, kind: kind[bool]{
		typ: "bool", want: "true or false", parse: strconv.ParseBool, format: strconv.FormatBool, isBool: true}}
}

// Duration declares a duration setting; a bare number without a unit is
// malformed (30 is not 30s).
func Duration(flag string, def time.Duration, usage string) Spec[time.Duration] {
	return Spec[time.Duration]{Flag: flag, Default: def, Usage: usage, kind: kind[time.Duration]{
		typ: "duration", want: "a duration with a unit, such as 30s, 2m or 1h",
		parse: time.ParseDuration, format: formatDuration}}
}

// formatDuration writes 1h and 5m rather than 1h0m0s and 5m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Choice declares a text setting that must be one of choices.
func Choice(flag, def string, choices []string, usage string) Spec[string] {
	s := String(flag, def, usage)
	s.Check = OneOf(choices...)
	return s
}

// AtLeast wants a whole number of at least n.
func AtLeast(n int) func(int) error {
	return func(v int) error {
		if v < n {
			return fmt.Errorf("want a whole number of at least %d", n)
		}
		return nil
	}
}

// Between wants a whole number from lo to hi.
func Between(lo, hi int) func(int) error {
	return func(v int) error {
		if v < lo || v > hi {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		return nil
	}
}

// Positive wants a duration above zero.
func Positive(d time.Duration) error {
	if d <= 0 {
		return errors.New("want a duration above 0, such as 30s")
	}
	return nil
}

// NotNegative wants a duration of zero or more.
func NotNegative(d time.Duration) error {
	if d < 0 {
		return errors.New("want a duration of 0 or more, such as 24h")
	}
	return nil
}

// Fraction wants a number from 0 to 1.
func Fraction(f float64) error {
	if f < 0 || f > 1 {
		return errors.New("want a fraction from 0 to 1, such as 0.96")
	}
	return nil
}

// AtLeastFloat wants a number of at least lo.
func AtLeastFloat(lo float64) func(float64) error {
	return func(f float64) error {
		if f < lo {
			return fmt.Errorf("want a number of at least %g", lo)
		}
		return nil
	}
}

// OneOf wants one of choices.
func OneOf(choices ...string) func(string) error {
	return func(s string) error {
		if !slices.Contains(choices, s) {
			return fmt.Errorf("want one of %s", strings.Join(choices, ", "))
		}
		return nil
	}
}

// byteUnits are the suffixes Bytes takes, largest first.
var byteUnits = []struct {
	suffix string
	n      int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// Bytes declares a size setting: a whole number of bytes, or of KiB, MiB
// or GiB with that suffix (256MiB); -1 for "no limit" where the setting
// says so.
func Bytes(flag string, def int64, usage string) Spec[int64] {
	return Spec[int64]{Flag: flag, Default: def, Usage: usage, kind: kind[int64]{
		typ: "bytes", want: "a size such as 256MiB, 1GiB or 65536", parse: parseBytes, format: formatBytes}}
}

func parseBytes(s string) (int64, error) {
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n > (1<<62)/u.n || n < -(1<<62)/u.n {
				return 0, errors.New("bad size")
			}
			return n * u.n, nil
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

func formatBytes(n int64) string {
	for _, u := range byteUnits[:3] {
		if n != 0 && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// SizeOrNoLimit wants a size above 0, or -1.
func SizeOrNoLimit(n int64) error {
	if n < 1 && n != -1 {
		return errors.New("want a size above 0 such as 256MiB, or -1 for no limit")
	}
	return nil
}
