package wechat

import (
	"fmt"
	"testing"
)

// Every code with an entry is classed as the client's predicates treat it,
// so that explain never contradicts what the worker did.
func TestExplainCodeAgreesWithPredicates(t *testing.T) {
	for code, info := range codeInfos {
		err := &APIError{Code: code}
		var want string
		switch {
		case IsRateLimited(err):
			want = "wait"
		case IsAccountBlocked(err):
			want = "account"
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

// Every configuration answer of the token endpoints explains as "config"
// (40001 is B's token error first), the same as the client's predicates
// class what it really builds from it.
func TestExplainConfigCodes(t *testing.T) {
	for code, reason := range configReasons {
		if code == 40001 {
			continue
		}
		info, ok := ExplainCode(code)
		if !ok || info.Class != "config" {
			t.Errorf("%d (%s): explained as %q (in table: %v)", code, reason, info.Class, ok)
		}
		_, err := parseTokenResponse("wx1", EndpointStableToken, &response{status: 200,
			body: []byte(fmt.Sprintf(`{"errcode":%d,"errmsg":"x"}`, code))}, nil)
		if !IsConfigError(err) {
			t.Errorf("%d: the client does not build a ConfigError: %v", code, err)
		}
	}
	for _, code := range []int{40002, 41002, 41004} {
		if info, _ := ExplainCode(code); info.Class != "config" {
			t.Errorf("%d: %q", code, info.Class)
		}
	}
}
