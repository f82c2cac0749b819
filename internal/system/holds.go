package system

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/apphold"
)

// WarnHeld prints a warning for every app held for the fleet (apphold)
// that has work waiting, with the hold's cause, errcode, since and until
// and what to do. It returns how many apps it warned about.
func WarnHeld(ctx context.Context, w io.Writer, rdb redis.UniversalClient) (int, error) {
	list, err := apphold.New(rdb, apphold.Config{}).List(ctx)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	work, err := appWork(ctx, rdb)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range list {
		if len(work[h.App]) == 0 {
			continue
		}
		n++
		fmt.Fprintf(w, "warning: app %s is held for the fleet (%s, errcode %d, since %s, %s): %s; its work (%s) waits, nothing is spent or failed; fix the cause, then: wxacode holds release %s\n",
			h.App, h.Cause, h.Code, h.Since.UTC().Format(time.RFC3339), holdEnd(h), h.Reason, strings.Join(work[h.App], ", "), h.App)
	}
	return n, nil
}

func holdEnd(h apphold.Hold) string {
	if h.Until.IsZero() {
		return "until released"
	}
	return "until " + h.Until.UTC().Format(time.RFC3339)
}
