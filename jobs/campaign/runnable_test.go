package campaign

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/storage"
)

func TestRunnable(t *testing.T) {
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	store, err := storage.Open(context.Background(), filepath.Join(dir, "codes"), storage.Options{})
	require.NoError(t, err)
	allowed := filepath.Join(dir, "in")
	require.NoError(t, os.MkdirAll(allowed, 0o755))
	present := filepath.Join(allowed, "rows.txt")
	require.NoError(t, os.WriteFile(present, []byte("a\n"), 0o600))

	ok := []func(*Definition){
		func(d *Definition) {},
		func(d *Definition) { d.Schedule = "0 2 * * *" },
		func(d *Definition) { d.Schedule = "@every 1m" },
		func(d *Definition) { d.Schedule = "0 0 1 1 *" },                            // once a year
		func(d *Definition) { d.Source = Source{File: present} },                    // exists
		func(d *Definition) { d.Source = Source{Object: "file://" + present} },      // an allowed directory
		func(d *Definition) { d.Source = Source{Object: store.URL("in/rows.txt")} }, // in the store
		func(d *Definition) { d.Source = Source{Object: "s3://bucket/rows.txt"} },   // the store's business
		func(d *Definition) { d.Source.Generator = &Generator{Pattern: "{n}", To: MaxRunRows - 1} },
	}
	for i, f := range ok {
		d := valid()
		f(&d)
		require.Empty(t, d.Runnable(now, store, []string{allowed}), "case %d", i)
	}
	bad := []struct {
		name   string
		edit   func(*Definition)
		field  string
		reason string
	}{
		{"@every 0s", func(d *Definition) { d.Schedule = "@every 0s" }, "schedule", "at most once a minute"},
		{"@every 1ms", func(d *Definition) { d.Schedule = "@every 1ms" }, "schedule", "at most once a minute"},
		{"@every 59s", func(d *Definition) { d.Schedule = "@every 59s" }, "schedule", "at most once a minute"},
		{"@every 400 days", func(d *Definition) { d.Schedule = "@every 9600h" }, "schedule", "less often than once a year"},
		{"30 February", func(d *Definition) { d.Schedule = "0 0 30 2 *" }, "schedule", "never fires"},
		{"29 February", func(d *Definition) { d.Schedule = "0 0 29 2 *" }, "schedule", "less often than once a year"},
		{"missing file", func(d *Definition) { d.Source = Source{File: filepath.Join(dir, "nope.csv")} }, "source.file", "cannot be opened"},
		{"10^12 rows", func(d *Definition) { d.Source.Generator = &Generator{Pattern: "{n}", From: 1, To: 1_000_000_000_000} }, "source.generator.to", "at most 1000000000"},
		{"file outside", func(d *Definition) { d.Source = Source{Object: "file:///etc/shadow"} }, "source.object", "WXACODE_SOURCE_DIRS"},
		{"dot-dot", func(d *Definition) { d.Source = Source{Object: "file://" + allowed + "/../secret"} }, "source.object", "outside the store"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			d := valid()
			c.edit(&d)
			errs := d.Runnable(now, store, []string{allowed})
			require.Len(t, errs, 1, "%v", errs)
			requireField(t, errors.Join(errs...), "nightly", c.field)
			require.Contains(t, errs[0].Error(), c.reason)
		})
	}
	// No directory allowed, no store: every file:// object is refused.
	d := valid()
	d.Source = Source{Object: "file://" + present}
	require.Error(t, d.CheckLocalObject(nil, nil))
}
