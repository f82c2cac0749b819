// Package clitest reads wxacode's command line the way an operator does:
// it builds the binary, runs `wxacode ... --help` and parses what cobra
// prints (commands, flags with their variables and defaults, the usage
// line), walks the whole command tree, and checks a `wxacode ...` command
// line against it. The binary tests of cmd/wxacode and the deploy tests
// use it.
package clitest

import (
	"errors"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Build compiles ./cmd/wxacode (from the module root above the working
// directory) into dir and returns the binary's path. race builds it with
// the race detector (cheap when `go test -race` already compiled the
// packages).
func Build(dir string, race bool) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "wxacode")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command(goTool(), append(args, "./cmd/wxacode")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building wxacode: %v\n%s", err, out)
	}
	return bin, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("clitest: no go.mod above the working directory")
		}
		dir = parent
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(build.Default.GOROOT, "bin", "go")
}

// Flag is one flag as the help text shows it.
type Flag struct {
	Name, Shorthand string
	// Type is the value's type ("string", "int", "duration"); "" for a
	// bool flag, which takes no value.
	Type string
	// Env is the variable that sets it, "" if none.
	Env string
	// Default is the default shown, "" if none.
	Default string
	// Usage is the rest of the line.
	Usage string
}

// Command is what `wxacode PATH --help` says.
type Command struct {
	// Path is the command's words after wxacode, e.g. [campaign run].
	Path []string
	// Use is the usage line after the path, e.g. "NAME [flags]".
	Use string
	// Subcommands are the names under Available Commands.
	Subcommands []string
	// Flags are its own and the global flags, by name.
	Flags map[string]Flag
	// Envs are every WXACODE_* variable the help names.
	Envs map[string]bool
	// Example is the text under Examples.
	Example string
	// Text is the whole help.
	Text string
}

// Name is the command's path as one string ("" for the root).
func (c *Command) Name() string { return strings.Join(c.Path, " ") }

var (
	flagLineRE = regexp.MustCompile(`^\s+(?:-([A-Za-z0-9]), )?--([A-Za-z0-9][A-Za-z0-9-]*)(?:\[=[^\]]*\])?(?: ([a-zA-Z0-9]+))?\s{2,}(.*)$`)
	envRE      = regexp.MustCompile(`\(env (WXACODE_[A-Z0-9_]+)(?::[^)]*)?\)`)
	anyEnvRE   = regexp.MustCompile(`WXACODE_[A-Z0-9_]+`)
	defaultRE  = regexp.MustCompile(`\(default (?:"([^"]*)"|([^)]*))\)\s*$`)
)

// Parse reads cobra's help text of the command at path.
func Parse(path []string, text string) *Command {
	c := &Command{Path: path, Flags: map[string]Flag{}, Envs: map[string]bool{}, Text: text}
	for _, e := range anyEnvRE.FindAllString(text, -1) {
		c.Envs[e] = true
	}
	section := ""
	for _, l := range strings.Split(text, "\n") {
		if strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " ") {
			section = strings.TrimSuffix(l, ":")
			continue
		}
		switch section {
		case "Usage":
			prefix := strings.TrimSpace(strings.Join(append([]string{"wxacode"}, path...), " "))
			if rest, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok && c.Use == "" && !strings.Contains(rest, "[command]") {
				c.Use = strings.TrimSpace(rest)
			}
		case "Available Commands":
			if f := strings.Fields(l); len(f) > 0 {
				c.Subcommands = append(c.Subcommands, f[0])
			}
		case "Examples":
			c.Example += l + "\n"
		case "Flags", "Global Flags":
			if m := flagLineRE.FindStringSubmatch(l); m != nil {
				c.Flags[m[2]] = parseFlag(m)
			}
		}
	}
	return c
}

func parseFlag(m []string) Flag {
	f := Flag{Shorthand: m[1], Name: m[2], Type: m[3], Usage: m[4]}
	if e := envRE.FindStringSubmatch(f.Usage); e != nil {
		f.Env = e[1]
	}
	if d := defaultRE.FindStringSubmatch(f.Usage); d != nil {
		f.Default = d[1] + d[2]
	}
	return f
}

