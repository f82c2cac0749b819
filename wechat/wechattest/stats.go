package wechattest

import "maps"

// Stats counts what the fake has seen since it started.
type Stats struct {
	// Calls counts code calls (B, A, C) per appid; "" = no valid token.
	Calls map[string]int64 `json:"calls"`
	// Endpoints counts every request per URL path.
	Endpoints map[string]int64 `json:"endpoints"`
	// Errcodes counts error bodies per errcode, on every endpoint.
	Errcodes map[int]int64 `json:"errcodes"`
	// TokenFetches counts requests per token endpoint, failed ones included.
	TokenFetches map[string]int64 `json:"token_fetches"`
	// TokensIssued counts new tokens (a stable_token call that returns the
	// current token issues none).
	TokensIssued int64 `json:"tokens_issued"`
	// ForcedRefreshes counts stable_token force_refresh rotations.
	ForcedRefreshes int64 `json:"forced_refreshes"`
	// MaxWindowCalls is, per appid, the most interface B calls that arrived
	// within any sliding 60 s window.
	MaxWindowCalls map[string]int `json:"max_window_calls"`
	// Images counts images served (truncated ones included).
	Images int64 `json:"images"`
	// Faults counts injected faults: system_error, bad_gateway, truncate,
	// reset, trailing.
	Faults map[string]int64 `json:"faults"`
}

func newStats() Stats {
	return Stats{Calls: map[string]int64{}, Endpoints: map[string]int64{}, Errcodes: map[int]int64{},
		TokenFetches: map[string]int64{}, MaxWindowCalls: map[string]int{}, Faults: map[string]int64{}}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.Calls = maps.Clone(c.Calls)
	c.Endpoints = maps.Clone(c.Endpoints)
	c.Errcodes = maps.Clone(c.Errcodes)
	c.TokenFetches = maps.Clone(c.TokenFetches)
	c.MaxWindowCalls = maps.Clone(c.MaxWindowCalls)
	c.Faults = maps.Clone(c.Faults)
	return c
}
