package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wxacode/wxacode/apphold"
)

// heldDesc is wxacode_app_held{app,cause}.
var heldDesc = prometheus.NewDesc("wxacode_app_held",
	"1 for each app held for the whole fleet (wxacode holds), labelled with the hold's cause (account, config, ip-rejected, token-quota, token-rejected).",
	[]string{"app", "cause"}, nil)

// holds collects the fleet's app holds at each scrape (one HGETALL).
type holds struct{ reg *apphold.Registry }

// Holds returns a collector of wxacode_app_held over reg. A failed read
// becomes an invalid metric, which makes the scrape report the error.
func Holds(reg *apphold.Registry) prometheus.Collector { return holds{reg} }

func (h holds) Describe(ch chan<- *prometheus.Desc) { ch <- heldDesc }

func (h holds) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := h.reg.List(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(heldDesc, err)
		return
	}
	for _, hd := range list {
		ch <- prometheus.MustNewConstMetric(heldDesc, prometheus.GaugeValue, 1, hd.App, hd.Cause)
	}
}
