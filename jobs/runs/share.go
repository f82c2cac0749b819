package runs

import (
	"context"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
)

// RateShare returns a Feeder.OnStart that gives a campaign whose
// rate_share is below 1 its own fleet-wide budget (limiter key
// jobs.BudgetKey(app, name)) of that share of its app's current cap, at
// least 1 per minute; its jobs then take from both budgets. capOf reads an
// app's cap per minute and setCap sets a budget's (the fleet-wide
// limiter's State and SetCap). Either one's error is returned, and the run
// does not start.
func RateShare(capOf func(ctx context.Context, app string) (int, error),
	setCap func(ctx context.Context, key string, perMinute int) error) func(context.Context, campaign.Definition) error {
	return func(ctx context.Context, def campaign.Definition) error {
		share := def.RateShareOrDefault()
		if share >= 1 {
			return nil
		}
		appCap, err := capOf(ctx, def.App)
		if err != nil {
			return err
		}
		return setCap(ctx, jobs.BudgetKey(def.App, def.Name), max(1, int(float64(appCap)*share)))
	}
}
