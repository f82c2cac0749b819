package code

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Member is one key and its raw value of a JSON object, as written.
type Member struct {
	Key   string
	Value json.RawMessage // the value's bytes, untouched (no UTF-8 repair)
}

// ObjectMembers splits one JSON object into its members in order,
// repeated keys included (encoding/json would keep the last silently).
// Anything but exactly one object, or invalid JSON, is an error.
func ObjectMembers(raw []byte) ([]Member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []Member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", trimJSONErr(err))
		}
		key, _ := t.(string) // inside an object a token here is always a key
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not a JSON object: %v", trimJSONErr(err))
		}
		out = append(out, Member{Key: key, Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", trimJSONErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return out, nil
}

func trimJSONErr(err error) string {
	s := err.Error()
	if rest, ok := bytes.CutPrefix([]byte(s), []byte("json: ")); ok {
		return string(rest)
	}
	return s
}
