// Package system builds what wxacode's commands run on from their
// settings: the Redis connection (URL, TLS), the process's one slog
// logger (which go-redis, asynq and every package logging through
// slog.Default also use), the configured apps, the store and key template,
// the scene store, and the worker's dependencies. It holds no business
// rule: each part comes from the package that owns it.
package system

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// DefaultRedisURL is the Redis of a command given no --redis-url.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// Redis are the settings of the Redis connection.
type Redis struct {
	// URL is redis://, rediss://, a Sentinel URL (?master_name=) or
	// redis-cluster://. Default "" means DefaultRedisURL.
	URL string
	// CAFile, CertFile and KeyFile add a CA and a client certificate to a
	// rediss:// URL. Default "": none.
	CAFile, CertFile, KeyFile string
}

func (r Redis) url() string { return cmp.Or(r.URL, DefaultRedisURL) }

// Open connects to the Redis of the settings and pings it. poolSize 0
// keeps the library default. A malformed URL or TLS setting is a
// *ConfigError; errors never echo passwords.
func (r Redis) Open(ctx context.Context, poolSize int) (redis.UniversalClient, error) {
	tlsCfg, err := r.tls()
	if err != nil {
		return nil, err
	}
	return openRedis(ctx, r.url(), poolSize, tlsCfg)
}

// ConnOpt is the Redis of the settings for asynq parts that open their own
// connections (asynqmon, the scheduler).
func (r Redis) ConnOpt() (asynq.RedisConnOpt, error) {
	raw := r.url()
	opt, err := asynq.ParseRedisURI(raw)
	if err != nil {
		return nil, redisURLError(redactErr(err, raw))
	}
	tlsCfg, err := r.tls()
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

// tls builds the TLS settings; nil when none is set. A CA or client
// certificate only makes sense with rediss://.
func (r Redis) tls() (*tls.Config, error) {
	if r.CAFile == "" && r.CertFile == "" && r.KeyFile == "" {
		return nil, nil
	}
	if !strings.HasPrefix(r.url(), "rediss") {
		return nil, &ConfigError{Setting: "--redis-ca-file, --redis-cert-file, --redis-key-file", Err: errors.New("they need a rediss:// URL")}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if r.CAFile != "" {
		pem, err := os.ReadFile(r.CAFile)
		if err != nil {
			return nil, &ConfigError{Setting: "--redis-ca-file (WXACODE_REDIS_CA_FILE)", Err: err}
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, &ConfigError{Setting: "--redis-ca-file (WXACODE_REDIS_CA_FILE)", Err: fmt.Errorf("%s: no PEM certificate in it", r.CAFile)}
		}
	}
	if (r.CertFile == "") != (r.KeyFile == "") {
		return nil, &ConfigError{Setting: "--redis-cert-file, --redis-key-file", Err: errors.New("give both or neither")}
	}
	if r.CertFile != "" {
		if err := CheckPrivate(r.KeyFile); err != nil {
			return nil, &ConfigError{Setting: "--redis-key-file (WXACODE_REDIS_KEY_FILE)", Err: err}
		}
		cert, err := tls.LoadX509KeyPair(r.CertFile, r.KeyFile)
		if err != nil {
			return nil, &ConfigError{Setting: "--redis-cert-file, --redis-key-file", Err: err}
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

// CheckPrivate refuses a key file that others can read.
func CheckPrivate(path string) error {
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
// passwords. Every command honours its context's deadline, so a caller
// that bounds a call (the resolver: --redis-timeout) gets its answer in
// time even from a stalled Redis.
func openRedis(ctx context.Context, rawURL string, poolSize int, tlsCfg *tls.Config) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, redisURLError("not a URL")
	}
	var c redis.UniversalClient
	switch {
	case strings.HasSuffix(u.Scheme, "-cluster"):
		u.Scheme = strings.TrimSuffix(u.Scheme, "-cluster")
		o, perr := redis.ParseClusterURL(u.String())
		if perr != nil {
			return nil, redisURLError("cluster: " + redactErr(perr, rawURL))
		}
		o.PoolSize, o.TLSConfig = poolSize, tlsFor(o.TLSConfig, tlsCfg)
		o.ContextTimeoutEnabled = true
		c = redis.NewClusterClient(o)
	case u.Query().Has("master_name"):
		o, perr := redis.ParseFailoverURL(rawURL)
		if perr != nil {
			return nil, redisURLError("sentinel: " + redactErr(perr, rawURL))
		}
		o.PoolSize, o.TLSConfig = poolSize, tlsFor(o.TLSConfig, tlsCfg)
		o.ContextTimeoutEnabled = true
		c = redis.NewFailoverClient(o)
	default:
		o, perr := redis.ParseURL(rawURL)
		if perr != nil {
			return nil, redisURLError(redactErr(perr, rawURL))
		}
		o.PoolSize, o.TLSConfig = poolSize, tlsFor(o.TLSConfig, tlsCfg)
		o.ContextTimeoutEnabled = true
		c = redis.NewClient(o)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis at %s unreachable: %v", RedactURL(rawURL), redactErr(err, rawURL))
	}
	return c, nil
}

func tlsFor(base, add *tls.Config) *tls.Config {
	if add == nil {
		return base
	}
	return mergeTLS(base, add)
}

func redisURLError(msg string) error {
	return &ConfigError{Setting: "--redis-url (WXACODE_REDIS_URL)", Err: errors.New(msg)}
}

// RedactURL drops the passwords of a URL (user info and query) for help
// texts and messages.
func RedactURL(raw string) string {
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
