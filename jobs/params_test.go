package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readAllEnd(t *testing.T, r Reader) (rows []Row, rejects []*RowError, end error) {
	t.Helper()
	for {
		row, err := r.Next()
		var re *RowError
		switch {
		case errors.As(err, &re) && !isFatal(err):
			rejects = append(rejects, re)
		case err != nil:
			return rows, rejects, err
		default:
			rows = append(rows, row)
		}
	}
}

func TestParamsInEveryFormat(t *testing.T) {
	for _, tc := range []struct {
		f     Format
		input string
	}{
		{FormatParams, "{\"shop\":\"上海店\",\"n\":1}\r\n\n[1,2]\nnot json\n"},
		{FormatJSONL, `{"params":{"shop":"上海店","n":1}}` + "\n" + `{"params":[1,2],"page":"p/x"}` + "\n" + `{"params":"x","scene":"s1"}` + "\n"},
		{FormatCSV, "page,params\np/x,\"{\"\"shop\"\":\"\"上海店\"\",\"\"n\"\":1}\"\np/x,\"[1,2]\"\np/x,{broken\n"},
	} {
		t.Run(string(tc.f), func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tc.input), tc.f, Job{App: "wxa"})
			require.NoError(t, err)
			rows, rejects, end := readAllEnd(t, r)
			require.ErrorIs(t, end, io.EOF)
			require.Len(t, rows, 2)
			require.JSONEq(t, `{"shop":"上海店","n":1}`, string(rows[0].Params))
			require.JSONEq(t, `[1,2]`, string(rows[1].Params))
			require.Empty(t, rows[0].Job.Scene)
			require.Len(t, rejects, 1)
			require.Equal(t, "params", rejects[0].Field)
		})
	}
}

// fakeIssuer issues "S"+params; it refuses params "bad" and fails whole
// batches once failAfter calls have been made.
type fakeIssuer struct {
	calls, failAfter int
}

func (f *fakeIssuer) issuer() SceneIssuer {
	return SceneIssuer{
		Check: func(p []byte) error {
			if string(p) == `"bad"` {
				return fmt.Errorf("not an object")
			}
			return nil
		},
		IssueMany: func(_ context.Context, ps [][]byte) ([]string, error) {
			f.calls++
			if f.failAfter > 0 && f.calls > f.failAfter {
				return nil, errors.New("redis down")
			}
			out := make([]string, len(ps))
			for i, p := range ps {
				out[i] = "S" + strings.Trim(string(p), `"`)
			}
			return out, nil
		},
	}
}

func TestWithScenes(t *testing.T) {
	var b strings.Builder
	for i := range 2500 {
		switch {
		case i == 7:
			b.WriteString("\"bad\"\n")
		default:
			fmt.Fprintf(&b, "\"p%d\"\n", i)
		}
	}
	r, err := NewReader(strings.NewReader(b.String()), FormatParams, Job{App: "wxa"})
	require.NoError(t, err)
	fi := &fakeIssuer{}
	rows, rejects, end := readAllEnd(t, WithScenes(context.Background(), r, fi.issuer()))
	require.ErrorIs(t, end, io.EOF)
	require.Len(t, rows, 2499)
	require.Len(t, rejects, 1)
	require.EqualValues(t, 8, rejects[0].Line)
	for _, row := range rows {
		require.Equal(t, fmt.Sprintf("Sp%d", row.Line-1), row.Job.Scene, "line %d", row.Line)
	}
	require.Equal(t, 3, fi.calls, "batches of 1000 rows")

	// An issuing failure ends the reader with that error; no row goes on
	// without its scene.
	r, _ = NewReader(strings.NewReader(b.String()), FormatParams, Job{App: "wxa"})
	fi = &fakeIssuer{failAfter: 1}
	rows, _, end = readAllEnd(t, WithScenes(context.Background(), r, fi.issuer()))
	require.EqualError(t, end, "redis down")
	require.Len(t, rows, 999)
	for _, row := range rows {
		require.NotEmpty(t, row.Job.Scene)
	}
}
