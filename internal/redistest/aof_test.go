package redistest

import (
	"context"
	"testing"
)

// TestAOFKeepsDataAcrossRestart: with AOF a key written before a crash
// (Restart kills the server) is there after it.
func TestAOFKeepsDataAcrossRestart(t *testing.T) {
	s := Start(t, AOF()...)
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after restart get=%q err=%v", v, err)
	}
}
