package campaign

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkGeneratorNext: rows per second of a generator source.
func BenchmarkGeneratorNext(b *testing.B) {
	d := generated("c{n:08}", 1, 1<<62)
	src, err := d.Open(context.Background(), nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := src.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchFile writes n rows in the format of name and returns its definition.
func benchFile(b *testing.B, name string, n int) Definition {
	b.Helper()
	path := filepath.Join(b.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if filepath.Ext(name) == ".csv" {
		fmt.Fprintln(f, "scene,page,width")
	}
	for i := range n {
		switch filepath.Ext(name) {
		case ".csv":
			fmt.Fprintf(f, "c%08d,pages/p%d,430\n", i, i%7)
		case ".jsonl":
			fmt.Fprintf(f, "{\"scene\":\"c%08d\",\"width\":430}\n", i)
		default:
			fmt.Fprintf(f, "c%08d\n", i)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	d := valid()
	d.Source = Source{File: path}
	return d
}

// BenchmarkFileRows: rows per second read from a 1,000,000-row file, and
// the cost of resuming at its last row (re-read and skip).
func BenchmarkFileRows(b *testing.B) {
	const rows = 1_000_000
	for _, name := range []string{"scenes.txt", "rows.csv", "rows.jsonl"} {
		d := benchFile(b, name, rows)
		b.Run(name+"/read", func(b *testing.B) {
			for b.Loop() {
				readAll(b, d, 0, rows)
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(name+"/resume-at-end", func(b *testing.B) {
			for b.Loop() {
				readAll(b, d, rows-1, 1)
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "skipped-rows/s")
		})
	}
}

func readAll(b *testing.B, d Definition, from int64, want int) {
	src, err := d.Open(context.Background(), nil, from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		_, _, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n != want {
		b.Fatalf("read %d rows, want %d", n, want)
	}
}
