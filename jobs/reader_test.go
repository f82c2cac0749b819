package jobs

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code"
)

// readAll drains r, returning good rows and row errors.
func readAll(t *testing.T, r Reader) ([]Row, []*RowError) {
	t.Helper()
	var rows []Row
	var bad []*RowError
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, bad
		}
		var re *RowError
		if errors.As(err, &re) && !isFatal(err) {
			bad = append(bad, re)
			continue
		}
		require.NoError(t, err)
		rows = append(rows, row)
	}
}

func TestLinesReader(t *testing.T) {
	in := "\xef\xbb\xbfa1\r\nb2\n\n   \nc3" // BOM, CRLF, blank lines, no final newline
	r, err := NewReader(strings.NewReader(in), FormatLines, Job{App: "wx1", Params: code.Params{Page: "p/i"}})
	require.NoError(t, err)
	rows, bad := readAll(t, r)
	require.Empty(t, bad)
	require.Len(t, rows, 3)
	require.Equal(t, []string{"a1", "b2", "c3"}, []string{rows[0].Job.Scene, rows[1].Job.Scene, rows[2].Job.Scene})
	require.Equal(t, []int64{1, 2, 5}, []int64{rows[0].Line, rows[1].Line, rows[2].Line})
	require.Equal(t, "p/i", rows[2].Job.Page)
}

func TestLinesReaderLongLine(t *testing.T) {
	in := "ok1\n" + strings.Repeat("x", 10<<20) + "\nok2\n"
	r, _ := NewReader(strings.NewReader(in), FormatLines, Job{})
	rows, bad := readAll(t, r)
	require.Len(t, rows, 2)
	require.Equal(t, "ok2", rows[1].Job.Scene)
	require.Equal(t, int64(3), rows[1].Line)
	require.Len(t, bad, 1)
	require.Equal(t, int64(2), bad[0].Line)
}

func TestCSVReader(t *testing.T) {
	in := "scene,page,width,check_path,line_color,is_hyaline\n" +
		"s1,pages/a/index,300,false,\"1,2,3\",true\n" +
		"s2,,,,,\n" +
		"s3,pages/b,wide,,,\n" +
		"\"s4,x\",pages/c,,,#0a0b0c,\n"
	r, _ := NewReader(strings.NewReader(in), FormatCSV, Job{App: "wx1", Params: code.Params{Page: "pages/default", Rendering: code.Rendering{Width: 430}}})
	rows, bad := readAll(t, r)
	require.Len(t, rows, 3)
	cp := false
	require.Equal(t, Job{App: "wx1", Params: code.Params{Scene: "s1", Page: "pages/a/index", CheckPath: &cp, Rendering: code.Rendering{Width: 300, LineColor: &code.Color{R: 1, G: 2, B: 3}, IsHyaline: true}}}, rows[0].Job)
	require.Equal(t, "pages/default", rows[1].Job.Page, "empty cells keep the default")
	require.Equal(t, 430, rows[1].Job.Width)
	require.Equal(t, "s4,x", rows[2].Job.Scene)
	require.Equal(t, &code.Color{R: 10, G: 11, B: 12}, rows[2].Job.LineColor)
	require.Len(t, bad, 1)
	require.Equal(t, int64(4), bad[0].Line)
	require.Equal(t, "width", bad[0].Field)
}

func TestCSVHeaderErrors(t *testing.T) {
	for name, in := range map[string]string{
		"unknown column": "scene,colour\na,b\n",
		"no scene":       "page\na\n",
		"empty":          "",
		"twice":          "scene,scene\na,b\n",
	} {
		t.Run(name, func(t *testing.T) {
			r, _ := NewReader(strings.NewReader(in), FormatCSV, Job{})
			_, err := r.Next()
			require.Error(t, err)
			require.True(t, isFatal(err), "a header problem stops the input: %v", err)
			require.Contains(t, err.Error(), "line 1")
		})
	}
}

func TestJSONLReader(t *testing.T) {
	in := `{"scene":"a","width":300,"check_path":false,"line_color":{"r":1,"g":2,"b":3}}` + "\n" +
		`{"scene":"b","width":"300"}` + "\n" +
		`{"scene":"c","colour":1}` + "\n" +
		`not json` + "\n" +
		`{"scene":"d\u0026e"}` + "\n"
	r, _ := NewReader(strings.NewReader(in), FormatJSONL, Job{App: "wx1"})
	rows, bad := readAll(t, r)
	require.Len(t, rows, 2)
	require.Equal(t, 300, rows[0].Job.Width)
	require.Equal(t, &code.Color{R: 1, G: 2, B: 3}, rows[0].Job.LineColor)
	require.Equal(t, "d&e", rows[1].Job.Scene)
	require.Len(t, bad, 3)
	require.Equal(t, "width", bad[0].Field)
	require.Equal(t, "colour", bad[1].Field)
	require.Equal(t, int64(4), bad[2].Line)
}

func TestTaskIDDeterministic(t *testing.T) {
	a := Job{App: "wx1", Params: code.Params{Scene: "s", Page: "p"}}
	b := a
	b.Force = true
	require.Equal(t, a.TaskID(), b.TaskID(), "force does not change the code")
	c := a
	c.Width = 300
	require.NotEqual(t, a.TaskID(), c.TaskID())
	d := a
	d.Scene, d.Page = "s\x00p", ""
	require.NotEqual(t, a.TaskID(), d.TaskID(), "fields are separated")
}

func TestDecodeRejectsBadPayloads(t *testing.T) {
	good, err := Job{App: "wx1", Params: code.Params{Scene: "s"}}.Encode()
	require.NoError(t, err)
	j, err := Decode(good)
	require.NoError(t, err)
	require.Equal(t, "s", j.Scene)
	for _, p := range []string{`{"v":2,"app":"wx1"}`, `{"v":1}`, `garbage`, `{"v":1,"app":"x","secret":"s"}`} {
		_, err := Decode([]byte(p))
		var pe *PayloadError
		require.ErrorAs(t, err, &pe, p)
	}
}

func TestCSVSyntaxErrorRejectsOneRecord(t *testing.T) {
	r, _ := NewReader(strings.NewReader("scene\na\n\"b\"x\nc\n"), FormatCSV, Job{})
	rows, bad := readAll(t, r)
	require.Len(t, bad, 1)
	require.Equal(t, int64(3), bad[0].Line)
	require.Len(t, rows, 2)
	require.Equal(t, "c", rows[1].Job.Scene)
	require.Equal(t, int64(4), rows[1].Line)
}

func TestJSONLColorForms(t *testing.T) {
	in := `{"scene":"a","line_color":"#010203"}` + "\n" + `{"scene":"b","line_color":"4,5,6"}` + "\n" +
		`{"scene":"c","line_color":{"r":7,"g":8,"b":9}}` + "\n" + `{"scene":"d","line_color":{"r":700,"g":8,"b":9}}` + "\n"
	r, _ := NewReader(strings.NewReader(in), FormatJSONL, Job{})
	rows, bad := readAll(t, r)
	require.Len(t, rows, 3)
	require.Equal(t, &code.Color{R: 1, G: 2, B: 3}, rows[0].Job.LineColor)
	require.Equal(t, &code.Color{R: 4, G: 5, B: 6}, rows[1].Job.LineColor)
	require.Equal(t, &code.Color{R: 7, G: 8, B: 9}, rows[2].Job.LineColor)
	require.Len(t, bad, 1)
	require.Equal(t, "line_color", bad[0].Field)
}
