package bench

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPickScenarios: names pick scenarios in the order given, all picks
// every one, and an unknown name is refused before anything starts.
func TestPickScenarios(t *testing.T) {
	all := chaosScenarios()
	got, err := pickScenarios(all, "faults, kill9")
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "faults", got[0].name)
	require.Equal(t, "kill9", got[1].name)
	got, err = pickScenarios(all, "all")
	require.NoError(t, err)
	require.Len(t, got, len(all))
	_, err = pickScenarios(all, "kill9,nope")
	require.ErrorContains(t, err, `no scenario "nope"`)
}
