package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
	"github.com/wxacode/wxacode/jobs/runs"
)

// asynqRoot is where asynqmon is mounted.
const asynqRoot = "/asynq"

// newMonitor builds asynqmon. It opens its own Redis connections
// (closed by Close).
func newMonitor(cfg Config) (*asynqmon.HTTPHandler, error) {
	opt := cfg.AsynqRedis
	if opt == nil {
		var err error
		if opt, err = connOptFrom(cfg.Redis); err != nil {
			return nil, err
		}
	}
	return asynqmon.New(asynqmon.Options{
		RootPath:         asynqRoot,
		RedisConnOpt:     opt,
		ReadOnly:         !cfg.Writable,
		PayloadFormatter: asynqmon.PayloadFormatterFunc(formatPayload),
		ResultFormatter:  asynqmon.ResultFormatterFunc(formatResult),
	}), nil
}

// clientOpt is an asynq.RedisConnOpt that makes a new client with the
// options of an existing one: asynqmon wants to open (and close) its own.
type clientOpt func() redis.UniversalClient

func (f clientOpt) MakeRedisClient() any { return f() }

func connOptFrom(c redis.UniversalClient) (asynq.RedisConnOpt, error) {
	switch c := c.(type) {
	case *redis.Client:
		if c.Options().Addr == "FailoverClient" { // go-redis's mark of a Sentinel client
			break
		}
		o := *c.Options()
		return clientOpt(func() redis.UniversalClient {
			o := o
			// A client stores its push processor in its options; sharing it
			// (or the maintenance config) with a second client breaks both.
			o.PushNotificationProcessor = nil
			if o.MaintNotificationsConfig != nil {
				m := *o.MaintNotificationsConfig
				o.MaintNotificationsConfig = &m
			}
			return redis.NewClient(&o)
		}), nil
	case *redis.ClusterClient:
		o := *c.Options()
		return clientOpt(func() redis.UniversalClient {
			o := o
			o.PushNotificationProcessor = nil
			if o.MaintNotificationsConfig != nil {
				m := *o.MaintNotificationsConfig
				o.MaintNotificationsConfig = &m
			}
			return redis.NewClusterClient(&o)
		}), nil
	}
	return nil, fmt.Errorf("%w: cannot derive asynqmon's connection from this %T: set AsynqRedis", ErrConfig, c)
}

// readOnlyGuard refuses every method but GET and HEAD before asynqmon sees
// the request: asynqmon's own read-only check covers its API only.
func readOnlyGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the dashboard is read-only", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// formatPayload shows the project's tasks by their fields. Other payloads
// are shown as JSON with secret-looking values removed, or by size.
func formatPayload(taskType string, payload []byte) string {
	switch taskType {
	case jobs.TaskType:
		return formatJob(payload)
	case runs.FireTaskType:
		var def campaign.Definition
		if err := json.Unmarshal(payload, &def); err != nil {
			return "undecodable campaign (" + strconv.Itoa(len(payload)) + " bytes)"
		}
		return "campaign " + def.String() // String hides the webhook
	}
	return formatResult(taskType, payload)
}

// formatJob is "app=.. scene=.. page=.. width=.. key=.. run=.. row=..".
func formatJob(payload []byte) string {
	j, err := jobs.Decode(payload)
	if err != nil {
		return fmt.Sprintf("undecodable scene job (%d bytes): %s", len(payload), redactErr(err))
	}
	s := fmt.Sprintf("app=%s scene=%q page=%q width=%d key=%q run=%q row=%d", j.App, j.Scene, j.Page, j.Width, j.Key, j.Run, j.Row)
	if j.High {
		s += " high"
	}
	if j.Force {
		s += " force"
	}
	return s
}

// formatResult shows a JSON result with secrets removed, anything else by
// size only.
func formatResult(_ string, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := safeJSON(b); ok {
		return s
	}
	return fmt.Sprintf("(%d bytes, not shown)", len(b))
}
