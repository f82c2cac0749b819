// Package cli is wxacode's command line, on spf13/cobra: one file per
// command, each building a *cobra.Command with a description and an
// example, registered by its own init; every setting declared once in
// settings.go (flag, WXACODE_* variable, default from the owning package,
// validation). cmd/wxacode only calls Main.
//
// A new command is one file: func init() { register(newXCmd) }, where
// newXCmd(e *env) returns the command with Use, Short, Long, Example, Args
// (exactArgs, maxArgs: usage errors exit 2) and RunE, and binds the
// settings it takes. A new setting is one declaration in settings.go (its
// default from the package that owns it) and one row in README's
// Configuration table; cmd/wxacode's tests hold both to the binary's help.
//
// A failing command prints "wxacode <command>: <what is wrong>" and a
// one-line hint, never the usage. Exit statuses: 0 ok, 1 failure, 2 bad
// usage or configuration (also: enqueue rejected rows, an invalid
// campaigns file, scenes import conflicts, a preflight that found a
// configuration problem), 75 `ratelimit take` must wait.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/bench"
	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/preflight"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/ratelimit/ratelimitbench"
)

// Exit statuses of wxacode.
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitUsage    = 2  // bad usage or configuration; rejected input
	ExitTempFail = 75 // EX_TEMPFAIL: `ratelimit take` must wait
)

// ExitError ends a command with Code once its own output said why; no
// further message is printed.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// usageError is a command line that does not fit the command: exit 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Main runs wxacode with args (without the program name) until it ends or
// SIGINT/SIGTERM, and returns the exit status. A rate-limit benchmark
// child process runs as one instead.
func Main(args []string, stdout, stderr io.Writer) int {
	if ratelimitbench.IsChild() {
		return ratelimitbench.ChildMain()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, stdout, stderr)
}

// Run runs one command line on a fresh command tree.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return report(cmd, err, stderr)
}

var cobraUnknown = regexp.MustCompile(`^unknown command "([^"]*)" for "[^"]*"(?s:\s*Did you mean this\?\s*(.*))?`)

// report prints a command's error first, with a one-line hint, and
// returns the exit status it calls for.
func report(cmd *cobra.Command, err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	path := "wxacode"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	msg, code := err.Error(), ExitFailure
	if m := cobraUnknown.FindStringSubmatch(msg); m != nil {
		msg, code = fmt.Sprintf("unknown command %q", m[1]), ExitUsage
		if s := strings.Fields(m[2]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
		}
	}
	var ue usageError
	var ce *config.Error
	var se *system.ConfigError
	var pe *preflight.Error
	hint := fmt.Sprintf("see '%s --help'", path)
	if errors.As(err, &pe) {
		hint = "'wxacode doctor' runs every check and prints them as a table"
		if pe.Config() {
			code = ExitUsage
		}
	}
	var be *bench.UsageError
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &se) || errors.As(err, &be) {
		code = ExitUsage
	}
	fmt.Fprintf(stderr, "%s: %s\n", path, msg)
	fmt.Fprintln(stderr, hint)
	return code
}
