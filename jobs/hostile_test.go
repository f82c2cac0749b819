package jobs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// lineCount is the number of lines of in as a person counts them: the
// last line counts without a line break too.
func lineCount(in string) int64 {
	n := int64(strings.Count(in, "\n"))
	if in != "" && !strings.HasSuffix(in, "\n") {
		n++
	}
	return n
}

type wantReject struct {
	line   int64
	field  string
	reason string // a part of the reason
}

// hostileCase is one input with every rejection it must produce and how
// many rows pass.
type hostileCase struct {
	name    string
	format  Format
	in      string
	rejects []wantReject
	good    int64
}

func numbered(format string, from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// hostileCases builds the table (10 MB lines included) when a test needs it.
func hostileCases() []hostileCase {
	tenMB := strings.Repeat("x", 10<<20)
	return []hostileCase{
		// The cases of issue 16.
		{"CSV unclosed quote on line 7 of 1,001", FormatCSV,
			"scene,page\n" + numbered("r%d,pages/a\n", 2, 6) + "\"r7,pages/a\n" + numbered("r%d,pages/a\n", 8, 1001),
			[]wantReject{{7, "scene", "not closed on its line"}}, 999},
		{"CSV invalid UTF-8 pages", FormatCSV, "scene,page\nu1,pages/\xff\nu1,pages/\xfe\n",
			[]wantReject{{2, "page", "not valid UTF-8 (byte 0xff at offset 6)"}, {3, "page", "not valid UTF-8 (byte 0xfe at offset 6)"}}, 0},
		{"JSONL repeated key", FormatJSONL, `{"scene":"a","scene":"b"}` + "\n",
			[]wantReject{{1, "scene", "given twice"}}, 0},
		{"JSONL keys in other letter cases", FormatJSONL, `{"SCENE":"j7","Page":"pages/b"}` + "\n" + `{"scene":"j8","width":300,"Width":900}` + "\n",
			[]wantReject{{1, "SCENE", `case-sensitive: write "scene"`}, {2, "Width", `case-sensitive: write "width"`}}, 0},
		{"CSV keys outside the rules", FormatCSV, "scene,key\n" +
			"k1,_runs/fake-run/manifest-00000.jsonl\nk2,../../etc/passwd\nk3,x/.hidden\nk4,/abs/path.jpg\nk5,a/b.jpg\n",
			[]wantReject{{2, "key", "reserved"}, {3, "key", `a ".." segment`}, {4, "key", "starts with '.'"}, {5, "key", "starts with '/'"}}, 1},
		{"JSONL keys outside the rules", FormatJSONL, `{"scene":"k1","key":"_runs/x"}` + "\n" + `{"scene":"k2","key":"a\u0000b"}` + "\n",
			[]wantReject{{1, "key", "reserved"}, {2, "key", "control character"}}, 0},
		{"CSV 306-byte page and scancode_time", FormatCSV, "scene,page\np1,pages/" + strings.Repeat("a", 300) + "\np2,pages/scancode_time/index\n",
			[]wantReject{{2, "page", "306 bytes, at most 128"}, {3, "page", "scancode_time"}}, 0},
		// Byte order marks, CRLF, NUL, 10 MB lines, in each format.
		{"lines BOM CRLF blank", FormatLines, "\xef\xbb\xbfa1\r\nb2\r\n\r\n  \t\nc3", nil, 3},
		{"lines BOM in the middle", FormatLines, "a1\n\xef\xbb\xbfb2\n", []wantReject{{2, "scene", "not allowed"}}, 1},
		{"lines UTF-16 BOM", FormatLines, "\xff\xfea\x00\n", []wantReject{{1, "scene", "not valid UTF-8"}}, 0},
		{"lines NUL and CR", FormatLines, "a\x00b\nc\rd\n\x00\n", []wantReject{{1, "scene", "not allowed"}, {2, "scene", "not allowed"}, {3, "scene", "not allowed"}}, 0},
		{"lines 10 MB line", FormatLines, "ok1\n" + tenMB + "\nok2\n", []wantReject{{2, "scene", "longer than 64 KiB"}}, 2},
		{"CSV BOM CRLF", FormatCSV, "\xef\xbb\xbfscene,page\r\ns1,pages/a\r\n\r\ns2,\"pages/b\"\r\n", nil, 2},
		{"CSV NUL", FormatCSV, "scene,page\ns1,pages/a\x00\ns\x002,pages/a\n", []wantReject{{2, "page", "U+0000"}, {3, "scene", "not allowed"}}, 0},
		{"CSV 10 MB line", FormatCSV, "scene,page\ns1,\n" + tenMB + ",x\ns2,\n", []wantReject{{3, "", "record line longer than 64 KiB"}}, 2},
		{"CSV 10 MB quoted field", FormatCSV, "scene,page\ns1,\n\"" + tenMB + "\n,x\"\ns2,\n", []wantReject{{3, "", "longer than 64 KiB"}, {4, "page", `'"'`}}, 2},
		{"CSV quoting", FormatCSV, "scene,page\n\"a,b\",pages/a\n\"q\"\"x\",\n\"ab\"c,\nx,\"p\"q\nx,p\"q\n",
			[]wantReject{{3, "scene", "not allowed"}, {4, "scene", "closing"}, {5, "page", "closing"}, {6, "page", "unquoted"}}, 1},
		{"CSV field count", FormatCSV, "scene,page\na\na,b,c\n", []wantReject{{2, "", "wrong number of fields: 1"}, {3, "", "wrong number of fields: 3"}}, 0},
		{"JSONL BOM CRLF", FormatJSONL, "\xef\xbb\xbf{\"scene\":\"j1\"}\r\n\r\n{\"scene\":\"j2\"}\r\n", nil, 2},
		{"JSONL NUL", FormatJSONL, "{\"scene\":\"j1\",\"page\":\"a\x00\"}\n{\"scene\":\"j2\",\"page\":\"a\\u0000\"}\n",
			[]wantReject{{1, "", "not a JSON object"}, {2, "page", "U+0000"}}, 0},
		{"JSONL invalid UTF-8 and surrogates", FormatJSONL, "{\"scene\":\"u1\",\"page\":\"pages/\xff\"}\n{\"scene\":\"u1\",\"page\":\"pages/\\ud800\"}\n{\"sc\xffene\":\"u1\"}\n",
			[]wantReject{{1, "page", "not valid UTF-8"}, {2, "page", "lone UTF-16 surrogate"}, {3, "", "a key is not valid UTF-8"}}, 0},
		{"JSONL 10 MB line", FormatJSONL, `{"scene":"j1"}` + "\n{\"scene\":\"" + tenMB + "\"}\n" + `{"scene":"j2"}`, []wantReject{{2, "", "longer than 64 KiB"}}, 2},
		{"JSONL shapes", FormatJSONL, "[1]\n{\"scene\":\"a\"} {\"scene\":\"b\"}\n{\"scene\":\"a\",\"colour\":1}\n{\"scene\":\"a\",\"width\":\"300\"}\n",
			[]wantReject{{1, "", "not a JSON object"}, {2, "", "more than one JSON value"}, {3, "colour", "unknown key"}, {4, "width", "whole number"}}, 0},
		{"params invalid UTF-8 and 10 MB", FormatParams, "{\"a\":\"\xff\"}\n" + `{"a":1}` + "\n" + tenMB + "\n",
			[]wantReject{{1, "params", "not valid UTF-8"}, {3, "params", "longer than 64 KiB"}}, 1},
	}
}

// TestHostileRows: every case rejects exactly its rows, by line, field and
// reason, and accounts for every line of its input.
func TestHostileRows(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tc.in), tc.format, Job{App: "wx1"})
			require.NoError(t, err)
			if tc.format == FormatParams {
				r = WithScenes(context.Background(), r, countingIssuer())
			}
			var c Counts
			var got []*RowError
			var good int64
			err = Check(context.Background(), r, Validate, &c, func(re *RowError) { got = append(got, re) },
				func(Row) error { good++; return nil })
			require.NoError(t, err)
			sort.SliceStable(got, func(i, j int) bool { return got[i].Line < got[j].Line })
			require.Len(t, got, len(tc.rejects), "%v", got)
			for i, w := range tc.rejects {
				require.Equal(t, w.line, got[i].Line, "%v", got[i])
				require.Equal(t, w.field, got[i].Field, "%v", got[i])
				require.Contains(t, got[i].Reason, w.reason, "%v", got[i])
			}
			require.Equal(t, tc.good, good)
			s := c.Snapshot()
			require.Equal(t, lineCount(tc.in), s.Lines, "every line is read")
			require.Equal(t, s.Lines, s.Header+s.Empty+good+s.Rejected, "every line is accounted for: %+v", s)
			require.Equal(t, s.Read, good+s.Rejected)
		})
	}
}

// countingIssuer issues "s" + a counter for parameters, as scenes.Store would.
func countingIssuer() SceneIssuer {
	n := 0
	return SceneIssuer{Check: func([]byte) error { return nil }, IssueMany: func(_ context.Context, p [][]byte) ([]string, error) {
		out := make([]string, len(p))
		for i := range p {
			n++
			out[i] = fmt.Sprintf("s%d", n)
		}
		return out, nil
	}}
}
