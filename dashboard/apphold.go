package dashboard

import (
	"context"
	"html/template"
	"time"

	"github.com/wxacode/wxacode/apphold"
)

// AppHold is an app's fleet-wide hold (wxacode holds): every worker hands
// its jobs back without calling WeChat until Until, or until an operator
// releases it when Until is zero.
type AppHold struct {
	Cause  string    `json:"cause"`
	Code   int       `json:"errcode,omitempty"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until,omitzero"` // zero: until released
}

// holdTemplate renders an app's hold beside its name on the page.
const holdTemplate = `{{define "apphold"}}{{with .}} <span class="err wrap" data-field="app-hold" data-cause="{{.Cause}}">held ({{.Cause}}{{if .Code}}, errcode {{.Code}}{{end}}) since {{when .Since}}, {{if .Until.IsZero}}until released (wxacode holds release){{else}}until {{when .Until}}{{end}}: {{.Reason}}</span>{{end}}{{end}}`

func init() { template.Must(pageTemplate.New("apphold").Parse(holdTemplate)) }

// attachHolds sets each app's Hold from one read of the fleet's holds. A
// failed read is the snapshot's error: a hold must not silently vanish
// from the page.
func (c *Collector) attachHolds(ctx context.Context, apps []AppStatus) ([]AppStatus, error) {
	list, err := c.cfg.Holds.List(ctx)
	if err != nil {
		return nil, err
	}
	byApp := make(map[string]apphold.Hold, len(list))
	for _, h := range list {
		byApp[h.App] = h
	}
	for i := range apps {
		if h, ok := byApp[apps[i].App]; ok {
			apps[i].Hold = &AppHold{Cause: h.Cause, Code: h.Code, Reason: h.Reason, Since: h.Since.UTC(), Until: h.Until}
			delete(byApp, apps[i].App)
		}
	}
	for app, h := range byApp { // held, but without ledger or runs yet
		apps = append(apps, AppStatus{App: app, Hold: &AppHold{Cause: h.Cause, Code: h.Code, Reason: h.Reason, Since: h.Since.UTC(), Until: h.Until}})
	}
	return apps, nil
}
