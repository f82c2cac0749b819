package cli

import (
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/bench"
)

func init() { register(newBenchCmd) }

func newBenchCmd(*env) *cobra.Command {
	return group("bench", "Benchmarks (BENCHMARKS.md) and the fault suite (RELIABILITY.md)",
		`Each benchmark starts its own private redis-server on a loopback port (and the fake
WeChat, and worker child processes of this binary) and talks only to loopback.`,
		`  wxacode bench enqueue --lines 100000
  wxacode bench chaos --scenario all`,
		bench.Commands()...)
}
