package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wxacode/wxacode/jobs"
	"github.com/wxacode/wxacode/jobs/campaign"
)

// A feeder resumes a run at its checkpoint (row 2 here): the rows before it
// are not read again, and indexes stay those of the full source.
func Example() {
	f, err := campaign.Parse([]byte(`
campaigns:
  - name: nightly
    app: wx0123456789abcdef
    source: {generator: {pattern: "c{n:04}", from: 1, to: 4}}
    schedule: "0 2 * * *"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := f.Get("nightly")
	fmt.Println(d.CronSpec(), d.WindowOrDefault(), d.SkipExistingOrDefault())
	src, err := d.Open(context.Background(), nil, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	for {
		i, row, err := src.Next()
		var rejected *jobs.RowError
		switch {
		case errors.Is(err, io.EOF):
			return
		case errors.As(err, &rejected):
			fmt.Println(i, "rejected:", rejected)
			continue
		case err != nil:
			fmt.Println(err)
			return
		}
		fmt.Println(i, row.Job.App, row.Job.Scene)
	}
	// Output:
	// CRON_TZ=Asia/Shanghai 0 2 * * * 100000 true
	// 2 wx0123456789abcdef c0003
	// 3 wx0123456789abcdef c0004
}

// Every problem of a campaigns file is reported at once, naming the
// campaign and the field.
func ExampleParse_errors() {
	_, err := campaign.Parse([]byte(`
campaigns:
  - name: nightly
    app: wx0123456789abcdef
    source: {generator: {pattern: "c{n}", from: 10, to: 1}}
    schedule: "61 * * * *"
    rate_share: 1.5
`))
	fmt.Println(err)
	// Output:
	// campaign "nightly": source.generator.to "1": must be at least from (10)
	// campaign "nightly": schedule "61 * * * *": not a cron schedule (5 fields: minute hour day-of-month month day-of-week, or @daily, @every 1h...): end of range (61) above maximum (59): 61
	// campaign "nightly": rate_share "1.5": must be more than 0 and at most 1 (a share of the app's rate)
}
