package runs

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
)

// A run (by hand or fired by a scheduler) never reads a local file outside
// the store unless its directory is allowed.
func TestStartRefusesLocalFileOutsideAllowedDirs(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "private", "lines.txt")
	require.NoError(t, os.MkdirAll(filepath.Dir(secret), 0o700))
	require.NoError(t, os.WriteFile(secret, []byte("root-only-1\nroot-only-2\n"), 0o600))
	f := &Feeder{Runs: NewStore(rdb, ""), Client: asynq.NewClientFromRedisClient(rdb), Enqueuer: jobs.NewEnqueuer(nil, jobs.EnqueueConfig{}), Log: slog.Default()}
	def := campaign.Definition{Name: "leak", App: "wx1", Source: campaign.Source{Object: "file://" + secret}}

	_, err := f.Start(ctx, def, "", time.Time{})
	require.ErrorContains(t, err, "WXACODE_SOURCE_DIRS")
	list, err := f.Runs.List(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, list, "no run was created")

	f.SourceDirs = []string{filepath.Dir(secret)}
	r, err := f.Start(ctx, def, "", time.Time{})
	require.NoError(t, err, "an allowed directory is read")
	require.EqualValues(t, 2, r.Total)
}
