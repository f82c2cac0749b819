package preflight_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/preflight"
	"github.com/wxacode/wxacode/storage"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/wechat/wechattest"
	"github.com/wxacode/wxacode/worker"
)

func TestAppsAndReport(t *testing.T) {
	fake := wechattest.New(wechattest.Options{Apps: map[string]string{"wxgood0000000001": "good-secret", "wxwall0000000001": "wall-secret"},
		TokenErrors: map[string]int{"wxwall0000000001": 40164}})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := wechat.NewClient(wechat.Config{BaseURL: srv.URL})
	apps := []worker.AppConfig{
		{AppID: "wxgood0000000001", Secret: "good-secret"},
		{AppID: "wxgood0000000001", Secret: "bad-secret"},
		{AppID: "wxwall0000000001", Secret: "wall-secret"},
		{AppID: "wxnobody00000001", Secret: "x"},
		{AppID: "wxfile0000000001", SecretFile: "/nonexistent/secret"},
	}
	rep := preflight.Apps(context.Background(), apps, client, nil)
	require.Len(t, rep, len(apps))
	require.True(t, rep[0].OK, "%+v", rep[0])
	for i, want := range []string{"", "the app secret is wrong", "IP whitelist", "the appid is wrong", "secret_file"} {
		if i == 0 {
			continue
		}
		require.False(t, rep[i].OK)
		require.True(t, rep[i].Config, "%+v", rep[i])
		require.Contains(t, rep[i].Advice, want, "%+v", rep[i])
		require.Equal(t, apps[i].AppID, rep[i].Target)
	}
	require.NotContains(t, rep.Err().Error(), "bad-secret")
	require.Zero(t, fake.Stats().Calls["wxgood0000000001"], "no code call")
	require.EqualValues(t, 4, fake.Stats().TokenFetches["/cgi-bin/stable_token"], "one stable_token call per app with a secret")

	st, err := storage.OpenLocal(t.TempDir())
	require.NoError(t, err)
	rep = append(preflight.Report{preflight.Store(context.Background(), st.Dir(), st)}, rep[0])
	require.NoError(t, rep.Err())
	var b bytes.Buffer
	rep.Print(&b)
	require.Regexp(t, `(?m)^CHECK\s+TARGET\s+RESULT\s+ADVICE\nstore\s+\S+\s+ok: writable .*\ntoken\s+wxgood0000000001\s+ok: `, b.String())

	// An outage alone is not a configuration problem.
	down := preflight.Report{preflight.App(context.Background(), apps[0], wechat.NewClient(wechat.Config{BaseURL: "http://127.0.0.1:1"}), nil)}
	var pe *preflight.Error
	require.ErrorAs(t, down.Err(), &pe)
	require.False(t, pe.Config(), "%v", pe)
}
