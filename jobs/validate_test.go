package jobs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/code/codetest"
)

// TestValidateSharedCases: enqueue's Validate refuses exactly the options
// of the vocabulary's shared table (campaign validation and the worker
// run it too), naming the field.
func TestValidateSharedCases(t *testing.T) {
	for _, tc := range codetest.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			p, err := tc.Params("s1")
			if err == nil {
				err = Validate(Job{App: "wx1", Params: p})
			} else {
				err = rowError(err)
			}
			if tc.Field == "" {
				require.NoError(t, err)
				return
			}
			var re *RowError
			require.ErrorAs(t, err, &re)
			require.Equal(t, tc.Field, re.Field, "%v", err)
		})
	}
}
