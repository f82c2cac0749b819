package jobs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReaders feeds any bytes to the three readers: they never panic, every
// row or rejection carries a line number that does not go backwards, and a
// lines-format scene never holds a line break.
func FuzzReaders(f *testing.F) {
	for _, s := range []string{
		"a\nb\n", "\xef\xbb\xbfa\r\nb", "scene,page\n\"a,b\",p\n", "scene\n\"unterminated\n",
		`{"scene":"a"}` + "\n" + `{"scene":1}`, "\x00\x00\n\xff\xfe", strings.Repeat("x", MaxLineBytes+5),
		"scene,width\na,\"1\n2\"\n", "{}\n{\"scene\":\"a\",\"x\":1}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{FormatLines, FormatCSV, FormatJSONL} {
			r, err := NewReader(bytes.NewReader(data), format, Job{App: "wx1"})
			if err != nil {
				t.Fatal(err)
			}
			var last int64
			for i := 0; i < len(data)+2; i++ {
				row, err := r.Next()
				if err == io.EOF || isFatal(err) {
					break
				}
				line := row.Line
				var re *RowError
				if errors.As(err, &re) {
					line = re.Line
				} else if err != nil {
					t.Fatalf("%s: unexpected error %v", format, err)
				}
				if line < last || line < 1 {
					t.Fatalf("%s: line %d after %d", format, line, last)
				}
				last = line
				if format == FormatLines && strings.ContainsAny(row.Job.Scene, "\n") {
					t.Fatalf("scene with a line break: %q", row.Job.Scene)
				}
			}
		}
	})
}
