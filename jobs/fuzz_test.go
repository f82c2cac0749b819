package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
)

// readerSeeds are inputs every reader fuzz target starts from.
var readerSeeds = []string{
	"a\nb\n", "\xef\xbb\xbfa\r\nb", "scene,page\n\"a,b\",p\n", "scene\n\"unterminated\n",
	`{"scene":"a"}` + "\n" + `{"scene":1}`, "\x00\x00\n\xff\xfe", strings.Repeat("x", MaxLineBytes+5),
	"scene,width\na,\"1\n2\"\n", "{}\n{\"scene\":\"a\",\"x\":1}\n",
	"a\x00b\n\x00\n", "scene\r\n\"q\"\"uote\"\r\n", "\xc3\x28\n\xed\xa0\x80\n", `{"params":{"名":"上海"}}` + "\n",
	"scene,params\na,\"{}\"\n,\"{\"\"k\"\":1}\"\n", strings.Repeat("y", 10<<20) + "\nafter\n",
	"scene,page\nu1,pages/\xff\nu1,pages/\xfe\n", `{"scene":"a","scene":"b"}` + "\n" + `{"SCENE":"j7","Page":"pages/b"}`,
	"scene,page,width,line_color,key\ns,pages/a,300,\"1,2,3\",\ns,pages/a,430,,\ns,pages/a,,0,0,0,\n",
	`{"scene":"s","page":"p/q","width":430}` + "\n" + `{"scene":"s","page":"p/q"}` + "\n" + `{"scene":"s","page":"p/q","env_version":"trial"}`,
	"s\ns\n\ns \n", "scene,key\nk1,_runs/x\nk2,../../etc/passwd\n",
}

// FuzzLinesReader, FuzzCSVReader, FuzzJSONLReader and FuzzParamsReader
// feed any bytes to one reader each (see fuzzReader).
func FuzzLinesReader(f *testing.F)  { fuzzFormat(f, FormatLines) }
func FuzzCSVReader(f *testing.F)    { fuzzFormat(f, FormatCSV) }
func FuzzJSONLReader(f *testing.F)  { fuzzFormat(f, FormatJSONL) }
func FuzzParamsReader(f *testing.F) { fuzzFormat(f, FormatParams) }

func fuzzFormat(f *testing.F, format Format) {
	for _, s := range readerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, format, data) })
}

// fuzzReader reads data in format and checks: no panic; every line is
// accounted for (Lines is the line count of data, and Header + Empty +
// accepted + rejected rows make it up); line numbers are within the
// input and never go backwards; a lines-format scene holds no line break;
// and two accepted rows whose parameters differ never map to the same
// object key, under the default template or {hash}.
func fuzzReader(t *testing.T, format Format, data []byte) {
	r, err := NewReader(bytes.NewReader(data), format, Job{App: "wx1"})
	if err != nil {
		t.Fatal(err)
	}
	r = WithScenes(context.Background(), r, countingIssuer())
	var c Counts
	var last, accepted int64
	keys := map[string]string{}
	hashT, _ := storage.ParseKeyTemplate("{hash}.{ext}")
	seen := func(line int64) {
		if line < last || line < 1 || line > lineCount(string(data)) {
			t.Fatalf("%s: line %d after %d", format, line, last)
		}
		last = line
	}
	err = Check(context.Background(), r, Validate, &c, func(re *RowError) { seen(re.Line) }, func(row Row) error {
		seen(row.Line)
		accepted++
		j := row.Job
		if format == FormatLines && strings.ContainsAny(j.Scene, "\r\n") {
			t.Fatalf("scene with a line break: %q", j.Scene)
		}
		if j.Key != "" {
			return nil // an explicit key is the worker's to check (key holds another code)
		}
		id := fmt.Sprintf("%q %q %q %s", j.App, j.Page, j.Scene, j.Rendering.Canonical())
		for _, key := range []string{storage.DefaultTemplate().Key(j.KeyParams(false)), hashT.Key(j.KeyParams(false))} {
			if prev, ok := keys[key]; ok && prev != id {
				t.Fatalf("%s: rows %s and %s share the key %s", format, prev, id, key)
			}
			keys[key] = id
		}
		return nil
	})
	if isFatal(err) {
		return // a CSV header problem refuses the whole input
	}
	if err != nil {
		t.Fatalf("%s: unexpected error %v", format, err)
	}
	s := c.Snapshot()
	if s.Lines != lineCount(string(data)) || s.Lines != s.Header+s.Empty+accepted+s.Rejected {
		t.Fatalf("%s: %d lines, summary %+v, %d accepted", format, lineCount(string(data)), s, accepted)
	}
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
