package jobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/storage"
)

// TaskType is the asynq task type of a scene job.
const TaskType = "wxacode:code"

// PayloadVersion is the version written into every payload. A worker refuses
// (and records as a failure) payloads of a version it does not know.
const PayloadVersion = 1

// Job is one code to generate with interface B: the app and the code's
// parameters (code.Params, whose zero values mean WeChat's defaults and
// are omitted from the payload and the request), and where and how to
// store it.
type Job struct {
	V   int    `json:"v"`
	App string `json:"app"`
	code.Params
	// Key overrides the object key the store would derive from the template.
	Key string `json:"key,omitempty"`
	// Run and Row tie the job to a campaign run and its input row (0 = none).
	Run string `json:"run,omitempty"`
	Row int64  `json:"row,omitempty"`
	// Force regenerates the code even when the object already exists.
	Force bool `json:"force,omitempty"`
	// High puts the job in the high lane (on-demand codes, urgent
	// campaigns), taken about HighWeight times as often as the bulk lane.
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
	for _, v := range j.Params.Values() {
		w(v)
	}
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

// KeyParams are the job's key parameters: its app and code, stored as
// the format WeChat returns for it, or as PNG whatever it returns when png
// is set (the worker's --png).
func (j Job) KeyParams(png bool) storage.KeyParams {
	f := j.Rendering.Format()
	if png {
		f = code.PNG
	}
	return storage.KeyParams{AppID: j.App, Params: j.Params, Format: f}
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
