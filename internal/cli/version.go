package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() {
	register(func(e *env) *cobra.Command {
		return &cobra.Command{
			Use:     "version",
			Short:   "Print the module version, VCS revision and Go version of this binary",
			Example: "  wxacode version\n  wxacode --version",
			Args:    exactArgs(0, "no arguments"),
			RunE: func(*cobra.Command, []string) error {
				fmt.Fprintln(e.stdout, version())
				return nil
			},
		}
	})
}

// version describes the binary from its build information: the module
// version ("(devel)" for a build from a work tree), the VCS revision and
// time (with "+dirty" for uncommitted changes) and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "wxacode (no build information)"
	}
	rev, at, dirty := "unknown: built without VCS information", "", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	return fmt.Sprintf("wxacode %s (revision %s%s%s, %s)", bi.Main.Version, rev, dirty, at, bi.GoVersion)
}
