package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/storage"
)

func generated(pattern string, from, to int64) Definition {
	d := valid()
	d.Source = Source{Generator: &Generator{Pattern: pattern, From: from, To: to}}
	return d
}

func TestGeneratorRows(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		pattern  string
		from, to int64
		want     []string
	}{
		{"c{n}", 1, 3, []string{"c1", "c2", "c3"}},
		{"{n:03}-x", 8, 11, []string{"008-x", "009-x", "010-x", "011-x"}},
		{"p{n:02}", 99, 101, []string{"p99", "p100", "p101"}},
		{"{n}", 0, 0, []string{"0"}},
	}
	for _, tc := range cases {
		d := generated(tc.pattern, tc.from, tc.to)
		src, err := d.Open(ctx, nil, 0)
		require.NoError(t, err)
		rows := drain(t, src)
		var scenes []string
		for i, r := range rows {
			require.Equal(t, int64(i), r.Index)
			require.Equal(t, int64(i+1), r.Line)
			scenes = append(scenes, r.Scene)
		}
		require.Equal(t, tc.want, scenes, tc.pattern)
		n, err := d.Count(ctx, nil)
		require.NoError(t, err)
		require.Equal(t, int64(len(tc.want)), n)
	}
}

func TestGeneratorRowsCarryDefaults(t *testing.T) {
	d := generated("c{n}", 1, 2)
	d.Page, d.Width, d.LineColor = "pages/x", 500, "#010203"
	src, err := d.Open(context.Background(), nil, 1)
	require.NoError(t, err)
	i, row, err := src.Next()
	require.NoError(t, err)
	want := d.Defaults()
	want.Scene = "c2"
	require.Equal(t, int64(1), i)
	require.Equal(t, want, row.Job)
}

func TestGeneratorLargeRangeResumesInConstantTime(t *testing.T) {
	ctx := context.Background()
	const to = math.MaxInt64 - 1 // 19 digits
	d := generated("{n:019}", 0, to)
	n, err := d.Count(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, int64(math.MaxInt64), n)

	src, err := d.Open(ctx, nil, to-1) // would take centuries to skip
	require.NoError(t, err)
	rows := drain(t, src)
	require.Equal(t, []got{
		{Index: to - 1, Scene: "9223372036854775805", Line: to},
		{Index: to, Scene: "9223372036854775806", Line: to + 1},
	}, rows)

	d = generated("c{n:08}", 1, 2_000_000)
	src, err = d.Open(ctx, nil, 1_999_998)
	require.NoError(t, err)
	require.Equal(t, []got{
		{Index: 1_999_998, Scene: "c01999999", Line: 1_999_999},
		{Index: 1_999_999, Scene: "c02000000", Line: 2_000_000},
	}, drain(t, src))

	src, err = d.Open(ctx, nil, 2_000_000) // at the end: nothing left
	require.NoError(t, err)
	require.Empty(t, drain(t, src))
	src, err = d.Open(ctx, nil, 5_000_000)
	require.NoError(t, err)
	require.Empty(t, drain(t, src))
}

// requireTails checks that opening at every from yields exactly the
// rows of a full read from that index on.
func requireTails(t *testing.T, d Definition, store storage.Store) []got {
	t.Helper()
	ctx := context.Background()
	src, err := d.Open(ctx, store, 0)
	require.NoError(t, err)
	all := drain(t, src)
	for from := 0; from <= len(all)+1; from++ {
		src, err := d.Open(ctx, store, int64(from))
		require.NoError(t, err)
		tail := drain(t, src)
		if from >= len(all) {
			require.Empty(t, tail, "from %d", from)
			continue
		}
		require.Equal(t, all[from:], tail, "from %d", from)
	}
	n, err := d.Count(ctx, store)
	require.NoError(t, err)
	require.Equal(t, int64(len(all)), n)
	return all
}

