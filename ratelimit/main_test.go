package ratelimit

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/wxacode/wxacode/internal/redistest"
)

func TestMain(m *testing.M) {
	redistest.QuietClientLogs() // the Redis-down tests cause many refused dials
	goleak.VerifyTestMain(m)
}
