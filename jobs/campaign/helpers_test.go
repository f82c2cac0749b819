package campaign

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/jobs"
)

// valid is a definition that passes Validate; tests change one thing.
func valid() Definition {
	return Definition{
		Name:   "nightly",
		App:    "wx0123456789abcdef",
		Source: Source{Generator: &Generator{Pattern: "c{n}", From: 1, To: 10}},
	}
}

// got is one item a RowSource yielded.
type got struct {
	Index  int64
	Scene  string
	Line   int64
	Reject string // the *jobs.RowError, if rejected
}

// drain reads src to io.EOF and closes it; any other error fails the test.
func drain(t *testing.T, src RowSource) []got {
	t.Helper()
	defer func() { require.NoError(t, src.Close()) }()
	var out []got
	for {
		i, row, err := src.Next()
		if err == io.EOF {
			return out
		}
		var re *jobs.RowError
		if err != nil && !errors.As(err, &re) {
			require.NoError(t, err)
		}
		g := got{Index: i, Scene: row.Job.Scene, Line: row.Line}
		if re != nil {
			g.Reject = re.Error()
		}
		out = append(out, g)
	}
}

// requireField asserts that err holds a *FieldError on field whose message
// names the campaign and the field.
func requireField(t *testing.T, err error, campaign, field string) {
	t.Helper()
	require.Error(t, err)
	for _, fe := range FieldErrors(err) {
		if fe.Field == field && fe.Campaign == campaign {
			require.Contains(t, fe.Error(), field)
			require.Contains(t, err.Error(), fe.Error())
			return
		}
	}
	t.Fatalf("no error on campaign %q field %q in: %v", campaign, field, err)
}
