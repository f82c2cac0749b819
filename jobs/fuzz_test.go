package jobs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wxacode/wxacode/code"
)

// FuzzReaders feeds any bytes to the three readers: they never panic, every
// row or rejection carries a line number that does not go backwards, and a
// lines-format scene never holds a line break.
func FuzzReaders(f *testing.F) {
	for _, s := range []string{
		"a\nb\n", "\xef\xbb\xbfa\r\nb", "scene,page\n\"a,b\",p\n", "scene\n\"unterminated\n",
		`{"scene":"a"}` + "\n" + `{"scene":1}`, "\x00\x00\n\xff\xfe", strings.Repeat("x", MaxLineBytes+5),
		"scene,width\na,\"1\n2\"\n", "{}\n{\"scene\":\"a\",\"x\":1}\n",
		"a\x00b\n\x00\n", "scene\r\n\"q\"\"uote\"\r\n", "\xc3\x28\n\xed\xa0\x80\n", `{"params":{"名":"上海"}}` + "\n",
		"scene,params\na,\"{}\"\n,\"{\"\"k\"\":1}\"\n", strings.Repeat("y", 10<<20) + "\nafter\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{FormatLines, FormatCSV, FormatJSONL, FormatParams} {
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

// FuzzDecode: any payload from Redis decodes to a job or a *PayloadError,
// never a panic; a decoded job encodes and decodes to itself.
func FuzzDecode(f *testing.F) {
	good, _ := Job{App: "wx1", Run: "r", Row: 7, Params: code.Params{Scene: "s", Page: "p/i", Rendering: code.Rendering{Width: 430}}}.Encode()
	for _, s := range []string{string(good), "", "{}", `{"v":2}`, `{"v":1,"app":"a","scene":"\u0000"}`, "[1]", "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := Decode(data)
		if err != nil {
			var pe *PayloadError
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		b, err := j.Encode()
		if err != nil {
			t.Fatal(err)
		}
		j2, err := Decode(b)
		if err != nil || j2.TaskID() != j.TaskID() {
			t.Fatalf("round trip: %v %q %q", err, j2.TaskID(), j.TaskID())
		}
	})
}
