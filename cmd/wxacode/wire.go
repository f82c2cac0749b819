package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/term"
)

// openRedis connects to the Redis of --redis-url, with the TLS settings
// of --redis-ca-file, --redis-cert-file and --redis-key-file.
func (c *common) openRedis(ctx context.Context, poolSize int) (redis.UniversalClient, error) {
	tlsCfg, err := c.redisTLS()
	if err != nil {
		return nil, err
	}
	return openRedis(ctx, c.redisURL, poolSize, tlsCfg)
}

// redisConnOpt is --redis-url (with its TLS settings) for asynq parts that
// open their own connections (asynqmon, the scheduler).
func (c *common) redisConnOpt() (asynq.RedisConnOpt, error) {
	opt, err := asynq.ParseRedisURI(c.redisURL)
	if err != nil {
		return nil, fmt.Errorf("WXACODE_REDIS_URL: %v", redactErr(err, c.redisURL))
	}
	tlsCfg, err := c.redisTLS()
	if err != nil || tlsCfg == nil {
		return opt, err
	}
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		o.TLSConfig = mergeTLS(o.TLSConfig, tlsCfg)
		return o, nil
	case asynq.RedisFailoverClientOpt:
		o.TLSConfig = mergeTLS(o.TLSConfig, tlsCfg)
		return o, nil
	}
	return opt, nil
}

// redisTLS builds the TLS settings of the Redis flags; nil when none is set.
// A CA or client certificate only makes sense with rediss://.
func (c *common) redisTLS() (*tls.Config, error) {
	if c.redisCA == "" && c.redisCert == "" && c.redisKey == "" {
		return nil, nil
	}
	if !strings.HasPrefix(c.redisURL, "rediss") {
		return nil, errors.New("WXACODE_REDIS_CA_FILE / _CERT_FILE / _KEY_FILE need a rediss:// URL")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.redisCA != "" {
		pem, err := os.ReadFile(c.redisCA)
		if err != nil {
			return nil, fmt.Errorf("WXACODE_REDIS_CA_FILE: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("WXACODE_REDIS_CA_FILE %s: no PEM certificate in it", c.redisCA)
		}
	}
	if (c.redisCert == "") != (c.redisKey == "") {
		return nil, errors.New("WXACODE_REDIS_CERT_FILE and WXACODE_REDIS_KEY_FILE go together")
	}
	if c.redisCert != "" {
		if err := checkPrivate(c.redisKey); err != nil {
			return nil, fmt.Errorf("WXACODE_REDIS_KEY_FILE: %w", err)
		}
		cert, err := tls.LoadX509KeyPair(c.redisCert, c.redisKey)
		if err != nil {
			return nil, fmt.Errorf("Redis client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// mergeTLS adds the flags' CA and client certificate to the URL's TLS
// settings (which carry the server name).
func mergeTLS(base, add *tls.Config) *tls.Config {
	if base == nil {
		return add
	}
	base = base.Clone()
	base.RootCAs, base.Certificates, base.MinVersion = add.RootCAs, add.Certificates, add.MinVersion
	return base
}

// checkPrivate refuses a key file that others can read.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	return nil
}

// openRedis connects to the Redis of rawURL with the libraries' own URL
// parsers: redis:// and rediss:// (go-redis ParseURL); a master_name query
// parameter selects Sentinel (ParseFailoverURL); redis-cluster:// and
// rediss-cluster:// select Cluster (ParseClusterURL). poolSize 0 keeps the
// library default; tlsCfg, if set, adds a CA and client certificate to a
// rediss:// URL's TLS. It pings before returning; errors never echo
// passwords.
func openRedis(ctx context.Context, rawURL string, poolSize int, tlsCfg *tls.Config) (redis.UniversalClient, error) {
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
		o.PoolSize, o.TLSConfig = poolSize, tlsFor(o.TLSConfig, tlsCfg)
		c = redis.NewClusterClient(o)
	case u.Query().Has("master_name"):
		o, perr := redis.ParseFailoverURL(rawURL)
		if perr != nil {
			return nil, fmt.Errorf("WXACODE_REDIS_URL (sentinel): %v", redactErr(perr, rawURL))
		}
		o.PoolSize, o.TLSConfig = poolSize, tlsFor(o.TLSConfig, tlsCfg)
		c = redis.NewFailoverClient(o)
	default:
		o, perr := redis.ParseURL(rawURL)
		if perr != nil {
			return nil, fmt.Errorf("WXACODE_REDIS_URL: %v", redactErr(perr, rawURL))
		}
		o.PoolSize, o.TLSConfig = poolSize, tlsFor(o.TLSConfig, tlsCfg)
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

func tlsFor(base, add *tls.Config) *tls.Config {
	if add == nil {
		return base
	}
	return mergeTLS(base, add)
}

// redactURL drops the password of a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.Query()
	for k := range q {
		if isSecretParam(k) {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

// isSecretParam reports whether a URL query parameter holds a password
// (go-redis takes Sentinel's as ?password= and ?sentinel_password=).
func isSecretParam(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "password") || strings.Contains(k, "secret") || strings.Contains(k, "token")
}

// redactErr removes the URL's passwords (user info and query) from an
// error text.
func redactErr(err error, raw string) string {
	msg := err.Error()
	u, perr := url.Parse(raw)
	if perr != nil {
		return msg
	}
	var secrets []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	for k, vs := range u.Query() {
		if isSecretParam(k) {
			secrets = append(secrets, vs...)
		}
	}
	for _, p := range secrets {
		if p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
			msg = strings.ReplaceAll(msg, url.QueryEscape(p), "xxxxx")
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
