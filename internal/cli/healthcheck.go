package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newHealthcheckCmd) }

func newHealthcheckCmd(e *env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck URL",
		Short: "GET a health URL and exit 0 on a 2xx answer (for container health checks)",
		Long: `healthcheck GETs URL and succeeds on a 2xx answer: the container HEALTHCHECK of an
image without a shell or curl.`,
		Example: "  wxacode healthcheck http://127.0.0.1:9090/healthz",
		Args:    exactArgs(1, "one URL, e.g. http://127.0.0.1:9090/healthz"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
			if err != nil {
				return usagef("%v", err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("%s answered %s", args[0], resp.Status)
			}
			fmt.Fprintln(e.stdout, "ok")
			return nil
		},
	}
	healthTimeout.Bind(cmd.Flags(), &timeout)
	return cmd
}
