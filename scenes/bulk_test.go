package scenes

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// 100,000 distinct rows give 100,000 distinct, well-formed scenes; the same
// rows written differently give the same scenes; Lookup answers every one
// and so does the resolver, over real HTTP.
func TestIssueManyHundredThousand(t *testing.T) {
	t.Parallel()
	const n = 100_000
	ctx := context.Background()
	s, _ := setup(t, Config{Prefix: "Q1", Length: 10})

	marshaled := make([][]byte, n) // as json.Marshal: sorted keys, HTML escaped
	rendered := make([][]byte, n)  // reversed keys, whitespace, \u escapes
	for i := range n {
		marshaled[i], rendered[i] = bulkRowA(i), bulkRowB(i)
	}

	scenes, err := s.IssueMany(ctx, marshaled)

	require.NoError(t, err)
	require.Len(t, scenes, n)
	shape := regexp.MustCompile(`^Q1[0-9A-Za-z]{10}$`)
	seen := make(map[string]int, n)
	for i, sc := range scenes {
		require.Regexp(t, shape, sc, "row %d", i)
		j, dup := seen[sc]
		require.False(t, dup, "rows %d and %d share scene %s", j, i, sc)
		seen[sc] = i
	}

	again, err := s.IssueMany(ctx, rendered)
	require.NoError(t, err)
	require.Equal(t, scenes, again, "the same params written differently must get the same scenes")

	for i := 0; i < n; i += 997 {
		sc, err := s.Issue(ctx, rendered[i])
		require.NoError(t, err)
		require.Equal(t, scenes[i], sc, "Issue and IssueMany disagree on row %d", i)
	}

	lookupAll(t, s, scenes)

	resolveSample(t, s, scenes, marshaled)
	resolveAll(t, s, scenes)

}

// lookupAll checks Lookup of every scene from 8 goroutines against the
// hand-built canonical form of its row.
func lookupAll(t *testing.T, s *Store, scenes []string) {
	t.Helper()
	require.NoError(t, inParallel(len(scenes), func(i int) error {
		got, err := s.Lookup(context.Background(), scenes[i])
		if err == nil && string(got) != string(bulkCanonical(i)) {
			err = fmt.Errorf("row %d: lookup %s gave %s", i, scenes[i], got)
		}
		return err
	}))
}

// inParallel runs check for rows 0..n-1 from 8 goroutines and returns the
// first error; a goroutine stops at its first error.
func inParallel(n int, check func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if err := check(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func sameCanonical(row []byte, got []byte) error {
	want, err := Canonical(row)
	if err != nil {
		return err
	}
	if string(want) != string(got) {
		return &ParamsError{Reason: "lookup returned other params: " + string(got), Offset: -1}
	}
	return nil
}

// resolveSample fetches every 331st scene over HTTP and compares the JSON
// with the original row.
func resolveSample(t *testing.T, s *Store, scenes []string, rows [][]byte) {
	t.Helper()
	srv := httptest.NewServer(Handler(s, HandlerConfig{RatePerSecond: 1e6, Burst: 1e6}))
	defer srv.Close()
	for i := 0; i < len(scenes); i += 331 {
		resp, err := http.Get(srv.URL + "/s/" + scenes[i])
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "row %d: %s", i, body)
		var got, want any
		require.NoError(t, json.Unmarshal(body, &got))
		require.NoError(t, json.Unmarshal(rows[i], &want))
		require.Equal(t, want, got, "row %d", i)
	}
}

// resolveAll fetches every scene over HTTP (8 clients on kept-alive
// connections) and compares the body with the canonical form of its row.
func resolveAll(t *testing.T, s *Store, scenes []string) {
	t.Helper()
	srv := httptest.NewServer(Handler(s, HandlerConfig{RatePerSecond: 1e9, Burst: 1e9}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 8
	require.NoError(t, inParallel(len(scenes), func(i int) error {
		resp, err := client.Get(srv.URL + "/s/" + scenes[i])
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && (resp.StatusCode != http.StatusOK || string(body) != string(bulkCanonical(i))) {
			err = fmt.Errorf("row %d: GET /s/%s: %d %s", i, scenes[i], resp.StatusCode, body)
		}
		return err
	}))
}
