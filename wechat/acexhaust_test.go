package wechat

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// Once WeChat answers 45029 (the account's A+C codes are spent, whatever
// wxacode counted: the fake's lifetime budget is 2 here, the client's 10),
// no further A or C request is sent for the app: by this client, and, with
// the shared Redis counter, by any other process.
func TestAC45029HoldsTheBudget(t *testing.T) {
	ctx := context.Background()
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("shared ", shared), func(t *testing.T) {
			e := newEnv(t, func(o *wechattest.Options) { o.ACBudget = 2 })
			tok := e.token(t)
			cfg := Config{BaseURL: e.srv.URL, Logger: testLogger(), ACBudget: 10}
			if shared {
				cfg.ACCounter = NewRedisACCounter(redistest.Start(t).Client(t), "")
			}
			c := NewClient(cfg)
			for i := range 2 {
				_, err := c.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: fmt.Sprint("pages/a?i=", i)})
				require.NoError(t, err)
			}
			_, err := c.CreateQRCodeC(ctx, appA, tok, "pages/c", 430)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, 45029, ae.Code)
			sent := e.fake.Stats().Calls[appA]
			var be *BudgetError
			_, err = c.GetQRCodeA(ctx, appA, tok, QRCodeRequest{Path: "pages/a?i=9"})
			require.ErrorAs(t, err, &be, "refused without a call")
			if shared {
				other := NewClient(cfg) // another process, same Redis count
				_, err = other.CreateQRCodeC(ctx, appA, tok, "pages/c2", 430)
				require.ErrorAs(t, err, &be)
				used, err := cfg.ACCounter.(*RedisACCounter).Used(ctx, appA)
				require.NoError(t, err)
				require.GreaterOrEqual(t, used, ACLifetime)
			}
			require.Equal(t, sent, e.fake.Stats().Calls[appA], "no A or C call after the 45029")
		})
	}
}
