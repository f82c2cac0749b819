package cli

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/config"
	"github.com/wxacode/wxacode/internal/system"
)

// env is what every command shares: the output streams and the global
// settings, bound to the root's persistent flags.
type env struct {
	stdout, stderr io.Writer
	redis          system.Redis
	log            system.Log
	slog           *slog.Logger
}

// logger returns the process's logger on stderr, made before the command
// ran, so that every line of the process (go-redis's, asynq's too) has its
// format.
func (e *env) logger() (*slog.Logger, error) {
	if e.slog == nil {
		return e.log.New(e.stderr)
	}
	return e.slog, nil
}

// prepare resolves the command's settings from the environment, checks
// them, and makes the process's logger.
func (e *env) prepare(cmd *cobra.Command) error {
	if err := config.Resolve(cmd.Flags()); err != nil {
		return err
	}
	var err error
	e.slog, err = e.log.New(e.stderr)
	return err
}

// commands are the constructors of the root's subcommands; each command's
// file adds its own in init.
var commands []func(*env) *cobra.Command

func register(newCmd func(*env) *cobra.Command) { commands = append(commands, newCmd) }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	e := &env{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "wxacode",
		Short: "Pre-generate WeChat mini-program codes (interface B) at scale",
		Long: `wxacode pre-generates WeChat mini-program codes (interface B) at scale: enqueue one
job per code, run workers under a fleet-wide rate limit per app, store the images
on S3 or a local directory, and keep a ledger of every outcome.

Every setting is a flag and an environment variable (shown as "env WXACODE_..."
in each command's help). Exit status: 0 ok, 1 failure, 2 bad usage or
configuration (and rejected input), 75 'ratelimit take' must wait.`,
		Example: `  wxacode demo
  wxacode worker --concurrency 100
  wxacode enqueue --page pages/coupon/index coupons.txt`,
		Version:           version(),
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return e.prepare(cmd) },
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	redisURL.Bind(pf, &e.redis.URL)
	redisCAFile.Bind(pf, &e.redis.CAFile)
	redisCertFile.Bind(pf, &e.redis.CertFile)
	redisKeyFile.Bind(pf, &e.redis.KeyFile)
	logLevel.Bind(pf, &e.log.Level)
	logFormat.Bind(pf, &e.log.Format)
	for _, c := range commands {
		root.AddCommand(c(e))
	}
	completionExamples(root)
	return root
}

// completionExamples gives cobra's completion command and its shells an
// example each, like every other command.
func completionExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = "  source <(wxacode completion bash)\n  wxacode completion zsh > \"${fpath[1]}/_wxacode\"\n  wxacode completion fish > ~/.config/fish/completions/wxacode.fish"
		for _, sh := range c.Commands() {
			sh.Example = "  wxacode completion " + sh.Name()
		}
	}
}

// group is a command made of subcommands (campaign, scenes, ratelimit,
// bench): on its own, or with an unknown subcommand, it is a usage error
// naming the subcommands (with a suggestion for a typo).
func group(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{Use: use, Short: short, Long: long, Example: example,
		Args: cobra.ArbitraryArgs, FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true}}
	g.SuggestionsMinimumDistance = 2
	g.AddCommand(subs...)
	g.RunE = func(cmd *cobra.Command, args []string) error {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		if len(args) == 0 {
			return usagef("give a subcommand: %s", strings.Join(names, ", "))
		}
		msg := fmt.Sprintf("unknown subcommand %q", args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
		}
		return usagef("%s; want one of %s", msg, strings.Join(names, ", "))
	}
	return g
}

// exactArgs wants n positional arguments, named in the error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d argument(s)%s", what, len(args), quoted(args))
		}
		return nil
	}
}

// maxArgs wants at most n positional arguments.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("want %s, got %d arguments%s", what, len(args), quoted(args))
		}
		return nil
	}
}

func quoted(args []string) string {
	if len(args) == 0 {
		return ""
	}
	q := slices.Clone(args)
	for i, a := range q {
		q[i] = fmt.Sprintf("%q", a)
	}
	return ": " + strings.Join(q, " ")
}
