package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/term"
)

// openRedis connects to the Redis of rawURL with the libraries' own URL
// parsers: redis:// and rediss:// (go-redis ParseURL); a master_name query
// parameter selects Sentinel (ParseFailoverURL); redis-cluster:// and
// rediss-cluster:// select Cluster (ParseClusterURL). poolSize 0 keeps the
// library default. It pings before returning; errors never echo passwords.
func openRedis(ctx context.Context, rawURL string, poolSize int) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("WXACODE_REDIS_URL: not a URL")
	}
	var c redis.UniversalClient
	switch {
	case strings.HasSuffix(u.Scheme, "-cluster"):
		u.Scheme = strings.TrimSuffix(u.Scheme, "-cluster")
		o, perr := redis.ParseClusterURL(u.String())
		if perr != nil {
			return nil, fmt.Errorf("WXACODE_REDIS_URL (cluster): %v", redactErr(perr, rawURL))
		}
		o.PoolSize = poolSize
		c = redis.NewClusterClient(o)
	case u.Query().Has("master_name"):
		o, perr := redis.ParseFailoverURL(rawURL)
		if perr != nil {
			return nil, fmt.Errorf("WXACODE_REDIS_URL (sentinel): %v", redactErr(perr, rawURL))
		}
		o.PoolSize = poolSize
		c = redis.NewFailoverClient(o)
	default:
		o, perr := redis.ParseURL(rawURL)
		if perr != nil {
			return nil, fmt.Errorf("WXACODE_REDIS_URL: %v", redactErr(perr, rawURL))
		}
		o.PoolSize = poolSize
		c = redis.NewClient(o)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis at %s unreachable: %v", redactURL(rawURL), redactErr(err, rawURL))
	}
	return c, nil
}

// redactURL drops the password of a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// redactErr removes the URL's password from an error text.
func redactErr(err error, raw string) string {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// isTerminal reports whether w is a terminal (progress bars, text logs).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newLogger returns JSON logs off a terminal and text logs on one.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "auto", "":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want auto, text or json", format)
}
