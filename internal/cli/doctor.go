package cli

import (
	"github.com/spf13/cobra"

	"github.com/wxacode/wxacode/internal/preflight"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/storage"
)

func init() { register(newDoctorCmd) }

func newDoctorCmd(e *env) *cobra.Command {
	var o system.Settings
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration: Redis, the store, every app's token source (no interface B call)",
		Long: `doctor runs the checks a worker makes at start, and a few more, and prints one row
per check (CHECK, TARGET, RESULT, ADVICE): Redis answers; the apps are configured;
the store takes a probe object under ` + storage.ProbePrefix + ` (written and removed: the
bucket exists and the credentials may write; a directory exists or can be created and
is writable); every app's token source works (for a secret, one stable_token call in
normal mode, which finds a wrong secret even while a token is cached and invalidates
nobody's token; an external source is read once); for information, how many live
workers serve each app. It spends no interface B quota.

Exit status 0 when every check passed, 2 when one found a configuration problem,
1 when one failed otherwise (an outage).`,
		Example: `  wxacode doctor
  WXACODE_STORAGE_URL=s3://codes/prod wxacode doctor --apps-file apps.yaml`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Redis, o.Log = e.redis, e.log
			log, err := e.logger()
			if err != nil {
				return err
			}
			system.QuietRedis(log) // the table says what Redis did
			rep := system.Doctor(cmd.Context(), o, log)
			rep.Print(e.stdout)
			if err := rep.Err(); err != nil {
				if err.(*preflight.Error).Config() {
					return ExitError{ExitUsage}
				}
				return ExitError{ExitFailure}
			}
			return nil
		},
	}
	systemSettings(cmd.Flags(), &o)
	return cmd
}
