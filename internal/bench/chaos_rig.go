package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/internal/chaos"
	"github.com/wxacode/wxacode/internal/httpserver"
	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/jobs/runs"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

const (
	chaosApp    = "wxchaos00000000001"
	chaosPage   = "pages/chaos/index"
	chaosBucket = "chaos"
	chaosPrefix = "codes/" // key prefix of the store in the bucket
	chaosWindow = 1000     // the run's window, so the feeder keeps topping up
	chaosCap    = 4800     // the fleet's cap per minute (the fake allows 5000)
)

// chaosConfig is what every scenario of one suite run shares.
type chaosConfig struct {
	Scenes      int    // scenes per campaign; a scenario may scale it
	Workers     int    // worker child processes
	Concurrency int    // jobs in flight per worker
	LogLevel    string // the children's log level
	// StorageDown is how long the storage-down scenario cuts S3 off.
	StorageDown time.Duration
	// LogDir receives every child's output, one file per process, under
	// LogDir/<scenario>/; the leak scan reads it.
	LogDir string
	// Secret and S3Secret are the app secret and the S3 secret key; no log
	// may contain them.
	Secret, S3Secret string
}

// chaosRig is one scenario's world: a private redis-server, the fake
// WeChat, in-memory S3 behind a proxy that can cut it off, worker child
// processes, and a campaign run. Only loopback addresses are used.
type chaosRig struct {
	cfg     chaosConfig
	logDir  string // this scenario's logs
	work    string // private: Redis data, secret file, campaigns file
	redis   *redistest.Server
	rdb     *redis.Client
	fake    *wechattest.Server
	s3      *chaos.S3
	proxy   *chaos.Proxy
	env     []string
	runs    *runs.Store
	runID   string
	total   int64
	workers *chaosFleet
	closers []func()

	mu        sync.Mutex
	events    []string // unexpected: each fails the scenario
	notes     []string // remarks, in the order their keys first came
	noteKeys  []string
	last45009 time.Duration // when WeChat last answered 45009, from the start
}

// newChaosRig starts everything but the workers and the run. fake are the
// fake WeChat's options at the start; aof runs Redis with an append-only
// file so that a restart keeps the data.
func newChaosRig(cfg chaosConfig, name string, fake wechattest.Options, aof bool) (*chaosRig, error) {
	r := &chaosRig{cfg: cfg, logDir: filepath.Join(cfg.LogDir, name)}
	if err := r.setup(fake, aof); err != nil {
		r.close()
		return nil, err
	}
	r.workers = &chaosFleet{rig: r, byID: map[int]*chaosWorker{}}
	return r, nil
}

func (r *chaosRig) setup(fake wechattest.Options, aof bool) error {
	if err := os.MkdirAll(r.logDir, 0o700); err != nil {
		return err
	}
	var err error
	if r.work, err = os.MkdirTemp("", "wxacode-chaos-work-*"); err != nil {
		return err
	}
	r.closers = append(r.closers, func() { os.RemoveAll(r.work) })
	if err := r.startRedis(aof); err != nil {
		return err
	}
	fakeURL, err := r.startFake(fake)
	if err != nil {
		return err
	}
	if err := r.startS3(); err != nil {
		return err
	}
	return r.writeEnv(fakeURL)
}

func (r *chaosRig) startRedis(aof bool) error {
	var extra []string
	if aof {
		extra = redistest.AOF()
	}
	srv, err := redistest.StartProcess(r.work, extra...)
	if err != nil {
		return err
	}
	r.redis = srv
	r.closers = append(r.closers, func() {
		srv.Stop()
		// Its output is scanned with the other children's.
		if b, err := os.ReadFile(filepath.Join(r.work, "redis.log")); err == nil {
			_ = os.WriteFile(filepath.Join(r.logDir, "redis.log"), b, 0o600)
		}
	})
	r.rdb = redis.NewClient(&redis.Options{Addr: srv.Addr, DialTimeout: 2 * time.Second,
		ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second})
	r.closers = append(r.closers, func() { r.rdb.Close() })
	r.runs = runs.NewStore(r.rdb, "")
	return nil
}

// startFake serves the fake WeChat on a loopback port and returns its URL.
func (r *chaosRig) startFake(o wechattest.Options) (string, error) {
	o.Apps = map[string]string{chaosApp: r.cfg.Secret}
	o.Pages = []string{chaosPage} // the campaign's page is published
	r.fake = wechattest.New(o)
	hs, err := httpserver.Listen("127.0.0.1:0", r.fake, httpserver.Unlimited, nil)
	if err != nil {
		return "", err
	}
	r.closers = append(r.closers, func() { hs.Close() })
	return "http://" + hs.Addr(), nil
}

