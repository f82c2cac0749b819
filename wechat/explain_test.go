package wechat

import "testing"

// Every code with an entry is classed as the client's predicates treat it,
// so that explain never contradicts what the worker did.
func TestExplainCodeAgreesWithPredicates(t *testing.T) {
	for code, info := range codeInfos {
		err := &APIError{Code: code}
		var want string
		switch {
		case IsRateLimited(err):
			want = "wait"
		case IsTokenInvalid(err):
			want = "token"
		case configReasons[code] != "":
			want = "config"
		case IsPermanent(err):
			want = "permanent"
		default:
			want = "retry"
		}
		if info.Class != want {
			t.Errorf("%d: table says %s, predicates say %s", code, info.Class, want)
		}
		if info.Code != code || info.Meaning == "" || info.Action == "" {
			t.Errorf("%d: incomplete entry %+v", code, info)
		}
	}
	if _, ok := ExplainCode(12345); ok {
		t.Error("unknown code reported as known")
	}
}
