package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAuthGuardsEverythingButHealthAndExtra(t *testing.T) {
	b := setup(t, func(c *Config) {
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "up 1") })
		c.Extra = map[string]http.Handler{"/s/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "scene "+strings.TrimPrefix(r.URL.Path, "/s/"))
		})}
	})
	for _, path := range []string{"/", "/api/runs", "/api/apps", "/asynq/", "/asynq/api/queues", "/metrics", "/runs/x", "/nowhere"} {
		resp, body := b.do(t, http.MethodGet, path, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `Basic realm="wxacode dashboard"`, path)
		require.NotContains(t, body, testPass)
		for name, bad := range map[string]func(*http.Request){
			"wrong bearer":        withBearer(testBearer + "x"),
			"bearer as password":  withBasic(testUser, testBearer),
			"wrong user":          withBasic("root", testPass),
			"wrong password":      withBasic(testUser, testPass[:len(testPass)-1]),
			"password as bearer":  withBearer(testPass),
			"empty bearer":        withBearer(""),
			"basic without colon": func(r *http.Request) { r.Header.Set("Authorization", "Basic b3Bz") },
		} {
			resp, _ := b.do(t, http.MethodGet, path, bad)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s with %s", path, name)
		}
	}
	for _, path := range []string{"/", "/api/runs", "/api/apps", "/asynq/", "/asynq/api/queues", "/metrics"} {
		for name, good := range map[string]func(*http.Request){
			"bearer": authed, "basic": withBasic(testUser, testPass),
			"bearer, any case": func(r *http.Request) { r.Header.Set("Authorization", "bearer "+testBearer) },
		} {
			resp, body := b.do(t, http.MethodGet, path, good)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s with %s: %s", path, name, body)
		}
	}
	_, body := b.do(t, http.MethodGet, "/metrics", authed)
	require.Equal(t, "up 1\n", body)
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ok\n", "/s/abc": "scene abc"} {
		resp, body := b.do(t, http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Equal(t, want, body, path)
	}
}

func TestBearerOnlyAndOpenModes(t *testing.T) {
	bearer := setup(t, func(c *Config) { c.Auth = Auth{BearerToken: testBearer} })
	resp, _ := bearer.do(t, http.MethodGet, "/api/runs", withBasic(testUser, testPass))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, `Bearer realm="wxacode dashboard"`, resp.Header.Get("WWW-Authenticate"))
	resp, _ = bearer.do(t, http.MethodGet, "/api/runs", authed)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	open := setup(t, func(c *Config) { c.Auth = Auth{} })
	resp, _ = open.do(t, http.MethodGet, "/api/runs", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "no credentials configured: the caller chose to serve openly")
	resp, _ = open.do(t, http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "no Metrics handler")
}

func TestNewRefusesBadConfig(t *testing.T) {
	b := setup(t, nil)
	for name, cfg := range map[string]Config{
		"no redis":           {},
		"user only":          {Redis: b.rdb, Auth: Auth{User: "u"}},
		"password only":      {Redis: b.rdb, Auth: Auth{Password: strongToken}},
		"extra on healthz":   {Redis: b.rdb, Extra: map[string]http.Handler{"GET /healthz": http.NotFoundHandler()}},
		"extra without func": {Redis: b.rdb, Extra: map[string]http.Handler{"/s/": nil}},
	} {
		_, err := New(cfg)
		require.True(t, errors.Is(err, ErrConfig), "%s: %v", name, err)
	}
}

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		auth     Auth
		insecure bool
		ok       bool
	}{
		{addr: "127.0.0.1:8080", ok: true},
		{addr: "127.1.2.3:8080", ok: true},
		{addr: "[::1]:8080", ok: true},
		{addr: "localhost:8080", ok: true},
		{addr: "LOCALHOST:8080", ok: true},
		{addr: "127.0.0.1", ok: true},
		{addr: ":8080"},
		{addr: "0.0.0.0:8080"},
		{addr: "[::]:8080"},
		{addr: "10.0.0.5:8080"},
		{addr: "dashboard.example.com:8080"},
		{addr: "localhost.example.com:8080"},
		{addr: ":8080", auth: Auth{BearerToken: strongToken}, ok: true},
		{addr: "0.0.0.0:8080", auth: Auth{User: "u", Password: strongToken}, ok: true},
		{addr: "0.0.0.0:8080", auth: Auth{User: "u"}},
		{addr: ":8080", insecure: true, ok: true},
	} {
		err := CheckListen(tc.addr, tc.auth, tc.insecure)
		if tc.ok {
			require.NoError(t, err, tc.addr)
			continue
		}
		require.ErrorIs(t, err, ErrInsecureListen, tc.addr)
		require.Contains(t, err.Error(), tc.addr)
	}
}

const strongToken = "0123456789abcdef"

func TestWeakCredentialsRefused(t *testing.T) {
	for name, a := range map[string]Auth{
		"one-char token":       {BearerToken: "a"},
		"blank token":          {BearerToken: " "},
		"16 spaces":            {BearerToken: strings.Repeat(" ", 16)},
		"15-char token":        {BearerToken: strongToken[:15]},
		"short password":       {User: "ops", Password: "hunter2"},
		"tabs and newlines pw": {User: "ops", Password: "\t\n\t\n\t\n\t\n\t\n\t\n\t\n\t\n"},
	} {
		for _, addr := range []string{"127.0.0.1:8080", "0.0.0.0:8080"} {
			err := CheckListen(addr, a, false)
			require.ErrorIs(t, err, ErrWeakCredential, "%s on %s", name, addr)
			require.Contains(t, err.Error(), "openssl rand -hex 32", name)
			if v := strings.TrimSpace(a.BearerToken + a.Password); len(v) >= 5 {
				require.NotContains(t, err.Error(), v, "%s: the error shows the secret", name)
			}
		}
		_, err := New(Config{Redis: setup(t, nil).rdb, Auth: a})
		require.ErrorIs(t, err, ErrWeakCredential, name)
	}
	require.NoError(t, CheckListen("0.0.0.0:8080", Auth{BearerToken: strongToken}, false))
	require.NoError(t, CheckListen("0.0.0.0:8080", Auth{User: "ops", Password: "correct horse battery"}, false))
}