func (r *chaosRig) startS3() error {
	s3, err := chaos.StartS3(r.work, chaosBucket, "AKIACHAOS0000000", r.cfg.S3Secret)
	if err != nil {
		return err
	}
	r.s3 = s3
	r.closers = append(r.closers, s3.Close)
	r.proxy, err = chaos.NewProxy(strings.TrimPrefix(s3.Endpoint, "http://"))
	if err != nil {
		return err
	}
	r.closers = append(r.closers, r.proxy.Close)
	return nil
}

// writeEnv writes the secret and campaigns files and the children's
// environment. The AWS settings keep a developer's profile out of it.
func (r *chaosRig) writeEnv(fakeURL string) error {
	secretFile := filepath.Join(r.work, "secret")
	if err := os.WriteFile(secretFile, []byte(r.cfg.Secret), 0o600); err != nil {
		return err
	}
	none := filepath.Join(r.work, "no-such-aws-config")
	r.env = []string{
		"WXACODE_REDIS_URL=" + r.redis.URL(), "WXACODE_APPID=" + chaosApp, "WXACODE_SECRET=",
		"WXACODE_SECRET_FILE=" + secretFile, "WXACODE_APPS_FILE=", "WXACODE_KEY_TEMPLATE=",
		"WXACODE_STORAGE_URL=s3://" + chaosBucket + "/" + chaosPrefix, "WXACODE_S3_PATH_STYLE=true",
		"WXACODE_WECHAT_BASE_URL=" + fakeURL, "WXACODE_RATE_PER_MINUTE=" + strconv.Itoa(chaosCap),
		"WXACODE_FORCE_RATE=false", "WXACODE_CONCURRENCY=" + strconv.Itoa(r.cfg.Concurrency),
		"WXACODE_LOG_LEVEL=" + r.cfg.LogLevel, "WXACODE_LOG_FORMAT=json", "WXACODE_METRICS_LISTEN=",
		"WXACODE_CAMPAIGNS_FILE=" + filepath.Join(r.work, "campaigns.yaml"),
		"AWS_ENDPOINT_URL_S3=http://" + r.proxy.Addr(), "AWS_ENDPOINT_URL=", "AWS_REGION=" + r.s3.Region,
		"AWS_ACCESS_KEY_ID=" + r.s3.AccessKey, "AWS_SECRET_ACCESS_KEY=" + r.s3.SecretKey, "AWS_SESSION_TOKEN=",
		"AWS_PROFILE=", "AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CA_BUNDLE=",
	}
	return nil
}

// close stops the workers and everything the rig started, newest first.
func (r *chaosRig) close() {
	if r.workers != nil {
		r.workers.stopAll()
	}
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// event records something that must not happen (a worker that died by
// itself, a hang); any event fails the scenario.
func (r *chaosRig) event(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

// setNote sets the remark named key on the scenario's row (a later call
// with the same key replaces it, e.g. a running count).
func (r *chaosRig) setNote(key, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := fmt.Sprintf(format, args...)
	for i, k := range r.noteKeys {
		if k == key {
			r.notes[i] = text
			return
		}
	}
	r.noteKeys, r.notes = append(r.noteKeys, key), append(r.notes, text)
}

// findings returns copies of the events and notes so far.
func (r *chaosRig) findings() (events, notes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...), append([]string(nil), r.notes...)
}

// startRun writes a campaign of n generated scenes ("c1" .. "cN" on
// chaosPage) and starts it with `wxacode campaign run`, as an operator
// would.
func (r *chaosRig) startRun(ctx context.Context, n int) error {
	yaml := fmt.Sprintf("campaigns:\n  - name: chaos\n    app: %s\n    page: %s\n    window: %d\n"+
		"    source:\n      generator: {pattern: \"c{n}\", from: 1, to: %d}\n", chaosApp, chaosPage, chaosWindow, n)
	if err := os.WriteFile(filepath.Join(r.work, "campaigns.yaml"), []byte(yaml), 0o600); err != nil {
		return err
	}
	out, err := r.runChild(ctx, "campaign-run.log", "campaign", "run", "chaos")
	if err != nil {
		return fmt.Errorf("campaign run: %w (see %s)", err, filepath.Join(r.logDir, "campaign-run.log"))
	}
	m := regexp.MustCompile(`(?m)^run (\S+) started`).FindStringSubmatch(out)
	if m == nil {
		return errors.New("campaign run: no run id in its output")
	}
	id := m[1]
	r.runID, r.total = id, int64(n)
	return nil
}

// waitFinished waits until frac of the run's rows have an outcome. Redis
// errors (it may be down on purpose) are waited out.
func (r *chaosRig) waitFinished(ctx context.Context, frac float64) error {
	want := int64(frac * float64(r.total))
	for {
		if _, c, err := r.runs.Get(ctx, r.runID); err == nil && c.Finished() >= want {
			return nil
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}
