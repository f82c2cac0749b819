package syncbuf

import (
	"fmt"
	"sync"
	"testing"
)

// Concurrent writers lose nothing (run with -race).
func TestConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "line %d\n", i)
			}
		})
	}
	wg.Wait()
	if n := b.Count("line "); n != 800 {
		t.Fatalf("got %d lines, want 800", n)
	}
	if n := b.Count("line 3\n"); n != 100 {
		t.Fatalf("got %d lines of writer 3, want 100", n)
	}
}
