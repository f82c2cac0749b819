package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/system"
	"github.com/wxacode/wxacode/scenes"
)

func init() { register(newScenesCmd) }

func newScenesCmd(e *env) *cobra.Command {
	return group("scenes", "The short-scene mapping: serve, lookup, export, import",
		`Rows of long parameters are each given a short scene; the mapping lives in Redis.
scenes serves it to the mini-program (GET /s/{scene}), looks scenes up, and exports
and imports it as JSON Lines.`,
		`  wxacode scenes serve --listen :8081
  wxacode scenes lookup cK3x9TQ0aBf`,
		scenesServeCmd(e), scenesLookupCmd(e), scenesExportCmd(e), scenesImportCmd(e))
}

// scenesCmd is a scenes subcommand: run gets the scene store.
func scenesCmd(e *env, c *cobra.Command, run func(ctx context.Context, st *scenes.Store, args []string) error) *cobra.Command {
	var so system.Scenes
	sceneSettings(c.Flags(), &so)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if _, err := e.logger(); err != nil {
			return err
		}
		rdb, err := e.redis.Open(ctx, 8)
		if err != nil {
			return err
		}
		defer rdb.Close()
		st, err := so.Open(rdb)
		if err != nil {
			return err
		}
		return run(ctx, st, args)
	}
	return c
}

func scenesServeCmd(e *env) *cobra.Command {
	var listen string
	var hc scenes.HandlerConfig
	var hs httpserver.Config
	c := scenesCmd(e, &cobra.Command{
		Use:   "serve",
		Short: "Serve the public, read-only resolver GET /s/{scene} -> the parameters as JSON",
		Long: `serve answers GET /s/{scene} with the scene's parameters (404 for a scene never
issued), rate-limited per client, with Cache-Control: public, max-age=86400 and an
ETag: a mapping never changes. It is unauthenticated by design.`,
		Example: "  wxacode scenes serve --listen :8081 --rate 20 --burst 40",
		Args:    exactArgs(0, "no arguments"),
	}, func(ctx context.Context, st *scenes.Store, _ []string) error {
		return serveScenes(ctx, e, st, listen, hc, hs)
	})
	fs := c.Flags()
	scenesListen.Bind(fs, &listen)
	resolverRate.Bind(fs, &hc.RatePerSecond)
	resolverBurst.Bind(fs, &hc.Burst)
	trustProxy.Bind(fs, &hc.TrustProxy)
	redisTimeout.Bind(fs, &hc.RedisTimeout)
	httpSettings(fs, &hs, httpserver.DefaultMaxConnsPerClient)
	return c
}

func scenesLookupCmd(e *env) *cobra.Command {
	return scenesCmd(e, &cobra.Command{
		Use:     "lookup SCENE",
		Short:   "Print the parameters of an issued scene",
		Example: "  wxacode scenes lookup cK3x9TQ0aBf",
		Args:    exactArgs(1, "one SCENE"),
	}, func(ctx context.Context, st *scenes.Store, args []string) error {
		return lookupScene(ctx, st, args, e.stdout)
	})
}

func scenesExportCmd(e *env) *cobra.Command {
	return scenesCmd(e, &cobra.Command{
		Use:     "export [FILE|-]",
		Short:   "Write the whole mapping as JSON Lines {\"scene\":...,\"params\":{...}} (a new FILE, or standard output)",
		Example: "  wxacode scenes export scenes.jsonl",
		Args:    maxArgs(1, "at most one FILE"),
	}, func(ctx context.Context, st *scenes.Store, args []string) error {
		return exportScenes(ctx, st, args, e.stdout, e.stderr)
	})
}

func scenesImportCmd(e *env) *cobra.Command {
	return scenesCmd(e, &cobra.Command{
		Use:     "import FILE|-",
		Short:   "Read an export into this Redis; conflicts are reported, never overwritten (exit 2)",
		Example: "  wxacode scenes import scenes.jsonl --redis-url redis://other:6379/0",
		Args:    exactArgs(1, "one FILE (JSON Lines from scenes export), or - for standard input"),
	}, func(ctx context.Context, st *scenes.Store, args []string) error {
		return importScenes(ctx, st, args, e.stdout)
	})
}

func serveScenes(ctx context.Context, e *env, st *scenes.Store, listen string, hc scenes.HandlerConfig, hs httpserver.Config) error {
	log, err := e.logger()
	if err != nil {
		return err
	}
	if err := st.CheckPersistence(ctx); err != nil {
		log.Warn("the scene mapping must survive a Redis restart: enable AOF", "err", err)
	}
	if hc.RatePerSecond <= 0 {
		hc.RatePerSecond = float64(rate.Inf)
	}
	hc.Logger = log
	hs.TrustProxy = hc.TrustProxy
	mux := http.NewServeMux()
	mux.Handle("/", scenes.Handler(st, hc))
	ready := scenes.Ready(st, hc)
	mux.Handle("GET /healthz", ready)
	mux.Handle("GET /readyz", ready)
	return listenAndServe(ctx, "listen", listen, hs, mux, log, func(addr string) {
		fmt.Fprintf(e.stdout, "scene resolver on http://%s/s/{scene}\n", addr)
	})
}

func lookupScene(ctx context.Context, st *scenes.Store, args []string, stdout io.Writer) error {
	p, err := st.Lookup(ctx, args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", p)
	return nil
}

func exportScenes(ctx context.Context, st *scenes.Store, args []string, stdout, stderr io.Writer) error {
	w := stdout
	if len(args) == 1 && args[0] != "-" {
		f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := st.Export(ctx, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d scenes\n", n)
	return nil
}

func importScenes(ctx context.Context, st *scenes.Store, args []string, stdout io.Writer) error {
	var r io.Reader = os.Stdin
	if args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	res, err := st.Import(ctx, r)
	fmt.Fprintf(stdout, "%d lines: %d added, %d unchanged, %d conflicts\n", res.Lines, res.Added, res.Unchanged, res.Conflicted)
	for _, c := range res.Conflicts {
		fmt.Fprintf(stdout, "  line %d: scene %s: %v %s\n", c.Line, c.Scene, c.Kind, c.Existing)
	}
	if err == nil && res.Conflicted > 0 {
		err = ExitError{ExitUsage}
	}
	return err
}
