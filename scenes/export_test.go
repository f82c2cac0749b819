package scenes

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func exportLines(t *testing.T, s *Store) []string {
	t.Helper()
	var buf bytes.Buffer
	n, err := s.Export(context.Background(), &buf)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if buf.Len() == 0 {
		lines = nil
	}
	require.Len(t, lines, n)
	slices.Sort(lines)
	return lines
}

// Export then Import into a fresh Redis reproduces every mapping, including
// scenes that moved to a later candidate; importing again changes nothing.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const n = 10_000
	rows := make([][]byte, n)
	for i := range rows {
		rows[i] = bulkRowA(i)
	}
	a, _ := setup(t, Config{Prefix: "e", BatchSize: 700})
	scenes, err := a.IssueMany(ctx, rows)
	require.NoError(t, err)
	tiny, err := New(a.rdb, Config{Prefix: "t", Length: 1, KeyPrefix: "tiny:"})
	require.NoError(t, err)
	tinyScenes, err := tiny.IssueMany(ctx, smallRows(40))
	require.NoError(t, err)

	for _, st := range []struct {
		src    *Store
		cfg    Config
		scenes []string
		rows   [][]byte
	}{{a, Config{Prefix: "e", BatchSize: 700}, scenes, rows}, {tiny, Config{Prefix: "t", Length: 1, KeyPrefix: "tiny:"}, tinyScenes, smallRows(40)}} {
		var dump bytes.Buffer
		written, err := st.src.Export(ctx, &dump)
		require.NoError(t, err)
		require.Equal(t, len(st.rows), written)

		b, _ := setup(t, st.cfg)
		res, err := b.Import(ctx, bytes.NewReader(dump.Bytes()))
		require.NoError(t, err)
		require.Equal(t, ImportResult{Lines: written, Added: written}, res)
		require.Equal(t, exportLines(t, st.src), exportLines(t, b))
		for i := 0; i < len(st.rows); i += 97 {
			got, err := b.Lookup(ctx, st.scenes[i])
			require.NoError(t, err)
			require.NoError(t, sameCanonical(st.rows[i], got))
		}
		again, err := b.IssueMany(ctx, st.rows)
		require.NoError(t, err)
		require.Equal(t, st.scenes, again, "imported params must keep their scenes")

		res, err = b.Import(ctx, bytes.NewReader(dump.Bytes()))
		require.NoError(t, err)
		require.Equal(t, ImportResult{Lines: written, Unchanged: written}, res, "a second import must change nothing")
	}
}

func TestImportFormatting(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t, Config{})
	input := "\xEF\xBB\xBF{\"scene\":\"Abc\",\"params\":{\"b\":2,\"a\":1}}\r\n" +
		"\r\n" +
		"   \n" +
		"{ \"params\" : { \"t\" : \"\\u4e2d\" } , \"scene\" : \"Z9\" }\n" +
		`{"scene":"last","params":{"x":[1,{"d":1,"c":2}]}}` // no final newline
	res, err := s.Import(ctx, strings.NewReader(input))
	require.NoError(t, err)
	require.Equal(t, ImportResult{Lines: 5, Added: 3}, res)
	for scene, want := range map[string]string{"Abc": `{"a":1,"b":2}`, "Z9": `{"t":"中"}`, "last": `{"x":[1,{"c":2,"d":1}]}`} {
		got, err := s.Lookup(ctx, scene)
		require.NoError(t, err)
		require.Equal(t, want, string(got))
	}
	sc, err := s.Issue(ctx, []byte(`{"a":1,"b":2}`))
	require.NoError(t, err)
	require.Equal(t, "Abc", sc, "Issue returns the imported scene, whatever its shape")
}

