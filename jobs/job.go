package jobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
)

// TaskType is the asynq task type of a scene job.
const TaskType = "wxacode:code"

// PayloadVersion is the version written into every payload. A worker refuses
// (and records as a failure) payloads of a version it does not know.
const PayloadVersion = 1

// Job is one code to generate with interface B. Zero values mean "WeChat's
// default" and are omitted from the request.
type Job struct {
	V          int     `json:"v"`
	App        string  `json:"app"`
	Scene      string  `json:"scene"`
	Page       string  `json:"page,omitempty"`
	Width      int     `json:"width,omitempty"`
	EnvVersion string  `json:"env_version,omitempty"`
	CheckPath  *bool   `json:"check_path,omitempty"`
	AutoColor  bool    `json:"auto_color,omitempty"`
	LineColor  *[3]int `json:"line_color,omitempty"`
	IsHyaline  bool    `json:"is_hyaline,omitempty"`
	// Key overrides the object key the store would derive from the template.
	Key string `json:"key,omitempty"`
	// Run and Row tie the job to a campaign run and its input row (0 = none).
	Run string `json:"run,omitempty"`
	Row int64  `json:"row,omitempty"`
	// Force regenerates the code even when the object already exists.
	Force bool `json:"force,omitempty"`
	// High puts the job in its app's high-priority queue (on-demand codes,
	// urgent campaigns), taken about HighWeight times as often as bulk work.
	// It does not change the code, so it is not part of the TaskID.
	High bool `json:"high,omitempty"`
	// Budget is an extra rate budget (a limiter key) the job takes from
	// before the app's: a campaign's share of the app's rate. "" = none.
	Budget string `json:"budget,omitempty"`
}

// BudgetKey is the limiter key of a campaign's share of its app's rate.
func BudgetKey(app, campaign string) string { return app + "/campaign/" + campaign }

// TaskID is the deterministic asynq TaskID of the job: a hash of every field
// that changes the code or where it is stored (Force does not), and for a
// campaign job its run and row. Identical jobs share an ID, which is how
// duplicates are detected.
func (j Job) TaskID() string {
	h := sha256.New()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(j.App)
	w(j.Scene)
	w(j.Page)
	w(strconv.Itoa(j.Width))
	w(j.EnvVersion)
	w(boolPtr(j.CheckPath))
	w(strconv.FormatBool(j.AutoColor))
	w(colorString(j.LineColor))
	w(strconv.FormatBool(j.IsHyaline))
	w(j.Key)
	w(j.Run)
	if j.Run != "" {
		// Two rows of a run may hold the same code: each is its own task, so
		// that each row gets an outcome (the second finds the object stored).
		w(strconv.FormatInt(j.Row, 10))
	}
	sum := h.Sum(nil)
	return "c-" + hex.EncodeToString(sum[:16])
}

func boolPtr(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func colorString(c *[3]int) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf("%d,%d,%d", c[0], c[1], c[2])
}

// Encode returns the task payload (JSON, version stamped).
func (j Job) Encode() ([]byte, error) {
	j.V = PayloadVersion
	return json.Marshal(j)
}

// PayloadError says why a payload could not be decoded; the worker records
// it as a permanent failure instead of retrying it forever.
type PayloadError struct {
	Reason string
}

func (e *PayloadError) Error() string { return "jobs: bad payload: " + e.Reason }

// Decode parses a task payload. Unknown versions, bad JSON and missing
// fields give a *PayloadError.
func Decode(payload []byte) (Job, error) {
	var j Job
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return j, &PayloadError{Reason: err.Error()}
	}
	if j.V != PayloadVersion {
		return j, &PayloadError{Reason: fmt.Sprintf("unknown payload version %d (this worker knows %d)", j.V, PayloadVersion)}
	}
	if j.App == "" {
		return j, &PayloadError{Reason: "missing app"}
	}
	return j, nil
}

// QueuePrefix starts the name of every asynq queue this project uses.
const QueuePrefix = "wxacode-"

// highSuffix ends the name of an app's high-priority queue.
const highSuffix = "-high"

// HighWeight is how much more often a worker takes from an app's
// high-priority queue than from its bulk queue.
const HighWeight = 10

// Queue is the asynq queue of an app's bulk jobs: one queue per app, so
// that the worker can weight apps against each other and one busy app
// cannot starve another.
func Queue(app string) string { return QueuePrefix + app }

// HighQueue is the queue of an app's high-priority jobs.
func HighQueue(app string) string { return QueuePrefix + app + highSuffix }

// QueueOf is the queue a job goes to.
func (j Job) QueueOf() string {
	if j.High {
		return HighQueue(j.App)
	}
	return Queue(j.App)
}
