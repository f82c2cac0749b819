package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// hugeFieldCSV streams a CSV with one record whose scene field is n bytes
// (never held in memory by the generator) between two good records.
func hugeFieldCSV(n int) io.Reader {
	return io.MultiReader(bytes.NewReader([]byte("scene,page\nok1,pages/a\n")),
		io.LimitReader(repeatByte('x'), int64(n)), bytes.NewReader([]byte(",pages/b\nok2,pages/c\n")))
}

type repeatByte byte

func (r repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// BenchmarkCSVHugeField reads a CSV holding one field of 1 MB, 10 MB and
// 200 MB: the bytes allocated per read (B/op) and the peak heap above the
// heap before reading (peak-heap-MB) stay flat in the field's size,
// because a record longer than MaxLineBytes is rejected without being
// held in memory. Before the line cap (encoding/csv) the 200 MB field
// took 1.88 GB of allocations and an 880 MB peak heap.
func BenchmarkCSVHugeField(b *testing.B) {
	for _, n := range []int{1 << 20, 10 << 20, 200 << 20} {
		b.Run(fmt.Sprintf("field=%dMB", n>>20), func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			for range b.N {
				r, err := NewReader(hugeFieldCSV(n), FormatCSV, Job{App: "wx1"})
				if err != nil {
					b.Fatal(err)
				}
				rows, rejected := 0, 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					var re *RowError
					if errors.As(err, &re) {
						rejected++
					} else if err != nil {
						b.Fatal(err)
					} else {
						rows++
					}
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
				if rows != 2 {
					b.Fatalf("read %d good rows, want 2 (rejected %d)", rows, rejected)
				}
			}
			b.ReportMetric(float64(peak-min(peak, base.HeapInuse))/(1<<20), "peak-heap-MB")
		})
	}
}

// BenchmarkReaders reads 10,000 rows of each format: the cost per row of
// the line cap, the UTF-8 checks and, for JSON Lines, the key checks.
func BenchmarkReaders(b *testing.B) {
	inputs := map[Format]string{}
	var lines, csv, jsonl bytes.Buffer
	csv.WriteString("scene,page,width\n")
	for i := range 10_000 {
		fmt.Fprintf(&lines, "c%08d\n", i)
		fmt.Fprintf(&csv, "c%08d,pages/coupon/index,300\n", i)
		fmt.Fprintf(&jsonl, `{"scene":"c%08d","page":"pages/coupon/index","width":300}`+"\n", i)
	}
	inputs[FormatLines], inputs[FormatCSV], inputs[FormatJSONL] = lines.String(), csv.String(), jsonl.String()
	for _, f := range []Format{FormatLines, FormatCSV, FormatJSONL} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				r, _ := NewReader(bytes.NewReader([]byte(inputs[f])), f, Job{App: "wx1"})
				n := 0
				for {
					_, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 10_000 {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10_000), "ns/row")
		})
	}
}
