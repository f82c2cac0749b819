package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

// fakeEnv replaces the environment Resolve and Bind read.
func fakeEnv(t *testing.T, env map[string]string) {
	t.Helper()
	old := lookupEnv
	lookupEnv = func(k string) string { return env[k] }
	t.Cleanup(func() { lookupEnv = old })
}

type settings struct {
	n      int
	d      time.Duration
	b      bool
	f      float64
	url    string
	secret string
	mode   string
}

var (
	testN      = withCheck(Int("workers", 4, "workers"), AtLeast(1))
	testD      = withCheck(Duration("wait-time", 30*time.Second, "wait"), Positive)
	testB      = Bool("fast", false, "fast")
	testF      = withCheck(Float("share", 0.5, "share"), Fraction)
	testURL    = Spec[string]{}
	testSecret = Spec[string]{}
	testMode   = Choice("mode", "a", []string{"a", "b"}, "mode")
)

func init() {
	testURL = String("db-url", "db://localhost", "database")
	testURL.Show = func(s string) string { return strings.ReplaceAll(s, "pw", "xx") }
	testSecret = String("token", "", "token")
	testSecret.Secret = true
}

func withCheck[T any](s Spec[T], c func(T) error) Spec[T] {
	s.Check = c
	return s
}

func bind(fs *pflag.FlagSet, s *settings) {
	testN.Bind(fs, &s.n)
	testD.Bind(fs, &s.d)
	testB.Bind(fs, &s.b)
	testF.Bind(fs, &s.f)
	testURL.Bind(fs, &s.url)
	testSecret.Bind(fs, &s.secret)
	testMode.Bind(fs, &s.mode)
}

func parse(t *testing.T, env map[string]string, args ...string) (*settings, *pflag.FlagSet, error) {
	t.Helper()
	fakeEnv(t, env)
	var s settings
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	bind(fs, &s)
	require.NoError(t, fs.Parse(args))
	return &s, fs, Resolve(fs)
}

func TestDefaultsEnvAndFlags(t *testing.T) {
	s, fs, err := parse(t, nil)
	require.NoError(t, err)
	require.Equal(t, settings{n: 4, d: 30 * time.Second, f: 0.5, url: "db://localhost", mode: "a"}, *s)
	require.Equal(t, FromDefault, SourceOf(fs, "workers"))

	s, fs, err = parse(t, map[string]string{"WXACODE_WORKERS": "8", "WXACODE_FAST": "true", "WXACODE_WAIT_TIME": "", "WXACODE_TOKEN": "t0k"}, "--share", "0.25")
	require.NoError(t, err)
	require.Equal(t, 8, s.n)
	require.True(t, s.b)
	require.Equal(t, 30*time.Second, s.d, "an empty variable is unset")
	require.Equal(t, 0.25, s.f)
	require.Equal(t, "t0k", s.secret)
	require.Equal(t, FromEnv, SourceOf(fs, "workers"))
	require.Equal(t, FromFlag, SourceOf(fs, "share"))

	s, _, err = parse(t, map[string]string{"WXACODE_WORKERS": "8"}, "--workers", "2", "--fast")
	require.NoError(t, err)
	require.Equal(t, 2, s.n, "the flag wins over the variable")
	require.True(t, s.b, "a bare bool flag is true")
}

func TestMalformedIsAnErrorNamingSourceValueAndWant(t *testing.T) {
	_, _, err := parse(t, map[string]string{"WXACODE_WORKERS": "1OO", "WXACODE_WAIT_TIME": "30", "WXACODE_MODE": "c"},
		"--share", "2", "--db-url", "nope://u:pw@h", "--token", "")
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	got := map[string]Problem{}
	for _, p := range e.Problems {
		got[p.Name] = p
	}
	require.Equal(t, Problem{Name: "WXACODE_WORKERS", Value: "1OO", Reason: "want a whole number"}, got["WXACODE_WORKERS"])
	require.Equal(t, "want a duration with a unit, such as 30s, 2m or 1h", got["WXACODE_WAIT_TIME"].Reason)
	require.Equal(t, "want one of a, b", got["WXACODE_MODE"].Reason)
	require.Equal(t, Problem{Name: "--share", Value: "2", Reason: "want a fraction from 0 to 1, such as 0.96"}, got["--share"])
	require.Len(t, e.Problems, 4, "the URL parses as text; every problem at once")
	require.Contains(t, err.Error(), `WXACODE_WORKERS="1OO": want a whole number`)
	require.Contains(t, err.Error(), `--share "2": want a fraction`)

	_, _, err = parse(t, map[string]string{"WXACODE_WORKERS": "0"})
	require.EqualError(t, err, `WXACODE_WORKERS="0": want a whole number of at least 1`)
}

func TestSecretsAndShownValues(t *testing.T) {
	fakeEnv(t, map[string]string{"WXACODE_TOKEN": "t0k-secret", "WXACODE_DB_URL": "db://u:pw@h"})
	var s settings
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	bind(fs, &s)
	help := fs.FlagUsages()
	require.Contains(t, help, "(env WXACODE_TOKEN: set)")
	require.NotContains(t, help, "t0k-secret")
	require.Contains(t, help, `(default "db://localhost")`)
	require.Contains(t, help, "--workers int")
	require.Contains(t, help, "--wait-time duration")
	require.Contains(t, help, "(default 30s)")

	withBad := testSecret
	withBad.Check = func(string) error { return errors.New("want more") }
	var v string
	fs = pflag.NewFlagSet("test", pflag.ContinueOnError)
	withBad.Bind(fs, &v)
	err := Resolve(fs)
	require.EqualError(t, err, `WXACODE_TOKEN="(hidden)": want more`, "a secret's value is never shown")
}

func TestEnvName(t *testing.T) {
	require.Equal(t, "WXACODE_WAIT_TIME", testD.EnvName())
	s := testD
	s.Env = NoEnv
	require.Empty(t, s.EnvName())
	s.Env = "OTHER"
	require.Equal(t, "OTHER", s.EnvName())
	require.Equal(t, "1h", formatDuration(time.Hour))
	require.Equal(t, "5m", formatDuration(5*time.Minute))
	require.Equal(t, "1m30s", formatDuration(90*time.Second))
}
