// Package config declares each of wxacode's settings once: its flag, its
// WXACODE_* environment variable, its type, its default (taken from the
// package that owns the setting), its documentation and its validation.
//
// A command binds the settings it takes to its flag set (Spec.Bind), and
// Resolve, called once the command line is parsed, fills every flag not
// given on the command line from its variable and checks every value. A
// malformed or out-of-range value, from a flag or from the environment, is
// an *Error naming the flag or variable, the value and what is wanted;
// nothing falls back to a default silently. An empty variable counts as
// unset.
//
// Secrets never reach the help text: a Secret setting shows no default and
// says "(set)" when its variable is set, and a setting with a Show function
// (the Redis URL) shows its default and any value in an error through it.
package config

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// NoEnv as a Spec's Env means the setting is a flag only.
const NoEnv = "-"

// Spec declares one setting of type T. Declare it once, as a package
// variable, and Bind it wherever a command takes it.
type Spec[T any] struct {
	// Flag is the flag name without dashes, e.g. "concurrency".
	Flag string
	// Shorthand is a one-letter flag (-o), "" if none.
	Shorthand string
	// Env is the environment variable. Default "": WXACODE_ and the flag
	// name in upper snake case; NoEnv: none.
	Env string
	// Default is the value when neither the flag nor the variable is set.
	Default T
	// Usage is the one-line help text.
	Usage string
	// Secret hides the value everywhere: no default in the help, "(set)"
	// when the variable is set, "(hidden)" in errors.
	Secret bool
	// Show renders a value for the help text and errors (e.g. a URL
	// without its password). Default: the value as parsed.
	Show func(string) string
	// Check validates a parsed value; its error says what is wanted
	// ("want a whole number of at least 1"). Default nil: every value of
	// the type is valid.
	Check func(T) error

	kind kind[T]
}

// kind is how a type is parsed and printed.
type kind[T any] struct {
	typ    string // pflag type name, shown in the help ("int", "duration")
	want   string // what a malformed value should have been
	parse  func(string) (T, error)
	format func(T) string
	isBool bool
}

// EnvName is the variable of the setting, "" if it has none.
func (s Spec[T]) EnvName() string {
	switch s.Env {
	case NoEnv:
		return ""
	case "":
		return "WXACODE_" + strings.ToUpper(strings.ReplaceAll(s.Flag, "-", "_"))
	}
	return s.Env
}

// Bind adds the setting's flag to fs, storing into p (set to the default
// now). The usage text names the variable and, for a secret whose
// variable is set, says "(set)".
func (s Spec[T]) Bind(fs *pflag.FlagSet, p *T) {
	*p = s.Default
	v := &value[T]{spec: s, p: p}
	usage := s.Usage
	if env := s.EnvName(); env != "" {
		usage += " (env " + env
		if s.Secret && lookupEnv(env) != "" {
			usage += ": set"
		}
		usage += ")"
	}
	f := fs.VarPF(v, s.Flag, s.Shorthand, usage)
	f.DefValue = s.shown(s.kind.format(s.Default))
	if s.kind.isBool {
		f.NoOptDefVal = "true"
	}
}

// shown is how a raw value appears in help and errors.
func (s Spec[T]) shown(raw string) string {
	switch {
	case s.Secret:
		return ""
	case s.Show != nil:
		return s.Show(raw)
	}
	return raw
}

// Source says where a resolved value came from.
type Source int

// The sources of a value, in increasing precedence.
const (
	FromDefault Source = iota
	FromEnv
	FromFlag
)

// value is the pflag.Value of a bound setting. Set never fails: a value
// that does not parse is kept and reported by Resolve, with the flag or
// variable it came from, so that both read the same.
type value[T any] struct {
	spec   Spec[T]
	p      *T
	raw    string
	err    error
	source Source
}

func (v *value[T]) String() string {
	if v.p == nil {
		return ""
	}
	return v.spec.shown(v.spec.kind.format(*v.p))
}

func (v *value[T]) Type() string { return v.spec.kind.typ }

func (v *value[T]) Set(s string) error {
	v.set(s, FromFlag)
	return nil
}

func (v *value[T]) set(s string, from Source) {
	v.raw, v.source = s, from
	x, err := v.spec.kind.parse(strings.TrimSpace(s))
	if err != nil {
		v.err = fmt.Errorf("want %s", v.spec.kind.want)
		return
	}
	v.err = nil
	*v.p = x
}

// resolvable is what Resolve needs of a bound setting, whatever its type.
type resolvable interface {
	envName() string
	setFromEnv(string)
	problem() *Problem
	from() Source
}

func (v *value[T]) envName() string     { return v.spec.EnvName() }
func (v *value[T]) setFromEnv(s string) { v.set(s, FromEnv) }
func (v *value[T]) from() Source        { return v.source }

func (v *value[T]) problem() *Problem {
	err := v.err
	if err == nil && v.source != FromDefault && v.spec.Check != nil {
		err = v.spec.Check(*v.p)
	}
	if err == nil {
		return nil
	}
	p := &Problem{Name: "--" + v.spec.Flag, Value: v.spec.shown(v.raw), Reason: err.Error()}
	if v.spec.Secret {
		p.Value = "(hidden)"
	}
	if v.source == FromEnv {
		p.Name = v.spec.EnvName()
	}
	return p
}
