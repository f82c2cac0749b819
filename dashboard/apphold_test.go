package dashboard

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/apphold"
)

// An app held for the fleet shows its hold and cause in /api/apps and on
// the page; a release clears both.
func TestAppHoldShown(t *testing.T) {
	b := setup(t, nil)
	b.seed(t)
	ctx := context.Background()
	reg := apphold.New(b.rdb, apphold.Config{})
	_, _, err := reg.Hold(ctx, apphold.Hold{App: testApp, Cause: apphold.CauseAccount, Code: 48001, Reason: "WeChat refuses interface B for the whole account"}, 0)
	require.NoError(t, err)
	var apps struct{ Apps []AppStatus }
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.Len(t, apps.Apps, 1)
	h := apps.Apps[0].Hold
	require.NotNil(t, h, "the hold is in the API")
	require.Equal(t, apphold.CauseAccount, h.Cause)
	require.Equal(t, 48001, h.Code)
	require.True(t, h.Until.IsZero())
	_, page := b.do(t, http.MethodGet, "/", authed)
	require.Contains(t, page, `data-field="app-hold" data-cause="account">held (account, errcode 48001) since`)
	require.Contains(t, page, "until released")

	_, ok, err := reg.Release(ctx, testApp)
	require.NoError(t, err)
	require.True(t, ok)
	apps.Apps = nil
	b.getJSON(t, "/api/apps", http.StatusOK, &apps)
	require.Nil(t, apps.Apps[0].Hold)
	_, page = b.do(t, http.MethodGet, "/", authed)
	require.NotContains(t, page, `data-field="app-hold"`)
}