func fileSource(t *testing.T, name, content string) Definition {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	d := valid()
	d.Source = Source{File: path}
	return d
}

func TestLinesFileResume(t *testing.T) {
	long := strings.Repeat("x", jobs.MaxLineBytes+10)
	d := fileSource(t, "scenes.txt", "\xef\xbb\xbfa1\r\n\n  \na2\n"+long+"\na3\n\t\na4")
	all := requireTails(t, d, nil)
	require.Len(t, all, 5)
	require.Equal(t, []string{"a1", "a2", "", "a3", "a4"}, scenesOf(all))
	require.Contains(t, all[2].Reject, "line 5: scene: line longer than 64 KiB")
	require.Equal(t, []int64{1, 4, 5, 6, 8}, linesOf(all))
}

func TestCSVFileResume(t *testing.T) {
	in := "scene,width,line_color\n" +
		"s1,,\n" +
		"s2,wide,\n" + // rejected: width
		"\n" +
		"\"s3\nstill s3\",300,\n" + // rejected twice: a record never spans lines
		"s4,,,x\n" + // rejected: too many fields
		"s5,,\"1,2,3\"\n" +
		"bad\"quote,,\n" + // rejected: CSV syntax
		"s6,,\n"
	d := fileSource(t, "rows.csv", in)
	all := requireTails(t, d, nil)
	require.Equal(t, []string{"s1", "", "", "", "", "s5", "", "s6"}, scenesOf(all))
	require.Contains(t, all[1].Reject, `line 3: width "wide"`)
	require.Contains(t, all[2].Reject, "line 5: scene: a quoted field is not closed on its line")
	require.Contains(t, all[3].Reject, "line 6: scene: a '\"' in an unquoted field")
	require.Contains(t, all[4].Reject, "wrong number of fields")
	require.Contains(t, all[6].Reject, "line 9")
	require.Equal(t, int64(10), all[7].Line)
}

func TestJSONLFileResume(t *testing.T) {
	in := `{"scene":"j1"}` + "\n\n" +
		`{"scene":"j2","width":"big"}` + "\n" + // rejected: type
		`{"scene":"j3","page":"pages/p"}` + "\n" +
		`not json` + "\n" + // rejected
		`{"scene":"j4","colour":1}` + "\n" + // rejected: unknown field
		`{"scene":"j5"}`
	d := fileSource(t, "rows.ndjson", in)
	all := requireTails(t, d, nil)
	require.Equal(t, []string{"j1", "", "j3", "", "", "j5"}, scenesOf(all))
	for _, i := range []int{1, 3, 4} {
		require.NotEmpty(t, all[i].Reject, "row %d", i)
	}
}

func TestFormatOverridesExtension(t *testing.T) {
	d := fileSource(t, "rows.txt", "scene\nz1\n")
	d.Source.Format = "csv"
	require.Equal(t, []string{"z1"}, scenesOf(requireTails(t, d, nil)))
}

func TestCSVBadHeaderEndsTheSource(t *testing.T) {
	d := fileSource(t, "rows.csv", "scene,colour\ns1,red\n")
	src, err := d.Open(context.Background(), nil, 0)
	require.NoError(t, err)
	defer src.Close()
	for range 2 { // sticky
		_, _, err = src.Next()
		var se *SourceError
		require.True(t, errors.As(err, &se), "%v", err)
		var re *jobs.RowError
		require.False(t, errors.As(err, &re), "must not look like a skippable row")
		require.Contains(t, err.Error(), `campaign "nightly": source: input rejected: line 1: header "colour": unknown column`)
	}
	_, err = d.Count(context.Background(), nil)
	require.ErrorContains(t, err, "unknown column")
}

