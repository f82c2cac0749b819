package apphold

import (
	"context"
	"testing"
	"time"

	"github.com/wxacode/wxacode/internal/redistest"
)

func newPair(t *testing.T) (*Registry, *Registry) {
	t.Helper()
	srv := redistest.Start(t)
	a := New(srv.Client(t), Config{Refresh: 50 * time.Millisecond})
	b := New(srv.Client(t), Config{Refresh: 50 * time.Millisecond})
	return a, b
}

// TestHoldIsFleetWide: a hold one process records is seen by another
// within Refresh, is recorded (and alerted) once, and a release lifts it
// for both.
func TestHoldIsFleetWide(t *testing.T) {
	ctx := context.Background()
	a, b := newPair(t)
	if _, held := b.Held(ctx, "wx1"); held {
		t.Fatal("held before any hold")
	}
	h, first, err := a.Hold(ctx, Hold{App: "wx1", Cause: CauseAccount, Code: 48001, Reason: "api unauthorized"}, 0)
	if err != nil || !first {
		t.Fatalf("Hold = %v, first %v, %v", h, first, err)
	}
	if _, first, _ := b.Hold(ctx, Hold{App: "wx1", Cause: CauseAccount, Code: 48004}, 0); first {
		t.Fatal("a second process recorded the hold again (a second alert)")
	}
	if _, held := a.Held(ctx, "wx1"); !held {
		t.Fatal("the recording process does not see its own hold at once")
	}
	time.Sleep(60 * time.Millisecond)
	got, held := b.Held(ctx, "wx1")
	if !held || got.Code != 48001 || got.Cause != CauseAccount || !got.Until.IsZero() {
		t.Fatalf("other process: held %v, %+v; want the 48001 account hold until released", held, got)
	}
	list, err := a.List(ctx)
	if err != nil || len(list) != 1 || list[0].App != "wx1" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if _, ok, err := a.Release(ctx, "wx1"); !ok || err != nil {
		t.Fatalf("Release = %v, %v", ok, err)
	}
	if _, ok, _ := a.Release(ctx, "wx1"); ok {
		t.Fatal("releasing an app that is not held reported a release")
	}
	time.Sleep(60 * time.Millisecond)
	if _, held := b.Held(ctx, "wx1"); held {
		t.Fatal("still held by the other process after the release")
	}
}

// TestHoldEnds: a hold with a duration ends by itself, and a new one can be
// recorded (and alerted) after it.
func TestHoldEnds(t *testing.T) {
	ctx := context.Background()
	a, _ := newPair(t)
	if _, first, err := a.Hold(ctx, Hold{App: "wx2", Cause: CauseConfig, Code: 40013}, 100*time.Millisecond); !first || err != nil {
		t.Fatalf("first %v, %v", first, err)
	}
	if _, held := a.Held(ctx, "wx2"); !held {
		t.Fatal("not held")
	}
	time.Sleep(150 * time.Millisecond)
	if _, held := a.Held(ctx, "wx2"); held {
		t.Fatal("held past its end")
	}
	if list, _ := a.List(ctx); len(list) != 0 {
		t.Fatalf("List shows an ended hold: %+v", list)
	}
	if _, first, _ := a.Hold(ctx, Hold{App: "wx2", Cause: CauseConfig}, time.Minute); !first {
		t.Fatal("a hold after an ended one was not recorded")
	}
}

// TestHeldReadsAtMostEveryRefresh: many Held calls between refreshes send
// no command to Redis.
func TestHeldReadsAtMostEveryRefresh(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	r := New(rdb, Config{Refresh: time.Hour})
	r.Held(ctx, "wx0")
	before := commands(t, rdb)
	for i := range 1000 {
		r.Held(ctx, "wx"+string(rune('a'+i%26)))
	}
	if n := commands(t, rdb) - before; n != 1 { // the INFO itself
		t.Fatalf("1000 Held calls sent %d commands besides INFO", n-1)
	}
}
