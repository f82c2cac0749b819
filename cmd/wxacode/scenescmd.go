package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/scenes"
)

// sceneOpts configure the scene store shared by enqueue, the worker's
// feeder, the dashboard and `wxacode scenes`.
type sceneOpts struct {
	prefix string
	length int
}

func (s *sceneOpts) flags(fs *flag.FlagSet) {
	strFlag(fs, &s.prefix, "scene-prefix", "", "prefix of issued short scenes, [0-9A-Za-z] (e.g. p for posters)")
	intFlag(fs, &s.length, "scene-length", scenes.DefaultLength, "base62 characters after the prefix in issued scenes (prefix + length <= 32)")
}

// open returns the scene store on rdb.
func (s *sceneOpts) open(rdb redis.UniversalClient) (*scenes.Store, error) {
	st, err := scenes.New(rdb, scenes.Config{Prefix: s.prefix, Length: s.length})
	if err != nil {
		return nil, fmt.Errorf("scenes: %w", err)
	}
	return st, nil
}

// issuer adapts a scene store for the readers and the feeder.
func issuer(st *scenes.Store) jobs.SceneIssuer {
	return jobs.SceneIssuer{
		Check:     func(p []byte) error { _, err := scenes.Canonical(p); return err },
		IssueMany: st.IssueMany,
	}
}

// runScenes: serve (the public resolver), lookup, export and import of the
// scene mapping.
func runScenes(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("scenes: want serve, lookup SCENE, export [FILE] or import FILE")
	}
	var c common
	so := &c.scene
	fs := flagSet("scenes "+args[0], "scenes serve|lookup SCENE|export [FILE]|import FILE [flags]", stderr)
	c.redisFlags(fs)
	so.flags(fs)
	var listen string
	var hc scenes.HandlerConfig
	if args[0] == "serve" {
		strFlag(fs, &listen, "listen", "127.0.0.1:8081", "address of the public resolver GET /s/{scene}")
		fs.Float64Var(&hc.RatePerSecond, "rate", 20, "requests per second allowed per client")
		fs.IntVar(&hc.Burst, "burst", 40, "requests a client may make at once")
		fs.BoolVar(&hc.TrustProxy, "trust-proxy", false, "rate-limit by the last X-Forwarded-For entry (only behind one reverse proxy that sets it)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	rdb, err := c.openRedis(ctx, 8)
	if err != nil {
		return err
	}
	defer rdb.Close()
	st, err := so.open(rdb)
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		return serveScenes(ctx, st, listen, hc, &c, stdout, stderr)
	case "lookup":
		return lookupScene(ctx, st, fs.Args(), stdout)
	case "export":
		return exportScenes(ctx, st, fs.Args(), stdout, stderr)
	case "import":
		return importScenes(ctx, st, fs.Args(), stdout)
	}
	return fmt.Errorf("scenes: unknown subcommand %q (want serve, lookup, export or import)", args[0])
}

func serveScenes(ctx context.Context, st *scenes.Store, listen string, hc scenes.HandlerConfig, c *common, stdout, stderr io.Writer) error {
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
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
	return listenAndServe(ctx, listen, scenes.Handler(st, hc), log, func(addr string) {
		fmt.Fprintf(stdout, "scene resolver on http://%s/s/{scene}\n", addr)
	})
}

func lookupScene(ctx context.Context, st *scenes.Store, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("scenes lookup: give one SCENE")
	}
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
	if len(args) != 1 {
		return errors.New("scenes import: give one FILE (JSON Lines from scenes export), or - for stdin")
	}
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
		err = exitError{code: 2}
	}
	return err
}
