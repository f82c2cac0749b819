package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// lookupEnv is os.Getenv; tests of this package replace it.
var lookupEnv = os.Getenv

// Problem is one bad value: the flag (--name) or variable it came from,
// the value as it may be shown, and what is wanted.
type Problem struct {
	Name, Value, Reason string
}

func (p Problem) String() string {
	if strings.HasPrefix(p.Name, "--") {
		return fmt.Sprintf("%s %q: %s", p.Name, p.Value, p.Reason)
	}
	return fmt.Sprintf("%s=%q: %s", p.Name, p.Value, p.Reason)
}

// Error lists every bad value of a command line and its environment.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Resolve fills each bound setting of fs that the command line did not set
// from its environment variable (an empty variable counts as unset), then
// checks every value that did not come from its default. It returns an
// *Error listing every problem, or nil.
func Resolve(fs *pflag.FlagSet) error {
	var e Error
	fs.VisitAll(func(f *pflag.Flag) {
		v, ok := f.Value.(resolvable)
		if !ok {
			return
		}
		if env := v.envName(); env != "" && !f.Changed {
			if s := lookupEnv(env); s != "" {
				v.setFromEnv(s)
			}
		}
		if p := v.problem(); p != nil {
			e.Problems = append(e.Problems, *p)
		}
	})
	if len(e.Problems) > 0 {
		return &e
	}
	return nil
}

// SourceOf says where the resolved value of flag name in fs came from
// (FromDefault for a flag that is not a bound setting).
func SourceOf(fs *pflag.FlagSet, name string) Source {
	f := fs.Lookup(name)
	if f == nil {
		return FromDefault
	}
	if v, ok := f.Value.(resolvable); ok {
		return v.from()
	}
	if f.Changed {
		return FromFlag
	}
	return FromDefault
}

// EnvOf returns the variable of flag name in fs, "" if it has none.
func EnvOf(fs *pflag.FlagSet, name string) string {
	if f := fs.Lookup(name); f != nil {
		if v, ok := f.Value.(resolvable); ok {
			return v.envName()
		}
	}
	return ""
}