func TestOpenFailures(t *testing.T) {
	ctx := context.Background()
	d := valid()
	d.Source = Source{File: filepath.Join(t.TempDir(), "missing.txt")}
	_, err := d.Open(ctx, nil, 0)
	var se *SourceError
	require.True(t, errors.As(err, &se))
	require.ErrorIs(t, err, os.ErrNotExist)

	_, err = d.Count(ctx, nil)
	require.ErrorIs(t, err, os.ErrNotExist)

	_, err = valid().Open(ctx, nil, -1)
	require.ErrorContains(t, err, "rows start at 0")

	bad := valid()
	bad.Width = 5
	_, err = bad.Open(ctx, nil, 0)
	requireField(t, err, "nightly", "width")
	_, err = bad.Count(ctx, nil)
	requireField(t, err, "nightly", "width")
}

func TestObjectThroughLocalStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := storage.Open(ctx, "file://"+dir, storage.Options{})
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("scene,page\n")
	for i := range 20 {
		fmt.Fprintf(&b, "o%d,pages/p%d\n", i, i%3)
	}
	require.NoError(t, store.Put(ctx, "in/batch 1.csv", []byte(b.String()), storage.PutOptions{}))

	d := valid()
	d.Source = Source{Object: store.URL("in/batch 1.csv")}
	all := requireTails(t, d, store)
	require.Len(t, all, 20)
	require.Equal(t, "o19", all[19].Scene)

	// The same file:// URL without a store is read from the disk.
	require.Equal(t, all, requireTails(t, d, nil))
}

func TestObjectErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := storage.Open(ctx, dir, storage.Options{})
	require.NoError(t, err)

	d := valid()
	d.Source = Source{Object: "s3://codes-in/rows.csv"}
	_, err = d.Open(ctx, nil, 0)
	require.ErrorContains(t, err, "needs a store")
	_, err = d.Open(ctx, store, 0)
	require.ErrorContains(t, err, "outside the store file://")

	d.Source = Source{Object: store.URL("absent.txt")}
	_, err = d.Open(ctx, store, 0)
	require.True(t, storage.IsNotFound(err), "%v", err)
}

func TestKeyInStoreForS3(t *testing.T) {
	store := fakeS3URL("s3://codes/prefix/")
	obj, problem := parseObject("s3://codes/prefix/in/rows.csv")
	require.Empty(t, problem)
	key, ok := keyInStore(obj, store)
	require.True(t, ok)
	require.Equal(t, "in/rows.csv", key)
	for _, other := range []string{"s3://codes/other/rows.csv", "s3://other/prefix/rows.csv"} {
		obj, _ := parseObject(other)
		_, ok := keyInStore(obj, store)
		require.False(t, ok, other)
	}
}

// fakeS3URL is a store that only answers URL, as an S3 store would.
type fakeS3URL string

func (f fakeS3URL) URL(key string) string { return string(f) + key }
func (fakeS3URL) Put(context.Context, string, []byte, storage.PutOptions) error {
	return errors.New("unused")
}
func (fakeS3URL) Stat(context.Context, string) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, errors.New("unused")
}
func (fakeS3URL) Get(context.Context, string) ([]byte, storage.ObjectInfo, error) {
	return nil, storage.ObjectInfo{}, errors.New("unused")
}
func (fakeS3URL) Ping(context.Context) error { return errors.New("unused") }

func TestCountStopsOnCancel(t *testing.T) {
	d := fileSource(t, "s.txt", "a\nb\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := d.Count(ctx, nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestNextAfterEOF(t *testing.T) {
	for _, d := range []Definition{generated("c{n}", 1, 1), fileSource(t, "s.txt", "a\n")} {
		src, err := d.Open(context.Background(), nil, 0)
		require.NoError(t, err)
		_, _, err = src.Next()
		require.NoError(t, err)
		for range 2 {
			_, _, err = src.Next()
			require.Equal(t, io.EOF, err)
		}
		require.NoError(t, src.Close())
	}
}

func scenesOf(rows []got) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Scene
	}
	return out
}

func linesOf(rows []got) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Line
	}
	return out
}