// Help runs `bin PATH --help` with env and parses it; it fails if the
// command does not exit 0.
func Help(bin string, env []string, path ...string) (*Command, error) {
	cmd := exec.Command(bin, append(slices.Clone(path), "--help")...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wxacode %s --help: %v\n%s", strings.Join(path, " "), err, out)
	}
	return Parse(path, string(out)), nil
}

// Walk runs --help on every command of the tree (help itself excepted)
// and returns them by Name ("" is the root).
func Walk(bin string, env []string) (map[string]*Command, error) {
	tree := map[string]*Command{}
	var visit func(path []string) error
	visit = func(path []string) error {
		c, err := Help(bin, env, path...)
		if err != nil {
			return err
		}
		tree[c.Name()] = c
		for _, s := range c.Subcommands {
			if s == "help" {
				continue
			}
			if err := visit(append(slices.Clone(path), s)); err != nil {
				return err
			}
		}
		return nil
	}
	return tree, visit(nil)
}

// Check checks a command line (the words after wxacode) against the tree:
// the command exists, every flag is one of its flags (a non-bool flag
// takes the next word unless written --flag=value), and the number of
// positional arguments fits its usage line. It returns the command.
func Check(tree map[string]*Command, argv []string) (*Command, error) {
	c, rest := find(tree, argv)
	if c == nil {
		return nil, fmt.Errorf("no such command: wxacode %s", strings.Join(argv, " "))
	}
	var args []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			args = append(args, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f, ok := lookupFlag(c, name, !strings.HasPrefix(a, "--"))
		if !ok {
			return c, fmt.Errorf("wxacode %s has no flag %s", c.Name(), a)
		}
		if f.Type != "" && !hasValue {
			if i+1 >= len(rest) {
				return c, fmt.Errorf("wxacode %s: flag %s wants a value", c.Name(), a)
			}
			i++
		}
	}
	lo, hi := Arity(c.Use)
	if len(c.Subcommands) > 0 {
		return c, fmt.Errorf("wxacode %s needs a subcommand (one of %s)", c.Name(), strings.Join(c.Subcommands, ", "))
	}
	if len(args) < lo || (hi >= 0 && len(args) > hi) {
		return c, fmt.Errorf("wxacode %s: %d arguments %q do not fit %q", c.Name(), len(args), args, c.Use)
	}
	return c, nil
}

// find returns the deepest command of the tree that argv's leading words
// name, and the words after them. Flags may stand before a subcommand.
func find(tree map[string]*Command, argv []string) (*Command, []string) {
	c := tree[""]
	var rest []string
	path := []string{}
	for i, a := range argv {
		next, ok := tree[strings.Join(append(slices.Clone(path), a), " ")]
		if ok && !strings.HasPrefix(a, "-") {
			path, c = append(path, a), next
			continue
		}
		rest = append(rest, argv[i:]...)
		break
	}
	return c, rest
}

func lookupFlag(c *Command, name string, short bool) (Flag, bool) {
	if !short {
		f, ok := c.Flags[name]
		return f, ok
	}
	for _, f := range c.Flags {
		if f.Shorthand == name {
			return f, true
		}
	}
	return Flag{}, false
}

// Arity is the range of positional arguments a usage line allows
// (hi -1: no bound): each upper-case word is one argument, one in
// brackets is optional, "..." repeats.
func Arity(use string) (lo, hi int) {
	for _, w := range strings.Fields(use) {
		if w == "[flags]" {
			continue
		}
		optional := strings.HasPrefix(w, "[")
		w = strings.Trim(w, "[]")
		if strings.HasSuffix(w, "...") {
			hi = -1
			if !optional {
				lo++
			}
			continue
		}
		if w == "" || strings.ToUpper(w) != w {
			continue
		}
		if !optional {
			lo++
		}
		if hi >= 0 {
			hi++
		}
	}
	return lo, hi
}

// Lazy walks the command tree once, on first use, for every test of a
// package.
type Lazy struct {
	once sync.Once
	tree map[string]*Command
	err  error
}

// Tree walks the tree of bin with env the first time and returns it.
func (l *Lazy) Tree(bin string, env []string) (map[string]*Command, error) {
	l.once.Do(func() { l.tree, l.err = Walk(bin, env) })
	return l.tree, l.err
}
