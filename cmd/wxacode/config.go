package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// flagSet returns a FlagSet whose usage lists every flag with the
// environment variable that sets it.
func flagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wxacode %s\n\nFlags (each also set by the environment variable shown):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// envName is the environment variable of a flag: WXACODE_ + upper snake case.
func envName(flagName string) string {
	return "WXACODE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func envUsage(name, usage string) string {
	return fmt.Sprintf("%s (env %s)", usage, envName(name))
}

func strFlag(fs *flag.FlagSet, p *string, name, def, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	fs.StringVar(p, name, def, envUsage(name, usage))
}

func intFlag(fs *flag.FlagSet, p *int, name string, def int, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.Atoi(v); err == nil {
			def = n
		} else {
			fmt.Fprintf(os.Stderr, "wxacode: ignoring %s=%q: not a whole number\n", envName(name), v)
		}
	}
	fs.IntVar(p, name, def, envUsage(name, usage))
}

func boolFlag(fs *flag.FlagSet, p *bool, name string, def bool, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		} else {
			fmt.Fprintf(os.Stderr, "wxacode: ignoring %s=%q: not true or false\n", envName(name), v)
		}
	}
	fs.BoolVar(p, name, def, envUsage(name, usage))
}

func durFlag(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		} else {
			fmt.Fprintf(os.Stderr, "wxacode: ignoring %s=%q: not a duration like 30s\n", envName(name), v)
		}
	}
	fs.DurationVar(p, name, def, envUsage(name, usage))
}

// hideDefault keeps a secret that came from the environment out of the
// usage text (printed on --help and on any flag error).
func hideDefault(fs *flag.FlagSet, name string, redact func(string) string) {
	if f := fs.Lookup(name); f != nil && f.DefValue != "" {
		f.DefValue = redact(f.DefValue)
	}
}

// common are the settings most commands share.
type common struct {
	redisURL   string
	redisCA    string
	redisCert  string
	redisKey   string
	storageURL string
	s3Path     bool
	baseURL    string
	appID      string
	secret     string
	secretFile string
	rate       int
	forceRate  bool
	appsFile   string
	keyTmpl    string
	png        bool
	logLevel   string
	logFormat  string
	// scene configures issued short scenes (flags only where registered;
	// zero: the scenes package defaults).
	scene sceneOpts
}

const defaultStorageURL = "file://./wxacode-codes"

func (c *common) redisFlags(fs *flag.FlagSet) {
	strFlag(fs, &c.redisURL, "redis-url", "redis://127.0.0.1:6379/0",
		"Redis: redis://[user:pass@]host:port/db, rediss:// for TLS, ?master_name=NAME&addr=... for Sentinel, redis-cluster://host:port?addr=host2:port for Cluster")
	hideDefault(fs, "redis-url", redactURL)
	strFlag(fs, &c.redisCA, "redis-ca-file", "", "PEM file of the CA that signed the Redis server's certificate (rediss:// only)")
	strFlag(fs, &c.redisCert, "redis-cert-file", "", "PEM client certificate for Redis TLS client auth (with --redis-key-file)")
	strFlag(fs, &c.redisKey, "redis-key-file", "", "PEM private key of --redis-cert-file (must not be readable by others)")
	strFlag(fs, &c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	strFlag(fs, &c.logFormat, "log-format", "auto", "log format: auto (text on a terminal, else JSON), text, json")
}

func (c *common) appFlags(fs *flag.FlagSet) {
	strFlag(fs, &c.appID, "appid", "", "the mini-program's appid (one-app setup)")
	strFlag(fs, &c.secret, "secret", "", "the app secret (prefer --secret-file); never logged")
	hideDefault(fs, "secret", func(string) string { return "(set)" })
	strFlag(fs, &c.secretFile, "secret-file", "", "file holding the app secret (must not be readable by others)")
	intFlag(fs, &c.rate, "rate-per-minute", 4800, "interface-B calls per minute for the app, fleet-wide (WeChat allows 5000)")
	boolFlag(fs, &c.forceRate, "force-rate", false, "allow --rate-per-minute above 5000")
	strFlag(fs, &c.appsFile, "apps-file", "", "YAML file listing many apps (appid, secret_file or token source, rate_per_minute, weight)")
}

func (c *common) storageFlags(fs *flag.FlagSet) {
	strFlag(fs, &c.storageURL, "storage-url", defaultStorageURL, "where codes go: s3://bucket/prefix or file:///dir (S3 credentials and endpoint from the standard AWS_* environment)")
	boolFlag(fs, &c.s3Path, "s3-path-style", false, "path-style S3 addressing (MinIO and most self-hosted servers)")
	strFlag(fs, &c.keyTmpl, "key-template", "", "object key template (default {appid}/{page}/{scene}{params}.{ext}, see README)")
	boolFlag(fs, &c.png, "png", false, "store every code as PNG (WeChat returns JPEG unless transparent)")
}

func (c *common) wechatFlags(fs *flag.FlagSet) {
	strFlag(fs, &c.baseURL, "wechat-base-url", "https://api.weixin.qq.com", "WeChat API root (point it at a wxacode fake-wechat server to try things)")
}
