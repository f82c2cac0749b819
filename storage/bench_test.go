package storage_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/storage/storagetest"
)

// benchConcurrency and benchSize are the figures the design asks about:
// 64 concurrent uploads of 50 KB codes.
const (
	benchConcurrency = 64
	benchSize        = 50 * 1024
)

// BenchmarkPut64 reports puts/s with 64 goroutines each putting distinct
// 50 KB objects under production keys (one directory per page), to the
// local backend and to versitygw over https, plain and with IfAbsent
// (HeadObject + If-None-Match, the worker's path). Run with e.g.
//
//	go test ./storage -run '^$' -bench BenchmarkPut64 -benchtime 5000x -count 3
func BenchmarkPut64(b *testing.B) {
	data := make([]byte, benchSize)
	_, _ = rand.Read(data)
	copy(data, []byte{0xFF, 0xD8, 0xFF, 0xE0}) // looks like the JPEG it stands for
	for _, ifAbsent := range []bool{false, true} {
		suffix := map[bool]string{false: "", true: "/ifabsent"}[ifAbsent]
		b.Run("local"+suffix, func(b *testing.B) {
			runPuts(b, openLocal(b), data, ifAbsent)
		})
		b.Run("versitygw-https"+suffix, func(b *testing.B) {
			srv := storagetest.StartVersityGW(b)
			srv.CreateBucket(b, "bench")
			st, err := storage.Open(context.Background(), srv.URL("bench", "codes"), srv.Options())
			if err != nil {
				b.Fatal(err)
			}
			runPuts(b, st, data, ifAbsent)
		})
	}
}

func runPuts(b *testing.B, st storage.Store, data []byte, ifAbsent bool) {
	tmpl := storage.DefaultTemplate()
	run := time.Now().UnixNano()
	opts := storage.PutOptions{ContentType: "image/jpeg", IfAbsent: ifAbsent,
		Metadata: storage.Metadata(storage.KeyParams{}, "0", time.Now())}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		errOnce  sync.Once
	)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := time.Now()
	for range benchConcurrency {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				p := storage.KeyParams{AppID: "wx0123456789abcdef", Format: code.JPEG, Params: code.Params{Page: "pages/index/index", Scene: fmt.Sprint(run, "-", i)}}
				if err := st.Put(context.Background(), tmpl.Key(p), data, opts); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "puts/s")
}