func TestImportConflicts(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t, Config{})
	taken, err := s.Issue(ctx, []byte(`{"id":1}`))
	require.NoError(t, err)
	input := `{"scene":"` + taken + `","params":{"id":2}}` + "\n" + // scene holds other params
		`{"scene":"Other1","params":{"id":1}}` + "\n" + // params already have a scene
		`{"scene":"` + taken + `","params":{"id":1}}` + "\n" + // identical: unchanged
		`{"scene":"Fresh","params":{"id":3}}` + "\n"
	res, err := s.Import(ctx, strings.NewReader(input))
	require.NoError(t, err)
	require.Equal(t, ImportResult{
		Lines: 4, Added: 1, Unchanged: 1, Conflicted: 2,
		Conflicts: []Conflict{
			{Line: 1, Scene: taken, Kind: ConflictSceneTaken},
			{Line: 2, Scene: "Other1", Kind: ConflictParamsMapped, Existing: taken},
		},
	}, res)
	got, err := s.Lookup(ctx, taken)
	require.NoError(t, err)
	require.Equal(t, `{"id":1}`, string(got), "a conflict must never overwrite")
	_, err = s.Lookup(ctx, "Other1")
	require.ErrorIs(t, err, ErrNotFound)
	sc, err := s.Issue(ctx, []byte(`{"id":2}`))
	require.NoError(t, err)
	require.NotEqual(t, taken, sc)
}

// A bad line stops the import with its line number: the lines before it are
// in, nothing of it or after it is.
func TestImportBadLine(t *testing.T) {
	good := `{"scene":"Good1","params":{"a":1}}`
	tests := []struct{ name, line, reason string }{
		{"not JSON", `scene=x`, "want {\"scene\""},
		{"unknown field", `{"scene":"x1","params":{"a":2},"ttl":5}`, `unknown field "ttl"`},
		{"missing params", `{"scene":"x1"}`, `both "scene" and "params" are required`},
		{"bad scene", `{"scene":"a-b","params":{"a":2}}`, `invalid scene "a-b"`},
		{"params not an object", `{"scene":"x1","params":[2]}`, "top level is an array"},
		{"duplicate key", `{"scene":"x1","params":{"a":2,"a":3}}`, `duplicate key "a"`},
		{"trailing data", `{"scene":"x1","params":{"a":2}} x`, "trailing data"},
		{"params too big", `{"scene":"x1","params":{"a":"` + strings.Repeat("y", 3000) + `"}}`, "above Config.MaxParamsBytes 1000"},
		{"line too long", `{"scene":"x1","params":{"a":"` + strings.Repeat("y", 7000) + `"}}`, "line longer than 6096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, rdb := setup(t, Config{MaxParamsBytes: 1000})
			input := good + "\r\n\r\n" + tt.line + "\n" + `{"scene":"After","params":{"z":1}}` + "\n"
			res, err := s.Import(ctx, strings.NewReader(input))
			var le *LineError
			require.True(t, errors.As(err, &le), "want *LineError, got %v", err)
			require.Equal(t, 3, le.Line)
			require.Contains(t, err.Error(), "import line 3: ")
			require.Contains(t, err.Error(), tt.reason)
			require.Equal(t, 1, res.Added)
			require.EqualValues(t, 2, rdb.DBSize(ctx).Val(), "only the good line's two keys")
			_, err = s.Lookup(ctx, "After")
			require.ErrorIs(t, err, ErrNotFound)
		})
	}
}

func TestExportEmptyAndGlobPrefix(t *testing.T) {
	ctx := context.Background()
	s, rdb := setup(t, Config{KeyPrefix: "a*b:"})
	other, err := New(rdb, Config{KeyPrefix: "aXb:"})
	require.NoError(t, err)
	require.Empty(t, exportLines(t, s))
	_, err = other.Issue(ctx, []byte(`{"k":1}`))
	require.NoError(t, err)
	require.Empty(t, exportLines(t, s), "the glob in KeyPrefix must not match another store's keys")
	sc, err := s.Issue(ctx, []byte(`{"k":2}`))
	require.NoError(t, err)
	require.Equal(t, []string{`{"scene":"` + sc + `","params":{"k":2}}`}, exportLines(t, s))
}
