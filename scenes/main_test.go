package scenes

import (
	"context"
	"io"
	"log"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// go-redis logs every refused dial; the Redis-down tests cause some.
	redis.SetLogger(quietRedisLogger{log.New(io.Discard, "", 0)})
	goleak.VerifyTestMain(m)
}

type quietRedisLogger struct{ *log.Logger }

func (q quietRedisLogger) Printf(_ context.Context, format string, v ...any) {
	q.Logger.Printf(format, v...)
}
