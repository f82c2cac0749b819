package system

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
	"golang.org/x/term"
)

// Defaults of the log settings.
const (
	DefaultLogLevel  = "info"
	DefaultLogFormat = "auto"
)

// LogLevels and LogFormats are the values the log settings take.
var (
	LogLevels  = []string{"debug", "info", "warn", "error"}
	LogFormats = []string{"auto", "text", "json"}
)

// Log are the settings of the process's logger.
type Log struct {
	// Level is debug, info, warn or error. Default "": DefaultLogLevel.
	Level string
	// Format is auto (text on a terminal, JSON otherwise), text or json.
	// Default "": DefaultLogFormat.
	Format string
}

// New returns the logger writing to w and makes it the process's only
// log format: slog.Default (which the standard log package then uses too)
// and go-redis's logger go through it, so no line of another format
// appears. An unknown level or format is a *ConfigError.
func (l Log) New(w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(cmpOr(l.Level, DefaultLogLevel))); err != nil {
		return nil, &ConfigError{Setting: "--log-level (WXACODE_LOG_LEVEL)", Err: fmt.Errorf("%q: want one of %s", l.Level, strings.Join(LogLevels, ", "))}
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch cmpOr(l.Format, DefaultLogFormat) {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "auto":
		if IsTerminal(w) {
			h = slog.NewTextHandler(w, opts)
		} else {
			h = slog.NewJSONHandler(w, opts)
		}
	default:
		return nil, &ConfigError{Setting: "--log-format (WXACODE_LOG_FORMAT)", Err: fmt.Errorf("%q: want one of %s", l.Format, strings.Join(LogFormats, ", "))}
	}
	log := slog.New(h)
	slog.SetDefault(log)
	redis.SetLogger(redisLogger{log})
	return log, nil
}

// QuietRedis drops go-redis's own messages, for a command or check that
// reports what Redis did itself (doctor's table, a preflight): its dial
// retries' warnings would only come before the report, saying the same.
// restore sends them to log again.
func QuietRedis(log *slog.Logger) (restore func()) {
	redis.SetLogger(quietLogger{})
	return func() { redis.SetLogger(redisLogger{log}) }
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// redisLogger turns go-redis's own messages (a refused dial, a pool
// problem) into warnings of the process's logger.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "redis: "+strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// IsTerminal reports whether w is a terminal (progress bars, text logs).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ConfigError is a setting whose value cannot be used (a malformed URL, a
// file that cannot be read): the command exits with status 2.
type ConfigError struct {
	// Setting names the flag(s), e.g. "--redis-url".
	Setting string
	Err     error
}

func (e *ConfigError) Error() string { return e.Setting + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }
