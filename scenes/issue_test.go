package scenes

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
)

func smallRows(n int) [][]byte {
	rows := make([][]byte, n)
	for i := range rows {
		rows[i] = fmt.Appendf(nil, `{"id":%d,"campaign":"spring"}`, i)
	}
	return rows
}

// The scene is Prefix + base62(SHA-256(canonical params)), the same on any
// Redis, whatever the formatting of the params.
func TestIssueIsTheHashOfTheCanonicalParams(t *testing.T) {
	ctx := context.Background()
	a, _ := setup(t, Config{Prefix: "p"})
	b, _ := setup(t, Config{Prefix: "p"})
	sa, err := a.Issue(ctx, []byte(`{"shop":"上海店","id":42,"q":"a=1&b=2"}`))
	require.NoError(t, err)
	sb, err := b.Issue(ctx, []byte(` { "q" : "a=1\u0026b=2", "id":42, "shop":"\u4e0a\u6d77\u5e97" } `))
	require.NoError(t, err)
	require.Equal(t, sa, sb)
	want := candidate("p", 10, sha256.Sum256([]byte(`{"id":42,"q":"a=1&b=2","shop":"上海店"}`)), 0)
	require.Equal(t, want, sa)

	again, err := a.Issue(ctx, []byte(`{"id":42,"shop":"上海店","q":"a=1&b=2"}`))
	require.NoError(t, err)
	require.Equal(t, sa, again)
	got, err := a.Lookup(ctx, sa)
	require.NoError(t, err)
	require.Equal(t, `{"id":42,"q":"a=1&b=2","shop":"上海店"}`, string(got))
}

// With Length 1 there are only 62 scenes, so 40 rows collide; they still get
// distinct scenes, and the same ones on a fresh Redis fed in the same order,
// by Issue or by IssueMany.
func TestForcedCollisionsStayDistinctAndDeterministic(t *testing.T) {
	ctx := context.Background()
	rows := smallRows(40)
	issueEach := func(s *Store) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			sc, err := s.Issue(ctx, r)
			require.NoError(t, err, "row %d", i)
			out[i] = sc
		}
		return out
	}
	a, _ := setup(t, Config{Prefix: "x", Length: 1})
	first := issueEach(a)
	shape := regexp.MustCompile(`^x[0-9A-Za-z]$`)
	seen := map[string]bool{}
	moved := 0
	for i, sc := range first {
		require.Regexp(t, shape, sc)
		require.False(t, seen[sc], "row %d reuses scene %s", i, sc)
		seen[sc] = true
		r, err := a.prepare(rows[i])
		require.NoError(t, err)
		if sc != candidate("x", 1, r.d, 0) {
			moved++
		}
	}
	require.Positive(t, moved, "no collision happened: the test proves nothing")
	require.Equal(t, first, issueEach(a), "re-issuing changed a scene")

	b, _ := setup(t, Config{Prefix: "x", Length: 1})
	require.Equal(t, first, issueEach(b), "a fresh Redis gave other scenes")
	c, _ := setup(t, Config{Prefix: "x", Length: 1, BatchSize: 7})
	many, err := c.IssueMany(ctx, rows)
	require.NoError(t, err)
	require.Equal(t, first, many, "IssueMany disagrees with Issue")
	again, err := c.IssueMany(ctx, rows)
	require.NoError(t, err)
	require.Equal(t, first, again)
}

// Many goroutines issuing the same rows in different orders agree on every
// row, even when candidates collide.
func TestConcurrentIssueAgrees(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rows := smallRows(30)
	results := make([][]string, 8)
	var wg sync.WaitGroup
	for g := range results {
		s, err := New(srv.Client(t), Config{Length: 1})
		require.NoError(t, err)
		results[g] = make([]string, len(rows))
		order := rand.New(rand.NewPCG(uint64(g), 1)).Perm(len(rows))
		wg.Go(func() {
			for _, i := range order {
				sc, err := s.Issue(ctx, rows[i])
				if err != nil {
					results[g][i] = err.Error()
					continue
				}
				results[g][i] = sc
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for i, sc := range results[0] {
		require.NoError(t, ValidateScene(sc), "row %d: %s", i, sc)
		j, dup := seen[sc]
		require.False(t, dup, "rows %d and %d share %s", j, i, sc)
		seen[sc] = i
	}
	for g := 1; g < len(results); g++ {
		require.Equal(t, results[0], results[g], "goroutine %d disagrees", g)
	}
}

func TestExhausted(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t, Config{Length: 1})
	rows := smallRows(400)
	issued := map[string]bool{}
	var exhausted error
	for _, r := range rows {
		sc, err := s.Issue(ctx, r)
		if err != nil {
			exhausted = err
			break
		}
		require.False(t, issued[sc])
		issued[sc] = true
	}
	require.True(t, IsExhausted(exhausted), "want *ExhaustedError, got %v", exhausted)
	require.LessOrEqual(t, len(issued), 62)
	require.Contains(t, exhausted.Error(), "raise Config.Length")

	scenes, err := s.IssueMany(ctx, rows)
	var re *RowError
	require.True(t, errors.As(err, &re), "want *RowError, got %v", err)
	require.True(t, IsExhausted(err))
	require.Equal(t, len(issued), re.Row, "the first row without a scene")
	for i := range re.Row {
		require.True(t, issued[scenes[i]], "row %d", i)
	}
}

func TestIssueRejectsBadParams(t *testing.T) {
	ctx := context.Background()
	s, rdb := setup(t, Config{MaxParamsBytes: 64})
	_, err := s.Issue(ctx, nil)
	var pe *ParamsError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Contains(t, err.Error(), "empty input")

	_, err = s.Issue(ctx, fmt.Appendf(nil, `{"a":%q}`, make([]byte, 70)))
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Contains(t, err.Error(), "MaxParamsBytes")

	rows := smallRows(10)
	rows[3] = []byte(`[1,2]`)
	rows[7] = []byte(`{"a":1,"a":2}`)
	scenes, err := s.IssueMany(ctx, rows)
	require.Nil(t, scenes)
	require.ErrorContains(t, err, "row 3: scenes: invalid params: top level is an array")
	require.ErrorContains(t, err, "row 7: scenes: invalid params: duplicate key \"a\"")
	require.NotContains(t, err.Error(), "row 0")
	require.Zero(t, rdb.DBSize(ctx).Val(), "nothing may be issued when a row is invalid")
}

func TestLookupErrors(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t, Config{})
	_, err := s.Lookup(ctx, "NeverIssued1")
	require.ErrorIs(t, err, ErrNotFound)
	for _, bad := range []string{"", "a-b", "a%3Db", "123456789012345678901234567890123"} {
		_, err := s.Lookup(ctx, bad)
		var se *SceneError
		require.True(t, errors.As(err, &se), "%q: %v", bad, err)
	}
}

// A params key lost on its own (say a partial restore) is repaired: the
// params keep their scene instead of moving to the next candidate.
func TestIssueRepairsLostParamsKey(t *testing.T) {
	ctx := context.Background()
	s, rdb := setup(t, Config{})
	row := []byte(`{"id":7}`)
	sc, err := s.Issue(ctx, row)
	require.NoError(t, err)
	r, err := s.prepare(row)
	require.NoError(t, err)
	require.EqualValues(t, 1, rdb.Del(ctx, s.keys.params(r.d)).Val())
	again, err := s.Issue(ctx, row)
	require.NoError(t, err)
	require.Equal(t, sc, again)
	require.Equal(t, sc, rdb.Get(ctx, s.keys.params(r.d)).Val())
}

// Stores with different KeyPrefix are separate namespaces; a Prefix change
// keeps the scenes already issued.
func TestNamespaces(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	row := []byte(`{"id":1}`)
	issue := func(cfg Config) string {
		s, err := New(srv.Client(t), cfg)
		require.NoError(t, err)
		sc, err := s.Issue(ctx, row)
		require.NoError(t, err)
		return sc
	}
	a := issue(Config{Prefix: "a"})
	require.Equal(t, a, issue(Config{Prefix: "b", Length: 5}), "the first mapping must win within a KeyPrefix")
	other := issue(Config{Prefix: "b", Length: 5, KeyPrefix: "other:"})
	require.Len(t, other, 6)
	require.Equal(t, "b", other[:1])
}

// IssueMany recovers when Redis forgot the script between batches.
func TestIssueManyAfterScriptFlush(t *testing.T) {
	ctx := context.Background()
	s, rdb := setup(t, Config{BatchSize: 5})
	rows := smallRows(12)
	first, err := s.IssueMany(ctx, rows)
	require.NoError(t, err)
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	_, err = s.pipeIssue(ctx, s.mustPrepare(t, rows))
	require.True(t, isNoScript(err), "want NOSCRIPT, got %v", err)
	out := make([]string, len(rows))
	require.NoError(t, s.issueBatch(ctx, s.mustPrepare(t, rows), out, 0))
	require.Equal(t, first, out)
}

func (s *Store) mustPrepare(t *testing.T, rows [][]byte) []row {
	t.Helper()
	p, err := s.prepareAll(rows)
	require.NoError(t, err)
	return p
}
